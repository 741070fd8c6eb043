//! The tokens a server adds around the prompt (chat template, BOS): measured once per run
//! with a one-token request, so that prompts can be sized to the exact input length.

use std::time::Duration;

use super::PromptFactory;
use crate::client::{self, Adapter, GenerationParams};

/// Index of the probe prompt, far from the indices of measured prompts.
const PROBE_INDEX: u64 = u64::MAX / 2;
const PROBE_TOKENS: u32 = 16;

/// Prompt tokens the server reports beyond the probe's own (one per word), or `None` when
/// the server does not report `usage`. Measured against the server's count, it also
/// absorbs any token a tokenizer adds to every text.
pub async fn measure_template_overhead(
    http: &reqwest::Client,
    url: &reqwest::Url,
    adapter: &dyn Adapter,
    model: &str,
    factory: &PromptFactory,
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
    Some(exchange.usage?.prompt_tokens.saturating_sub(PROBE_TOKENS))
}
