//! `openai-chat`: `/v1/chat/completions`. A text prompt is one user message; a chat is sent
//! as it is. Served by vLLM, SGLang, llama.cpp, TGI, Ollama, LMDeploy and OpenAI.

use serde::Serialize;

use super::{chat_messages, openai, Adapter, ChatMessage, GenerationParams, Prompt};
use crate::client::chunk::{ChunkInfo, StreamState};
use crate::client::sse::SseEvent;

pub struct ChatAdapter;

#[derive(Serialize)]
struct ChatInput<'a> {
    messages: Vec<ChatMessage<'a>>,
}

impl Adapter for ChatAdapter {
    fn path(&self, _model: &str, _stream: bool) -> String {
        "v1/chat/completions".into()
    }

    fn body(&self, params: &GenerationParams, prompt: &Prompt) -> Vec<u8> {
        let messages = chat_messages(prompt);
        openai::body(params, ChatInput { messages })
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
    fn streams_with_usage_and_ignore_eos() {
        let prompt = Prompt::Text("a \"quoted\" prompt".into());
        assert_eq!(
            body_json(&ChatAdapter, true, true, &prompt),
            serde_json::json!({"model": "m", "max_tokens": 8, "stream": true,
                "stream_options": {"include_usage": true}, "ignore_eos": true,
                "messages": [{"role": "user", "content": "a \"quoted\" prompt"}]})
        );
    }
}
