//! `/v1/completions`: the prompt is sent as raw text.

use serde::Serialize;

use super::adapter::{body, Adapter, GenerationParams};

pub struct CompletionsAdapter;

#[derive(Serialize)]
struct CompletionInput<'a> {
    prompt: &'a str,
}

impl Adapter for CompletionsAdapter {
    fn path(&self) -> &'static str {
        "v1/completions"
    }

    fn body(&self, params: &GenerationParams, prompt: &str) -> Vec<u8> {
        body(params, CompletionInput { prompt })
    }
}
