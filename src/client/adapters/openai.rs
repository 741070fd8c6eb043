//! `openai-chat` (`/v1/chat/completions`: a text prompt is one user message, a chat is
//! sent as it is) and `openai-completions` (`/v1/completions`: the prompt as raw text, a
//! chat as its messages' lines), as vLLM, SGLang, llama.cpp, TGI, Ollama, LMDeploy and
//! OpenAI serve them: the request body, and the parsing of streamed chunks and whole
//! bodies alike. Only the fields a benchmark needs are read, borrowed from the input.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{chat_messages, Adapter, ChatMessage, GenerationParams, Prompt};
use crate::client::chunk::{cache_n, error_text, non_empty, ChunkInfo, StreamState, Usage};
use crate::client::sse::SseEvent;

/// OpenAI's chat (`chat: true`) or completions endpoint.
pub struct OpenAiAdapter {
    pub chat: bool,
}

#[derive(Serialize)]
struct ChatInput<'a> {
    messages: Vec<ChatMessage<'a>>,
}

#[derive(Serialize)]
struct CompletionInput<'a> {
    prompt: &'a str,
}

impl Adapter for OpenAiAdapter {
    fn path(&self, _model: &str, _stream: bool) -> String {
        if self.chat {
            "v1/chat/completions"
        } else {
            "v1/completions"
        }
        .into()
    }

    fn body(&self, params: &GenerationParams, prompt: &Prompt) -> Vec<u8> {
        if self.chat {
            let messages = chat_messages(prompt);
            body(params, ChatInput { messages })
        } else {
            body(
                params,
                CompletionInput {
                    prompt: &prompt.as_text(),
                },
            )
        }
    }

    fn read(
        &self,
        event: SseEvent<'_>,
        _state: &mut StreamState,
        reply: Option<&mut String>,
    ) -> Result<ChunkInfo, serde_json::Error> {
        parse_into(event.data, reply)
    }
}

/// An OpenAI-style request body: the shared fields and the flavour's `input`.
#[derive(Serialize)]
struct Body<'a, I: Serialize> {
    model: &'a str,
    max_tokens: u32,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    ignore_eos: bool,
    #[serde(flatten)]
    input: I,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// The JSON body of `params` with the flavour's `input` fields.
fn body(params: &GenerationParams, input: impl Serialize) -> Vec<u8> {
    super::to_json(&Body {
        model: &params.model,
        max_tokens: params.max_tokens,
        stream: params.stream,
        stream_options: params.stream.then_some(StreamOptions {
            include_usage: true,
        }),
        ignore_eos: params.ignore_eos,
        input,
    })
}

#[derive(Deserialize)]
struct RawChunk<'a> {
    #[serde(borrow, default)]
    choices: Vec<RawChoice<'a>>,
    #[serde(default)]
    usage: Option<RawUsage>,
    #[serde(default)]
    timings: Option<Box<RawValue>>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawChoice<'a> {
    #[serde(borrow, default)]
    delta: Option<RawMessage<'a>>,
    #[serde(borrow, default)]
    message: Option<RawMessage<'a>>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RawMessage<'a> {
    #[serde(borrow, default)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reasoning: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct RawUsage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
    #[serde(default)]
    prompt_tokens_details: Option<RawPromptDetails>,
}

#[derive(Deserialize)]
struct RawPromptDetails {
    #[serde(default)]
    cached_tokens: Option<u32>,
}

impl RawMessage<'_> {
    fn has_text(&self) -> bool {
        non_empty(self.content.as_deref())
            || non_empty(self.reasoning_content.as_deref())
            || non_empty(self.reasoning.as_deref())
    }
}

/// Parses a chunk (`data:` payload) or a whole response body, appending the generated text (not reasoning) to `reply` when
/// given: what a conversation sends back as the assistant's turn.
pub fn parse_into(data: &[u8], reply: Option<&mut String>) -> Result<ChunkInfo, serde_json::Error> {
    let raw: RawChunk<'_> = serde_json::from_slice(data)?;
    if let Some(reply) = reply {
        for choice in &raw.choices {
            let message = choice.delta.as_ref().or(choice.message.as_ref());
            let text = message
                .and_then(|m| m.content.as_deref())
                .or(choice.text.as_deref());
            reply.push_str(text.unwrap_or_default());
        }
    }
    let has_content = raw.choices.iter().any(|c| {
        non_empty(c.text.as_deref())
            || c.delta.as_ref().is_some_and(RawMessage::has_text)
            || c.message.as_ref().is_some_and(RawMessage::has_text)
    });
    // llama.cpp says how much of the prompt its cache served in its own `timings`.
    let cached = raw.timings.as_deref().and_then(cache_n);
    Ok(ChunkInfo {
        has_content,
        usage: raw.usage.map(|u| Usage {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            cached_tokens: u
                .prompt_tokens_details
                .and_then(|d| d.cached_tokens)
                .or(cached),
        }),
        timings: raw.timings,
        error: error_text(raw.error),
        ..ChunkInfo::default()
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::body_json;
    use super::*;

    #[test]
    fn chat_body_streams_with_usage_and_ignore_eos() {
        let prompt = Prompt::Text("a \"quoted\" prompt".into());
        assert_eq!(
            body_json(&OpenAiAdapter { chat: true }, true, true, &prompt),
            serde_json::json!({"model": "m", "max_tokens": 8, "stream": true,
                "stream_options": {"include_usage": true}, "ignore_eos": true,
                "messages": [{"role": "user", "content": "a \"quoted\" prompt"}]})
        );
    }

    #[test]
    fn completions_body_without_stream_or_ignore_eos() {
        let prompt = Prompt::Text("a \"quoted\" prompt".into());
        assert_eq!(
            body_json(&OpenAiAdapter { chat: false }, false, false, &prompt),
            serde_json::json!({"model": "m", "max_tokens": 8, "stream": false,
                "prompt": "a \"quoted\" prompt"})
        );
    }

    fn parse(data: &[u8]) -> Result<ChunkInfo, serde_json::Error> {
        parse_into(data, None)
    }

    #[test]
    fn the_reply_collects_generated_text_only() {
        let mut reply = String::new();
        for chunk in [
            &br#"{"choices":[{"delta":{"reasoning_content":"hmm"}}]}"#[..],
            br#"{"choices":[{"delta":{"content":"Hel"}}]}"#,
            br#"{"choices":[{"text":"lo"}]}"#,
        ] {
            parse_into(chunk, Some(&mut reply)).unwrap();
        }
        assert_eq!(reply, "Hello");
    }

    #[test]
    fn chat_delta_content_counts_as_text() {
        let c = parse(br#"{"choices":[{"index":0,"delta":{"content":"Hi"}}]}"#).unwrap();
        assert!(c.has_content && c.usage.is_none() && c.error.is_none());
    }

    #[test]
    fn role_only_delta_and_empty_content_are_not_text() {
        let c = parse(br#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#).unwrap();
        assert!(!c.has_content);
        let c = parse(br#"{"choices":[{"delta":{"content":null}}]}"#).unwrap();
        assert!(!c.has_content);
    }

    #[test]
    fn completion_text_and_reasoning_count_as_text() {
        assert!(parse(br#"{"choices":[{"text":"a"}]}"#).unwrap().has_content);
        assert!(
            parse(br#"{"choices":[{"delta":{"reasoning_content":"r"}}]}"#)
                .unwrap()
                .has_content
        );
    }

    #[test]
    fn usage_with_cached_tokens_and_timings() {
        let c = parse(
            br#"{"choices":[],"usage":{"prompt_tokens":512,"completion_tokens":64,
            "prompt_tokens_details":{"cached_tokens":20}},"timings":{"prompt_ms":10.5}}"#,
        )
        .unwrap();
        let u = c.usage.unwrap();
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.cached_tokens),
            (512, 64, Some(20))
        );
        assert_eq!(c.timings.unwrap().get(), r#"{"prompt_ms":10.5}"#);
    }

    #[test]
    fn escaped_text_and_error_objects() {
        assert!(
            parse(br#"{"choices":[{"delta":{"content":"a\"b\u00e9"}}]}"#)
                .unwrap()
                .has_content
        );
        let c = parse(br#"{"error":{"message":"boom","code":500}}"#).unwrap();
        assert!(c.error.unwrap().contains("boom"));
    }

    #[test]
    fn whole_chat_response() {
        let c = parse(br#"{"choices":[{"message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#).unwrap();
        assert!(c.has_content);
        assert_eq!(c.usage.unwrap().completion_tokens, 1);
    }

    #[test]
    fn malformed_chunk_is_an_error() {
        assert!(parse(b"{\"choices\": [").is_err());
        assert!(parse(b"not json").is_err());
    }
}
