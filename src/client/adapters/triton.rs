//! `triton`: Triton Inference Server's generate extension with the TensorRT-LLM backend:
//! `POST /v2/models/{model}/generate_stream` (and `/generate` whole), `text_input` and
//! `max_tokens`, `min_length` to hold the output to its length (TensorRT-LLM's way of
//! ignoring the end token). Each event carries `text_output`; the stream has no end marker
//! and no token counts, so it is complete when the body ends cleanly and output tokens
//! are counted by chunk.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{Adapter, GenerationParams, Prompt};
use crate::client::chunk::{error_text, non_empty, ChunkInfo, StreamState};
use crate::client::sse::SseEvent;

pub struct TritonAdapter;

#[derive(Serialize)]
struct Body<'a> {
    text_input: &'a str,
    max_tokens: u32,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_length: Option<u32>,
}

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow, default)]
    text_output: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

impl Adapter for TritonAdapter {
    fn path(&self, model: &str, stream: bool) -> String {
        let model = percent_encoding::utf8_percent_encode(model, SEGMENT);
        let endpoint = if stream {
            "generate_stream"
        } else {
            "generate"
        };
        format!("v2/models/{model}/{endpoint}")
    }

    fn body(&self, params: &GenerationParams, prompt: &Prompt) -> Vec<u8> {
        super::to_json(&Body {
            text_input: &prompt.as_text(),
            max_tokens: params.max_tokens,
            stream: params.stream,
            min_length: params.ignore_eos.then_some(params.max_tokens),
        })
    }

    fn read(
        &self,
        event: SseEvent<'_>,
        _state: &mut StreamState,
        reply: Option<&mut String>,
    ) -> Result<ChunkInfo, serde_json::Error> {
        let raw: Event<'_> = serde_json::from_slice(event.data)?;
        if let Some(reply) = reply {
            reply.push_str(raw.text_output.as_deref().unwrap_or_default());
        }
        Ok(ChunkInfo {
            has_content: non_empty(raw.text_output.as_deref()),
            error: error_text(raw.error),
            ..ChunkInfo::default()
        })
    }

    fn ends_with_body(&self) -> bool {
        true
    }
}

/// Characters a model name keeps in a path segment (RFC 3986's unreserved ones).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[cfg(test)]
mod tests {
    use super::super::testing::{body_json, content, read_all, recorded};
    use super::*;

    #[test]
    fn body_and_endpoints() {
        let body = body_json(&TritonAdapter, true, true, &Prompt::Text("hi".into()));
        assert_eq!(
            body,
            serde_json::json!({"text_input": "hi", "max_tokens": 8, "stream": true, "min_length": 8})
        );
        assert_eq!(
            TritonAdapter.path("ensemble", true),
            "v2/models/ensemble/generate_stream"
        );
        assert_eq!(
            TritonAdapter.path("a b/c", false),
            "v2/models/a%20b%2Fc/generate"
        );
    }

    #[test]
    fn recorded_stream_has_no_end_marker() {
        let bytes = recorded("triton.sse");
        let (chunks, reply) = read_all(&TritonAdapter, &bytes, 3);
        assert_eq!(reply, " Paris is the capital");
        assert_eq!(content(&chunks), (0, 4), "no token counts: one per chunk");
        assert!(chunks.iter().all(|c| !c.done && c.usage.is_none()));
        let (chunks, _) = read_all(&TritonAdapter, &recorded("triton-error.sse"), 64);
        assert!(chunks[1]
            .error
            .as_deref()
            .unwrap()
            .contains("exceeds maximum input length"));
    }
}
