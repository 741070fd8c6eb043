//! One adapter per server dialect, behind one trait: where a request goes, its body, how
//! its response is framed (SSE or NDJSON), and how each event reads: where the text is,
//! how many tokens it carries, where the usage and server timings are, what ends the
//! response and how errors look.

mod llamacpp;
mod ollama;
mod openai;
mod openai_responses;
mod sglang;
mod tgi;
mod triton;

use serde::Serialize;

use super::chunk::{ChunkInfo, StreamState};
use super::framing::Framing;
use super::sse::SseEvent;
use crate::dialect::Api;
use crate::scenario::Message;

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

/// A chat message as the chat dialects send it, borrowed from the prompt.
#[derive(Serialize)]
pub(super) struct ChatMessage<'a> {
    role: &'a str,
    content: &'a str,
}

/// The prompt as chat messages: a text is one user message.
pub(super) fn chat_messages(prompt: &Prompt) -> Vec<ChatMessage<'_>> {
    match prompt {
        Prompt::Text(text) => vec![ChatMessage {
            role: "user",
            content: text,
        }],
        Prompt::Messages(messages) => messages
            .iter()
            .map(|m| ChatMessage {
                role: &m.role,
                content: &m.content,
            })
            .collect(),
    }
}

/// One server dialect.
pub trait Adapter: Send + Sync {
    /// Path below the base URL, without a leading slash, of a request for `model`,
    /// streamed or not.
    fn path(&self, model: &str, stream: bool) -> String;
    /// The JSON request body for `prompt`.
    fn body(&self, params: &GenerationParams, prompt: &Prompt) -> Vec<u8>;
    /// Reads one event of a streamed response (or a whole response), appending the
    /// generated text (not reasoning) to `reply` when given.
    fn read(
        &self,
        event: SseEvent<'_>,
        state: &mut StreamState,
        reply: Option<&mut String>,
    ) -> Result<ChunkInfo, serde_json::Error>;
    /// How streamed responses are framed.
    fn framing(&self) -> Framing {
        Framing::Sse
    }
    /// Whether requests can ask for exactly `max_tokens` (`ignore_eos` or the dialect's
    /// equivalent).
    fn holds_output_length(&self) -> bool {
        true
    }
    /// Whether a stream is complete when its body ends cleanly (the dialect has no end
    /// marker of its own).
    fn ends_with_body(&self) -> bool {
        false
    }
}

/// The adapter of a dialect.
pub fn adapter_for(api: Api) -> Box<dyn Adapter> {
    match api {
        Api::Chat => Box::new(openai::OpenAiAdapter { chat: true }),
        Api::Completions => Box::new(openai::OpenAiAdapter { chat: false }),
        Api::Responses => Box::new(openai_responses::ResponsesAdapter),
        Api::Triton => Box::new(triton::TritonAdapter),
        Api::Tgi => Box::new(tgi::TgiAdapter),
        Api::OllamaChat => Box::new(ollama::OllamaAdapter { chat: true }),
        Api::OllamaGenerate => Box::new(ollama::OllamaAdapter { chat: false }),
        Api::Sglang => Box::new(sglang::SglangAdapter),
        Api::Llamacpp => Box::new(llamacpp::LlamacppAdapter),
    }
}

/// A JSON body, serialized straight from borrowed data (the prompt is never copied into
/// a JSON tree).
pub(super) fn to_json(body: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(body).expect("a request body always serializes")
}

#[cfg(test)]
pub(super) mod testing {
    //! Reading recorded response bytes through an adapter, as the client does.
    use super::*;
    use crate::client::framing::Decoder;

    /// Every event of `bytes` (fed in reads of `read_size` bytes) read by `adapter`.
    pub fn read_all(
        adapter: &dyn Adapter,
        bytes: &[u8],
        read_size: usize,
    ) -> (Vec<ChunkInfo>, String) {
        let mut decoder = Decoder::new(adapter.framing());
        let mut state = StreamState::default();
        let mut reply = String::new();
        let mut chunks = Vec::new();
        for read in bytes.chunks(read_size) {
            decoder.feed(read, |event| {
                if event.data != b"[DONE]" {
                    chunks.push(adapter.read(event, &mut state, Some(&mut reply)).unwrap());
                }
            });
        }
        (chunks, reply)
    }

    /// The recorded bytes of `tests/fixtures/dialects/NAME`.
    pub fn recorded(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/dialects/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The body `adapter` sends, as JSON.
    pub fn body_json(
        adapter: &dyn Adapter,
        stream: bool,
        ignore_eos: bool,
        prompt: &Prompt,
    ) -> serde_json::Value {
        let params = GenerationParams {
            model: "m".into(),
            max_tokens: 8,
            ignore_eos,
            stream,
        };
        serde_json::from_slice(&adapter.body(&params, prompt)).unwrap()
    }

    /// Tokens counted over `chunks` (those that say), and the chunks with content.
    pub fn content(chunks: &[ChunkInfo]) -> (u32, usize) {
        let tokens = chunks.iter().filter_map(|c| c.tokens).sum();
        (tokens, chunks.iter().filter(|c| c.has_content).count())
    }
}
