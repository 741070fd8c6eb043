//! The tokens a server adds around the prompt (chat template, BOS): measured once per run
//! with a one-token request, so that prompts can be sized to the exact input length.

use std::time::Duration;

use super::{PromptFactory, Tokenizer};
use crate::client::{self, Adapter, GenerationParams};

/// Index of the probe prompt, far from the indices of measured prompts.
const PROBE_INDEX: u64 = u64::MAX / 2;
const PROBE_TOKENS: u32 = 16;

/// Prompt tokens the server reports beyond the prompt's own, or `None` when the server
/// does not report `usage`.
pub async fn measure_template_overhead(
    http: &reqwest::Client,
    url: &reqwest::Url,
    adapter: &dyn Adapter,
    model: &str,
    factory: &PromptFactory,
    tokenizer: &Tokenizer,
    timeout: Duration,
) -> Option<u32> {
    let content = factory.build(PROBE_INDEX, PROBE_TOKENS);
    let params = GenerationParams {
        model: model.to_owned(),
        max_tokens: 1,
        ignore_eos: false,
        stream: false,
    };
    let exchange = client::send(
        http,
        url,
        adapter.body(&params, &content).into(),
        false,
        timeout,
    )
    .await;
    let usage = exchange.usage?;
    let own = tokenizer.count(&content).await.ok()? as u32;
    Some(usage.prompt_tokens.saturating_sub(own))
}
