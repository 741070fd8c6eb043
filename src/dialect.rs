//! The server dialects the harness speaks (`--adapter`, a scenario's `target.api`): the
//! one name both the client (which speaks them) and the simulator (which serves them) use.
//! Below every other module: it imports nothing of the crate.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The server's dialect (`--adapter`): where requests go and how responses read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Api {
    /// OpenAI `/v1/chat/completions`
    #[default]
    #[serde(rename = "chat", alias = "openai-chat", alias = "openai")]
    Chat,
    /// OpenAI `/v1/completions`
    #[serde(rename = "completions", alias = "openai-completions")]
    Completions,
    /// OpenAI's Responses API, `/v1/responses` (vLLM)
    #[serde(rename = "openai-responses", alias = "responses")]
    Responses,
    /// Triton's generate extension, TensorRT-LLM backend: `/v2/models/{model}/generate_stream`
    #[serde(rename = "triton")]
    Triton,
    /// Text Generation Inference: `/generate_stream`
    #[serde(rename = "tgi")]
    Tgi,
    /// Ollama `/api/chat` (NDJSON)
    #[serde(rename = "ollama-chat", alias = "ollama")]
    OllamaChat,
    /// Ollama `/api/generate` (NDJSON)
    #[serde(rename = "ollama-generate")]
    OllamaGenerate,
    /// SGLang's native `/generate`
    #[serde(rename = "sglang")]
    Sglang,
    /// llama.cpp's native `/completion`
    #[serde(rename = "llamacpp")]
    Llamacpp,
}

impl Api {
    /// Every dialect, in the order the README lists them.
    pub const ALL: [Api; 9] = [
        Self::Chat,
        Self::Completions,
        Self::Responses,
        Self::Triton,
        Self::Tgi,
        Self::OllamaChat,
        Self::OllamaGenerate,
        Self::Sglang,
        Self::Llamacpp,
    ];

    /// The dialect's name in scenarios and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Chat => "openai-chat",
            Self::Completions => "openai-completions",
            Self::Responses => "openai-responses",
            Self::Triton => "triton",
            Self::Tgi => "tgi",
            Self::OllamaChat => "ollama-chat",
            Self::OllamaGenerate => "ollama-generate",
            Self::Sglang => "sglang",
            Self::Llamacpp => "llamacpp",
        }
    }

    /// The path that answers 2xx once a server of this dialect is ready.
    pub fn health_path(self) -> &'static str {
        match self {
            Self::Triton => "/v2/health/ready",
            Self::OllamaChat | Self::OllamaGenerate => "/api/version",
            _ => "/health",
        }
    }
}
