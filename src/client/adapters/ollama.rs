//! `ollama-chat` and `ollama-generate`: Ollama's `POST /api/chat` and `/api/generate`,
//! `options.num_predict`, streamed as newline-delimited JSON (not SSE). Each record has
//! the new `message.content` (or `response`); the last has `done: true` and the server's
//! `prompt_eval_count`, `eval_count` and their durations (nanoseconds), kept as usage and
//! as timings in llama.cpp's names. Ollama has no `ignore_eos`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{chat_messages, Adapter, ChatMessage, GenerationParams, Prompt};
use crate::client::chunk::{error_text, non_empty, timings, ChunkInfo, StreamState, Usage};
use crate::client::framing::Framing;
use crate::client::sse::SseEvent;

/// Ollama's chat (`chat: true`) or generate endpoint.
pub struct OllamaAdapter {
    pub chat: bool,
}

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    messages: Option<Vec<ChatMessage<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt: Option<&'a str>,
    stream: bool,
    options: Options,
}

#[derive(Serialize)]
struct Options {
    num_predict: u32,
}

#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow, default)]
    message: Option<Message<'a>>,
    #[serde(borrow, default)]
    response: Option<Cow<'a, str>>,
    #[serde(default)]
    done: bool,
    #[serde(default)]
    prompt_eval_count: u32,
    #[serde(default)]
    eval_count: u32,
    #[serde(default)]
    prompt_eval_duration: u64,
    #[serde(default)]
    eval_duration: u64,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    thinking: Option<Cow<'a, str>>,
}

const NS_PER_MS: f64 = 1e6;

impl Adapter for OllamaAdapter {
    fn path(&self, _model: &str, _stream: bool) -> String {
        if self.chat {
            "api/chat"
        } else {
            "api/generate"
        }
        .into()
    }

    fn body(&self, params: &GenerationParams, prompt: &Prompt) -> Vec<u8> {
        let text = (!self.chat).then(|| prompt.as_text());
        super::to_json(&Body {
            model: &params.model,
            messages: self.chat.then(|| chat_messages(prompt)),
            prompt: text.as_deref(),
            stream: params.stream,
            options: Options {
                num_predict: params.max_tokens,
            },
        })
    }

    fn holds_output_length(&self) -> bool {
        false
    }

    fn read(
        &self,
        event: SseEvent<'_>,
        _state: &mut StreamState,
        reply: Option<&mut String>,
    ) -> Result<ChunkInfo, serde_json::Error> {
        let raw: Record<'_> = serde_json::from_slice(event.data)?;
        let content = match &raw.message {
            Some(m) => m.content.as_deref(),
            None => raw.response.as_deref(),
        };
        if let Some(reply) = reply {
            reply.push_str(content.unwrap_or_default());
        }
        let thinking = raw.message.as_ref().and_then(|m| m.thinking.as_deref());
        let finished = raw.done.then(|| {
            let usage = Usage {
                prompt_tokens: raw.prompt_eval_count,
                completion_tokens: raw.eval_count,
                cached_tokens: None,
            };
            let prompt_ms = raw.prompt_eval_duration as f64 / NS_PER_MS;
            let eval_ms = raw.eval_duration as f64 / NS_PER_MS;
            (
                usage,
                timings(raw.prompt_eval_count, prompt_ms, raw.eval_count, eval_ms),
            )
        });
        let (usage, timings) = finished.unzip();
        Ok(ChunkInfo {
            has_content: non_empty(content) || non_empty(thinking),
            tokens: None,
            usage,
            timings: timings.flatten(),
            error: error_text(raw.error),
            done: raw.done,
        })
    }

    fn framing(&self) -> Framing {
        Framing::Ndjson
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{body_json, content, read_all, recorded};
    use super::*;

    const CHAT: OllamaAdapter = OllamaAdapter { chat: true };
    const GENERATE: OllamaAdapter = OllamaAdapter { chat: false };

    #[test]
    fn bodies_of_both_endpoints() {
        let prompt = Prompt::Text("hi".into());
        assert_eq!(
            body_json(&CHAT, true, true, &prompt),
            serde_json::json!({"model": "m", "stream": true, "options": {"num_predict": 8},
                "messages": [{"role": "user", "content": "hi"}]})
        );
        assert_eq!(
            body_json(&GENERATE, false, false, &prompt),
            serde_json::json!({"model": "m", "stream": false, "options": {"num_predict": 8},
                "prompt": "hi"})
        );
        assert_eq!(
            (CHAT.path("m", true), GENERATE.path("m", true)),
            ("api/chat".into(), "api/generate".into())
        );
    }

    #[test]
    fn records_split_across_reads_and_server_truth() {
        let bytes = recorded("ollama-chat.ndjson");
        for read_size in [1, 17, bytes.len()] {
            let (chunks, reply) = read_all(&CHAT, &bytes, read_size);
            assert_eq!(reply, " Paris is the capital");
            assert_eq!(content(&chunks), (0, 4));
            let last = chunks.last().unwrap();
            assert!(last.done);
            let usage = last.usage.unwrap();
            assert_eq!((usage.prompt_tokens, usage.completion_tokens), (26, 4));
            let timings: serde_json::Value =
                serde_json::from_str(last.timings.as_ref().unwrap().get()).unwrap();
            assert_eq!(timings["predicted_per_token_ms"], 22.0);
            assert_eq!(timings["prompt_ms"], 342.546);
        }
        let (chunks, reply) = read_all(&GENERATE, &recorded("ollama-generate.ndjson"), 9);
        assert_eq!(reply, " Paris is");
        assert_eq!(chunks.last().unwrap().usage.unwrap().completion_tokens, 2);
    }

    #[test]
    fn an_error_record() {
        let (chunks, _) = read_all(&CHAT, &recorded("ollama-error.ndjson"), 4);
        assert!(chunks[1]
            .error
            .as_deref()
            .unwrap()
            .contains("unexpected EOF"));
    }
}
