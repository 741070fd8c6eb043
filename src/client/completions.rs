//! `/v1/completions`: the prompt is sent as raw text.

use super::adapter::{common_fields, Adapter, GenerationParams};

pub struct CompletionsAdapter;

impl Adapter for CompletionsAdapter {
    fn path(&self) -> &'static str {
        "v1/completions"
    }

    fn body(&self, params: &GenerationParams, prompt: &str) -> Vec<u8> {
        let mut body = common_fields(params);
        body.insert("prompt".into(), prompt.into());
        serde_json::to_vec(&body).expect("JSON body serializes")
    }
}
