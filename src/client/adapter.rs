//! The adapter trait: how one API flavour shapes a request. Responses of all OpenAI
//! flavours share one parser (`openai`).

use crate::scenario::Api;

/// Per-request generation settings.
#[derive(Debug, Clone)]
pub struct GenerationParams {
    pub model: String,
    pub max_tokens: u32,
    pub ignore_eos: bool,
    pub stream: bool,
}

/// One API flavour (chat completions, completions, ...).
pub trait Adapter: Send + Sync {
    /// Path below the base URL, without a leading slash.
    fn path(&self) -> &'static str;
    /// The JSON request body for `prompt`.
    fn body(&self, params: &GenerationParams, prompt: &str) -> Vec<u8>;
}

/// The adapter of an API flavour.
pub fn adapter_for(api: Api) -> Box<dyn Adapter> {
    match api {
        Api::Chat => Box::new(super::chat::ChatAdapter),
        Api::Completions => Box::new(super::completions::CompletionsAdapter),
    }
}

/// Fields every OpenAI-style body shares: model, max_tokens, stream with usage, ignore_eos.
pub(super) fn common_fields(
    params: &GenerationParams,
) -> serde_json::Map<String, serde_json::Value> {
    let mut body = serde_json::Map::new();
    body.insert("model".into(), params.model.clone().into());
    body.insert("max_tokens".into(), params.max_tokens.into());
    body.insert("stream".into(), params.stream.into());
    if params.stream {
        body.insert(
            "stream_options".into(),
            serde_json::json!({"include_usage": true}),
        );
    }
    if params.ignore_eos {
        body.insert("ignore_eos".into(), true.into());
    }
    body
}
