//! The adapter trait: how one API flavour shapes a request. Responses of all OpenAI
//! flavours share one parser (`openai`).

use serde::Serialize;

use crate::scenario::{Api, Message};

/// Per-request generation settings.
#[derive(Debug, Clone)]
pub struct GenerationParams {
    pub model: String,
    pub max_tokens: u32,
    pub ignore_eos: bool,
    pub stream: bool,
}

/// What a request asks the model: a text, or a chat ending with the user's turn.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    Text(String),
    Messages(Vec<Message>),
}

impl Prompt {
    /// The prompt as one text: a chat's messages one per line, `role: content`, for an
    /// endpoint that takes text only.
    pub fn as_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Self::Text(text) => text.into(),
            Self::Messages(messages) => messages
                .iter()
                .map(|m| format!("{}: {}", m.role, m.content))
                .collect::<Vec<_>>()
                .join("\n")
                .into(),
        }
    }
}

/// One API flavour (chat completions, completions, ...).
pub trait Adapter: Send + Sync {
    /// Path below the base URL, without a leading slash.
    fn path(&self) -> &'static str;
    /// The JSON request body for `prompt`.
    fn body(&self, params: &GenerationParams, prompt: &Prompt) -> Vec<u8>;
}

/// The adapter of an API flavour.
pub fn adapter_for(api: Api) -> Box<dyn Adapter> {
    match api {
        Api::Chat => Box::new(super::chat::ChatAdapter),
        Api::Completions => Box::new(super::completions::CompletionsAdapter),
    }
}

/// An OpenAI-style request body: the shared fields and the flavour's `input`, serialized
/// straight from borrowed data (the prompt is never copied into a JSON tree).
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
pub(super) fn body(params: &GenerationParams, input: impl Serialize) -> Vec<u8> {
    let body = Body {
        model: &params.model,
        max_tokens: params.max_tokens,
        stream: params.stream,
        stream_options: params.stream.then_some(StreamOptions {
            include_usage: true,
        }),
        ignore_eos: params.ignore_eos,
        input,
    };
    serde_json::to_vec(&body).expect("a request body always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(stream: bool, ignore_eos: bool) -> GenerationParams {
        GenerationParams {
            model: "m".into(),
            max_tokens: 8,
            ignore_eos,
            stream,
        }
    }

    fn json(api: Api, params: &GenerationParams) -> serde_json::Value {
        let prompt = Prompt::Text("a \"quoted\" prompt".into());
        serde_json::from_slice(&adapter_for(api).body(params, &prompt)).unwrap()
    }

    #[test]
    fn chat_body_streams_with_usage_and_ignore_eos() {
        assert_eq!(
            json(Api::Chat, &params(true, true)),
            serde_json::json!({"model": "m", "max_tokens": 8, "stream": true,
                "stream_options": {"include_usage": true}, "ignore_eos": true,
                "messages": [{"role": "user", "content": "a \"quoted\" prompt"}]})
        );
    }

    #[test]
    fn completions_body_without_stream_or_ignore_eos() {
        assert_eq!(
            json(Api::Completions, &params(false, false)),
            serde_json::json!({"model": "m", "max_tokens": 8, "stream": false,
                "prompt": "a \"quoted\" prompt"})
        );
    }
}
