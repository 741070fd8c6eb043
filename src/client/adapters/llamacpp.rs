//! `llamacpp`: llama.cpp's native `POST /completion` (`prompt`, `n_predict`). Each event
//! has the new `content`, its token ids and the running `tokens_predicted`; the last one
//! has `stop: true`, `tokens_evaluated` (the prompt) and the server's `timings`. No
//! `[DONE]` follows.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{Adapter, GenerationParams, Prompt};
use crate::client::chunk::{cache_n, error_text, non_empty, ChunkInfo, StreamState, Usage};
use crate::client::sse::SseEvent;

pub struct LlamacppAdapter;

#[derive(Serialize)]
struct Body<'a> {
    prompt: &'a str,
    n_predict: u32,
    stream: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    ignore_eos: bool,
}

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow, default)]
    content: Option<Cow<'a, str>>,
    #[serde(default)]
    stop: bool,
    #[serde(default)]
    tokens_predicted: Option<u32>,
    #[serde(default)]
    tokens_evaluated: Option<u32>,
    #[serde(default)]
    timings: Option<Box<RawValue>>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

impl Adapter for LlamacppAdapter {
    fn path(&self, _model: &str, _stream: bool) -> String {
        "completion".into()
    }

    fn body(&self, params: &GenerationParams, prompt: &Prompt) -> Vec<u8> {
        super::to_json(&Body {
            prompt: &prompt.as_text(),
            n_predict: params.max_tokens,
            stream: params.stream,
            ignore_eos: params.ignore_eos,
        })
    }

    fn read(
        &self,
        event: SseEvent<'_>,
        state: &mut StreamState,
        reply: Option<&mut String>,
    ) -> Result<ChunkInfo, serde_json::Error> {
        let raw: Event<'_> = serde_json::from_slice(event.data)?;
        if let Some(reply) = reply {
            reply.push_str(raw.content.as_deref().unwrap_or_default());
        }
        let tokens = raw.tokens_predicted.map(|n| state.new_tokens(n));
        let cached = raw.timings.as_deref().and_then(cache_n);
        let usage = raw.stop.then(|| Usage {
            prompt_tokens: raw.tokens_evaluated.unwrap_or_default(),
            completion_tokens: raw.tokens_predicted.unwrap_or_default(),
            cached_tokens: cached,
        });
        Ok(ChunkInfo {
            has_content: non_empty(raw.content.as_deref()) || tokens.is_some_and(|n| n > 0),
            tokens: tokens.filter(|&n| n > 0),
            usage,
            timings: raw.timings,
            error: error_text(raw.error),
            done: raw.stop,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{body_json, content, read_all, recorded};
    use super::*;

    #[test]
    fn body_in_native_names() {
        let body = body_json(&LlamacppAdapter, true, true, &Prompt::Text("hi".into()));
        assert_eq!(
            body,
            serde_json::json!({"prompt": "hi", "n_predict": 8, "stream": true, "ignore_eos": true})
        );
    }

    #[test]
    fn recorded_stream_of_llama_server() {
        let bytes = recorded("llamacpp.sse");
        for read_size in [1, 7, bytes.len()] {
            let (chunks, reply) = read_all(&LlamacppAdapter, &bytes, read_size);
            assert_eq!(content(&chunks), (4, 4), "one token per event");
            let last = chunks.last().unwrap();
            assert!(last.done && !last.has_content);
            let usage = last.usage.unwrap();
            assert_eq!((usage.prompt_tokens, usage.completion_tokens), (5, 4));
            assert_eq!(usage.cached_tokens, Some(0));
            assert!(last
                .timings
                .as_ref()
                .unwrap()
                .get()
                .contains("predicted_per_token_ms"));
            assert!(!reply.is_empty());
        }
    }

    #[test]
    fn a_whole_response_and_an_error() {
        let whole = br#"{"content":" about just a","tokens":[],"stop":true,"tokens_predicted":3,"tokens_evaluated":4}"#;
        let c = LlamacppAdapter
            .read(
                SseEvent {
                    event: b"",
                    data: whole,
                },
                &mut StreamState::default(),
                None,
            )
            .unwrap();
        assert!(c.has_content && c.done);
        assert_eq!(c.usage.unwrap().completion_tokens, 3);
        let error = br#"{"error":{"code":500,"message":"slot unavailable","type":"server_error"}}"#;
        let c = LlamacppAdapter
            .read(
                SseEvent {
                    event: b"",
                    data: error,
                },
                &mut StreamState::default(),
                None,
            )
            .unwrap();
        assert!(c.error.unwrap().contains("slot unavailable"));
    }
}
