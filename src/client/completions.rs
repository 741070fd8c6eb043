//! `/v1/completions`: the prompt is sent as raw text (a chat as its messages' lines).

use serde::Serialize;

use super::adapter::{body, Adapter, GenerationParams, Prompt};

pub struct CompletionsAdapter;

#[derive(Serialize)]
struct CompletionInput<'a> {
    prompt: &'a str,
}

impl Adapter for CompletionsAdapter {
    fn path(&self) -> &'static str {
        "v1/completions"
    }

    fn body(&self, params: &GenerationParams, prompt: &Prompt) -> Vec<u8> {
        let prompt = &prompt.as_text();
        body(params, CompletionInput { prompt })
    }
}
