//! One probe request before measuring (one output token): it measures the tokens a server
//! adds around the prompt (chat template, BOS), so that prompts can be sized to the exact
//! input length, and finds out whether the server accepts `ignore_eos`.

use std::time::Duration;

use super::PromptFactory;
use crate::client::{
    self, Adapter, ErrorKind, Exchange, GenerationParams, Prompt, Sending, StreamClient,
};

/// Index of the probe prompt, far from the indices of measured prompts.
const PROBE_INDEX: u64 = u64::MAX / 2;
const PROBE_TOKENS: u32 = 16;

/// What the probe learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// Prompt tokens the server reports beyond the probe's own (one per word), or `None`
    /// when it reports no `usage`. Measured against the server's count, it also absorbs any
    /// token a tokenizer adds to every text.
    pub template_overhead: Option<u32>,
    /// The server answered 400 to a request with `ignore_eos`, and accepted it without.
    pub ignore_eos_rejected: bool,
}

/// Sends the probe, with `ignore_eos` when `ignore_eos` is asked for.
pub async fn probe_server(
    http: &StreamClient,
    uri: &http::Uri,
    adapter: &dyn Adapter,
    model: &str,
    factory: &PromptFactory,
    ignore_eos: bool,
    timeout: Duration,
) -> Probe {
    let content = Prompt::Text(factory.build(PROBE_INDEX, PROBE_TOKENS));
    let send = |ignore_eos: bool| {
        let params = GenerationParams {
            model: model.to_owned(),
            max_tokens: 1,
            ignore_eos,
            stream: false,
        };
        let how = Sending {
            stream: false,
            timeout,
            request_id: None,
            keep_reply: false,
            adapter,
        };
        let body = adapter.body(&params, &content).into();
        async move { client::send(http, uri, body, &how).await }
    };
    let mut exchange = send(ignore_eos).await;
    let ignore_eos_rejected = ignore_eos && rejects_ignore_eos(&exchange) && {
        exchange = send(false).await;
        exchange.error.is_none()
    };
    Probe {
        template_overhead: exchange
            .usage
            .map(|u| u.prompt_tokens.saturating_sub(PROBE_TOKENS)),
        ignore_eos_rejected,
    }
}

/// A 400 (or 422) whose message names `ignore_eos`, as OpenAI's API and strict proxies send.
fn rejects_ignore_eos(exchange: &Exchange) -> bool {
    exchange.error.as_ref().is_some_and(|e| {
        matches!(e.kind, ErrorKind::Http(400 | 422)) && e.message.contains("ignore_eos")
    })
}
