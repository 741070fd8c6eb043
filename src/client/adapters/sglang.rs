//! `sglang`: SGLang's native `POST /generate` (`text`, `sampling_params`). Each streamed
//! event repeats the whole text so far (the new part is derived here) and `meta_info`
//! with running `prompt_tokens`, `completion_tokens` and `cached_tokens`, so every event
//! says how many tokens it brought; `[DONE]` ends the stream.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{Adapter, GenerationParams, Prompt};
use crate::client::chunk::{error_text, non_empty, ChunkInfo, StreamState, Usage};
use crate::client::sse::SseEvent;

pub struct SglangAdapter;

#[derive(Serialize)]
struct Body<'a> {
    text: &'a str,
    sampling_params: SamplingParams,
    stream: bool,
}

#[derive(Serialize)]
struct SamplingParams {
    max_new_tokens: u32,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    ignore_eos: bool,
}

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    meta_info: Option<MetaInfo<'a>>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct MetaInfo<'a> {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
    #[serde(default)]
    cached_tokens: Option<u32>,
    #[serde(borrow, default)]
    finish_reason: Option<&'a RawValue>,
}

impl Adapter for SglangAdapter {
    fn path(&self, _model: &str, _stream: bool) -> String {
        "generate".into()
    }

    fn body(&self, params: &GenerationParams, prompt: &Prompt) -> Vec<u8> {
        super::to_json(&Body {
            text: &prompt.as_text(),
            sampling_params: SamplingParams {
                max_new_tokens: params.max_tokens,
                ignore_eos: params.ignore_eos,
            },
            stream: params.stream,
        })
    }

    fn read(
        &self,
        event: SseEvent<'_>,
        state: &mut StreamState,
        reply: Option<&mut String>,
    ) -> Result<ChunkInfo, serde_json::Error> {
        let raw: Event<'_> = serde_json::from_slice(event.data)?;
        let fresh = state.new_text(raw.text.as_deref().unwrap_or_default());
        if let Some(reply) = reply {
            reply.push_str(fresh);
        }
        let has_text = non_empty(Some(fresh));
        let meta = raw.meta_info;
        let tokens = meta.as_ref().map(|m| state.new_tokens(m.completion_tokens));
        Ok(ChunkInfo {
            has_content: has_text || tokens.is_some_and(|n| n > 0),
            tokens: tokens.filter(|&n| n > 0),
            done: meta.as_ref().is_some_and(|m| m.finish_reason.is_some()),
            usage: meta.map(|m| Usage {
                prompt_tokens: m.prompt_tokens,
                completion_tokens: m.completion_tokens,
                cached_tokens: m.cached_tokens,
            }),
            timings: None,
            error: error_text(raw.error),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{body_json, content, read_all, recorded};
    use super::*;

    #[test]
    fn body_with_sampling_params() {
        let body = body_json(&SglangAdapter, true, true, &Prompt::Text("hi".into()));
        assert_eq!(
            body,
            serde_json::json!({"text": "hi", "stream": true,
                "sampling_params": {"max_new_tokens": 8, "ignore_eos": true}})
        );
    }

    #[test]
    fn cumulative_text_becomes_deltas_with_their_token_counts() {
        let bytes = recorded("sglang.sse");
        for read_size in [1, 13, bytes.len()] {
            let (chunks, reply) = read_all(&SglangAdapter, &bytes, read_size);
            assert_eq!(reply, " Paris is the capital.", "each part once");
            let counts: Vec<_> = chunks.iter().map(|c| c.tokens).collect();
            assert_eq!(counts, [Some(1), Some(2), Some(1), Some(1)]);
            assert_eq!(content(&chunks), (5, 4));
            let last = chunks.last().unwrap();
            assert!(last.done);
            assert_eq!(
                last.usage.unwrap(),
                Usage {
                    prompt_tokens: 7,
                    completion_tokens: 5,
                    cached_tokens: Some(0)
                }
            );
        }
    }

    #[test]
    fn an_error_object() {
        let data = br#"{"error":{"message":"The input (9000 tokens) is longer than the model's context length (8192 tokens)."}}"#;
        let c = SglangAdapter
            .read(
                SseEvent { event: b"", data },
                &mut StreamState::default(),
                None,
            )
            .unwrap();
        assert!(c.error.unwrap().contains("context length"));
    }
}
