//! `tgi`: Text Generation Inference's `POST /generate_stream` (and `/generate` whole):
//! `inputs` and `parameters.max_new_tokens`. Each event carries one `token`; the last one
//! also the whole `generated_text` and `details` (`generated_tokens`, `input_length`).
//! TGI has no `ignore_eos`: output lengths are up to the model. No `[DONE]` follows.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{Adapter, GenerationParams, Prompt};
use crate::client::chunk::{error_text, non_empty, ChunkInfo, StreamState, Usage};
use crate::client::sse::SseEvent;

pub struct TgiAdapter;

#[derive(Serialize)]
struct Body<'a> {
    inputs: &'a str,
    parameters: Parameters,
}

#[derive(Serialize)]
struct Parameters {
    max_new_tokens: u32,
    details: bool,
    /// A whole response lists the prompt's tokens only when asked: its prompt length.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    decoder_input_details: bool,
}

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow, default)]
    token: Option<Token<'a>>,
    #[serde(borrow, default)]
    generated_text: Option<Cow<'a, str>>,
    #[serde(default)]
    details: Option<Details>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Token<'a> {
    #[serde(borrow, default)]
    text: Cow<'a, str>,
    #[serde(default)]
    special: bool,
}

#[derive(Deserialize)]
struct Details {
    #[serde(default)]
    generated_tokens: u32,
    #[serde(default)]
    input_length: Option<u32>,
    #[serde(default)]
    prefill: Vec<serde::de::IgnoredAny>,
}

impl Adapter for TgiAdapter {
    fn path(&self, _model: &str, stream: bool) -> String {
        if stream {
            "generate_stream"
        } else {
            "generate"
        }
        .into()
    }

    fn body(&self, params: &GenerationParams, prompt: &Prompt) -> Vec<u8> {
        super::to_json(&Body {
            inputs: &prompt.as_text(),
            parameters: Parameters {
                max_new_tokens: params.max_tokens,
                details: true,
                decoder_input_details: !params.stream,
            },
        })
    }

    fn holds_output_length(&self) -> bool {
        false
    }

    fn read(
        &self,
        event: SseEvent<'_>,
        state: &mut StreamState,
        reply: Option<&mut String>,
    ) -> Result<ChunkInfo, serde_json::Error> {
        let raw: Event<'_> = serde_json::from_slice(event.data)?;
        // A streamed event's text is its token; a whole response's is `generated_text`,
        // which a stream repeats at its end.
        let streamed = state.tokens > 0;
        let text = match &raw.token {
            Some(token) if token.special => None,
            Some(token) => Some(&*token.text),
            None if streamed => None,
            None => raw.generated_text.as_deref(),
        };
        if raw.token.is_some() {
            state.tokens += 1;
        }
        if let Some(reply) = reply {
            reply.push_str(text.unwrap_or_default());
        }
        let done = raw.details.is_some() || raw.generated_text.is_some();
        Ok(ChunkInfo {
            has_content: raw.token.is_some() || non_empty(text),
            tokens: raw.token.is_some().then_some(1),
            usage: raw.details.map(|d| Usage {
                prompt_tokens: d.input_length.unwrap_or(d.prefill.len() as u32),
                completion_tokens: d.generated_tokens,
                cached_tokens: None,
            }),
            timings: None,
            error: error_text(raw.error),
            done,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{body_json, content, read_all, recorded};
    use super::*;

    #[test]
    fn body_and_endpoints() {
        let body = body_json(&TgiAdapter, true, true, &Prompt::Text("hi".into()));
        assert_eq!(
            body,
            serde_json::json!({"inputs": "hi", "parameters": {"max_new_tokens": 8, "details": true}})
        );
        assert_eq!(TgiAdapter.path("m", true), "generate_stream");
        assert_eq!(TgiAdapter.path("m", false), "generate");
    }

    #[test]
    fn recorded_stream_one_token_per_event() {
        let bytes = recorded("tgi.sse");
        for read_size in [1, 10, bytes.len()] {
            let (chunks, reply) = read_all(&TgiAdapter, &bytes, read_size);
            assert_eq!(
                reply, " Paris is the capital",
                "the special token is no text"
            );
            assert_eq!(content(&chunks), (5, 5));
            let last = chunks.last().unwrap();
            assert!(last.done);
            let usage = last.usage.unwrap();
            assert_eq!((usage.prompt_tokens, usage.completion_tokens), (7, 5));
        }
    }

    #[test]
    fn an_error_event_mid_stream() {
        let (chunks, _) = read_all(&TgiAdapter, &recorded("tgi-error.sse"), 5);
        assert!(chunks[1]
            .error
            .as_deref()
            .unwrap()
            .contains("CUDA out of memory"));
    }

    #[test]
    fn a_closing_event_without_a_token_repeats_no_text() {
        let bytes = [
            &br#"data:{"token":{"id":1,"text":" a","special":false},"generated_text":null,"details":null}"#[..],
            b"\n\n",
            br#"data:{"generated_text":" a","details":{"finish_reason":"length","generated_tokens":1,"input_length":2}}"#,
            b"\n\n",
        ]
        .concat();
        let (chunks, reply) = read_all(&TgiAdapter, &bytes, 64);
        assert_eq!((reply.as_str(), content(&chunks)), (" a", (1, 1)));
        assert!(chunks[1].done);
    }

    #[test]
    fn a_whole_response_with_prefill() {
        let data = br#"{"generated_text":" Paris","details":{"finish_reason":"length","generated_tokens":1,"seed":null,"prefill":[{"id":1,"text":"<s>"},{"id":2,"text":"a"}],"tokens":[]}}"#;
        let c = TgiAdapter
            .read(
                SseEvent { event: b"", data },
                &mut StreamState::default(),
                None,
            )
            .unwrap();
        assert!(c.has_content && c.done);
        assert_eq!(c.usage.unwrap().prompt_tokens, 2);
    }
}
