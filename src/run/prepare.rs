//! What a configuration learns from its server before measuring: the model (the plan's, or
//! the first the server lists), a tokenizer and the prompt vocabulary calibrated to it, the
//! tokens the server adds around a prompt and whether it takes `ignore_eos` (one probe
//! request), the lengths of a prompt set's entries, and the server's identity.

use super::RunError;
use crate::client::{request_uri, Adapter, StreamClient};
use crate::result::ServerInfo;
use crate::scenario::Plan;
use crate::server::{context_length, first_model, server_info};
use crate::workload::{probe_server, Probe, PromptFactory, RequestMaker, Tokenizer};

/// What a run learns about its target before measuring.
pub(super) struct Prepared {
    pub model: String,
    /// The generation endpoint of the model, in the plan's dialect.
    pub uri: http::Uri,
    pub tokenizer: Tokenizer,
    /// The requests of the points, from the calibrated prompt vocabulary.
    pub maker: RequestMaker,
    pub probe: Probe,
    pub server: ServerInfo,
    /// The context length the server advertises, in tokens.
    pub context_tokens: Option<u64>,
}

impl Prepared {
    /// Whether requests may ask for `ignore_eos`: the plan asks and the server takes it.
    pub fn ignore_eos(&self, plan: &Plan) -> bool {
        plan.request.ignore_eos && !self.probe.ignore_eos_rejected
    }
}

/// Prepares the server at `base_url`, spoken to through `adapter`.
pub(super) async fn prepare(
    plan: &Plan,
    http: &reqwest::Client,
    streams: &StreamClient,
    base_url: &reqwest::Url,
    adapter: &dyn Adapter,
) -> Result<Prepared, RunError> {
    let target = &plan.target;
    let model = match &target.model {
        Some(m) => m.clone(),
        None => first_model(http, base_url, target.api)
            .await
            .map_err(RunError::Model)?,
    };
    let endpoint = |stream: bool| {
        let url = base_url
            .join(&adapter.path(&model, stream))
            .expect("a relative path joins any http URL");
        request_uri(&url)
    };
    let (uri, probe_uri) = (endpoint(plan.request.stream)?, endpoint(false)?);
    let tokenizer = Tokenizer::resolve(target.tokenizer, http, base_url, &model).await?;
    let factory = PromptFactory::calibrate(&tokenizer, plan.seed)
        .await?
        .with_shared_prefix(plan.shared_prefix);
    let ignore_eos = plan.request.ignore_eos;
    let probe = probe_server(
        streams,
        &probe_uri,
        adapter,
        &model,
        &factory,
        ignore_eos,
        plan.timeout,
    )
    .await;
    if ignore_eos && !adapter.holds_output_length() {
        tracing::warn!(
            "the {} dialect cannot ask for exactly max_tokens: output lengths are up to the model",
            target.api.name()
        );
    }
    if probe.ignore_eos_rejected {
        tracing::warn!("the server rejects ignore_eos: output lengths are up to the model");
    }
    let overhead = probe.template_overhead.unwrap_or(0);
    let maker = RequestMaker::new(plan, factory, &tokenizer, overhead).await?;
    let server = server_info(http, base_url, &model, target.api).await;
    let context_tokens = context_length(http, base_url, &model, target.api).await;
    Ok(Prepared {
        context_tokens,
        model,
        uri,
        tokenizer,
        maker,
        probe,
        server,
    })
}
