//! `/v1/chat/completions`: the prompt is one user message.

use super::adapter::{common_fields, Adapter, GenerationParams};

pub struct ChatAdapter;

impl Adapter for ChatAdapter {
    fn path(&self) -> &'static str {
        "v1/chat/completions"
    }

    fn body(&self, params: &GenerationParams, prompt: &str) -> Vec<u8> {
        let mut body = common_fields(params);
        body.insert(
            "messages".into(),
            serde_json::json!([{"role": "user", "content": prompt}]),
        );
        serde_json::to_vec(&body).expect("JSON body serializes")
    }
}
