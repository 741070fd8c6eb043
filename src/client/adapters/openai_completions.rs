//! `openai-completions`: `/v1/completions`. The prompt is sent as raw text (a chat as its
//! messages' lines).

use serde::Serialize;

use super::{openai, Adapter, GenerationParams, Prompt};
use crate::client::chunk::{ChunkInfo, StreamState};
use crate::client::sse::SseEvent;

pub struct CompletionsAdapter;

#[derive(Serialize)]
struct CompletionInput<'a> {
    prompt: &'a str,
}

impl Adapter for CompletionsAdapter {
    fn path(&self, _model: &str, _stream: bool) -> String {
        "v1/completions".into()
    }

    fn body(&self, params: &GenerationParams, prompt: &Prompt) -> Vec<u8> {
        let prompt = &prompt.as_text();
        openai::body(params, CompletionInput { prompt })
    }

    fn read(
        &self,
        event: SseEvent<'_>,
        _state: &mut StreamState,
        reply: Option<&mut String>,
    ) -> Result<ChunkInfo, serde_json::Error> {
        openai::parse_into(event.data, reply)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::body_json;
    use super::*;

    #[test]
    fn without_stream_or_ignore_eos() {
        let prompt = Prompt::Text("a \"quoted\" prompt".into());
        assert_eq!(
            body_json(&CompletionsAdapter, false, false, &prompt),
            serde_json::json!({"model": "m", "max_tokens": 8, "stream": false,
                "prompt": "a \"quoted\" prompt"})
        );
    }
}
