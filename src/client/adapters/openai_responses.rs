//! `openai-responses`: OpenAI's Responses API, `POST /v1/responses` (`input`,
//! `max_output_tokens`), as vLLM serves it. A stream is typed events: text comes in
//! `response.output_text.delta` (reasoning in `response.reasoning_text.delta`), the usage
//! in `response.completed` (or `response.incomplete` at the token limit), which ends the
//! stream; `response.failed` and `error` are failures. A whole response is the response
//! object itself.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{chat_messages, Adapter, ChatMessage, GenerationParams, Prompt};
use crate::client::chunk::{error_text, non_empty, ChunkInfo, StreamState, Usage};
use crate::client::sse::SseEvent;

pub struct ResponsesAdapter;

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    input: Vec<ChatMessage<'a>>,
    max_output_tokens: u32,
    stream: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    ignore_eos: bool,
}

/// A streamed event, or (without `type`) a whole response.
#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    delta: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    response: Option<Response<'a>>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    output: Vec<OutputItem<'a>>,
    #[serde(default)]
    usage: Option<RawUsage>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Response<'a> {
    #[serde(default)]
    usage: Option<RawUsage>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct OutputItem<'a> {
    #[serde(borrow, default)]
    content: Vec<Part<'a>>,
}

#[derive(Deserialize)]
struct Part<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    text: Cow<'a, str>,
}

#[derive(Deserialize)]
struct RawUsage {
    #[serde(default)]
    input_tokens: u32,
    #[serde(default)]
    output_tokens: u32,
    #[serde(default)]
    input_tokens_details: Option<InputDetails>,
}

#[derive(Deserialize)]
struct InputDetails {
    #[serde(default)]
    cached_tokens: Option<u32>,
}

impl From<RawUsage> for Usage {
    fn from(u: RawUsage) -> Self {
        Self {
            prompt_tokens: u.input_tokens,
            completion_tokens: u.output_tokens,
            cached_tokens: u.input_tokens_details.and_then(|d| d.cached_tokens),
        }
    }
}

impl Adapter for ResponsesAdapter {
    fn path(&self, _model: &str, _stream: bool) -> String {
        "v1/responses".into()
    }

    fn body(&self, params: &GenerationParams, prompt: &Prompt) -> Vec<u8> {
        super::to_json(&Body {
            model: &params.model,
            input: chat_messages(prompt),
            max_output_tokens: params.max_tokens,
            stream: params.stream,
            ignore_eos: params.ignore_eos,
        })
    }

    fn read(
        &self,
        event: SseEvent<'_>,
        _state: &mut StreamState,
        reply: Option<&mut String>,
    ) -> Result<ChunkInfo, serde_json::Error> {
        let mut raw: Event<'_> = serde_json::from_slice(event.data)?;
        Ok(match raw.kind.take() {
            None => whole(raw, reply),
            Some(kind) => streamed(&kind, raw, reply),
        })
    }
}

fn streamed(kind: &str, raw: Event<'_>, reply: Option<&mut String>) -> ChunkInfo {
    let mut chunk = ChunkInfo::default();
    match kind {
        "response.output_text.delta" => {
            chunk.has_content = non_empty(raw.delta.as_deref());
            if let Some(reply) = reply {
                reply.push_str(raw.delta.as_deref().unwrap_or_default());
            }
        }
        "response.reasoning_text.delta" | "response.reasoning_summary_text.delta" => {
            chunk.has_content = non_empty(raw.delta.as_deref());
        }
        "response.completed" | "response.incomplete" => {
            chunk.done = true;
            chunk.usage = raw.response.and_then(|r| r.usage).map(Usage::from);
        }
        "response.failed" => {
            let error = raw.response.and_then(|r| error_text(r.error));
            chunk.error = Some(error.unwrap_or_else(|| "response.failed".into()));
        }
        "error" => {
            let message = raw.message.map(Cow::into_owned);
            chunk.error = message
                .or_else(|| error_text(raw.error))
                .or(Some("error".into()));
        }
        _ => {}
    }
    chunk
}

fn whole(raw: Event<'_>, reply: Option<&mut String>) -> ChunkInfo {
    let texts = raw.output.iter().flat_map(|item| &item.content);
    let has_content = texts.clone().any(|part| !part.text.is_empty());
    if let Some(reply) = reply {
        for part in texts.filter(|part| part.kind == "output_text") {
            reply.push_str(&part.text);
        }
    }
    ChunkInfo {
        has_content,
        usage: raw.usage.map(Usage::from),
        error: error_text(raw.error),
        done: true,
        ..ChunkInfo::default()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{body_json, content, read_all, recorded};
    use super::*;

    #[test]
    fn body_with_input_messages() {
        let body = body_json(&ResponsesAdapter, true, false, &Prompt::Text("hi".into()));
        assert_eq!(
            body,
            serde_json::json!({"model": "m", "max_output_tokens": 8, "stream": true,
                "input": [{"role": "user", "content": "hi"}]})
        );
    }

    #[test]
    fn recorded_events_text_reasoning_and_usage() {
        let bytes = recorded("openai-responses.sse");
        for read_size in [1, 31, bytes.len()] {
            let (chunks, reply) = read_all(&ResponsesAdapter, &bytes, read_size);
            assert_eq!(
                reply, " Paris is the",
                "the completed response's copy is not text"
            );
            assert_eq!(
                content(&chunks),
                (0, 4),
                "a reasoning delta and three text deltas"
            );
            let last = chunks.last().unwrap();
            assert!(last.done);
            assert_eq!(
                last.usage.unwrap(),
                Usage {
                    prompt_tokens: 7,
                    completion_tokens: 4,
                    cached_tokens: Some(0)
                }
            );
        }
    }

    #[test]
    fn a_failed_response_and_a_whole_one() {
        let (chunks, _) = read_all(
            &ResponsesAdapter,
            &recorded("openai-responses-error.sse"),
            8,
        );
        assert!(chunks[2]
            .error
            .as_deref()
            .unwrap()
            .contains("invalid content"));
        let data = br#"{"id":"r","object":"response","status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"ok"}]}],"usage":{"input_tokens":3,"output_tokens":1}}"#;
        let mut reply = String::new();
        let c = ResponsesAdapter
            .read(
                SseEvent { event: b"", data },
                &mut StreamState::default(),
                Some(&mut reply),
            )
            .unwrap();
        assert!(c.has_content && c.done && reply == "ok");
        assert_eq!(c.usage.unwrap().completion_tokens, 1);
    }
}
