//! Token counting for prompt construction: the server's own tokenizer through `/tokenize`
//! (llama.cpp takes `content`; vLLM and SGLang take `model` and `prompt`; TGI takes
//! `inputs` and answers a list of tokens), or tiktoken where the server has none (Ollama,
//! Triton).

use reqwest::Method;
use serde_json::json;

use super::WorkloadError;
use crate::client::json_call;
use crate::scenario::TokenizerChoice;

/// The `/tokenize` dialect a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    LlamaCpp,
    Vllm,
    Tgi,
}

/// A way to count tokens as the server under test does (or as close as can be had).
pub struct Tokenizer(Kind);

enum Kind {
    Server {
        http: reqwest::Client,
        url: reqwest::Url,
        model: String,
        dialect: Dialect,
    },
    Tiktoken {
        name: &'static str,
        bpe: Box<tiktoken_rs::CoreBPE>,
    },
}

impl Tokenizer {
    /// Picks the tokenizer for `choice`: `auto` probes the server's `/tokenize`.
    pub async fn resolve(
        choice: TokenizerChoice,
        http: &reqwest::Client,
        base_url: &reqwest::Url,
        model: &str,
    ) -> Result<Self, WorkloadError> {
        match choice {
            TokenizerChoice::Cl100kBase => Self::tiktoken("cl100k_base"),
            TokenizerChoice::O200kBase => Self::tiktoken("o200k_base"),
            TokenizerChoice::Server | TokenizerChoice::Auto => {
                let url = base_url
                    .join("tokenize")
                    .map_err(|e| WorkloadError::Tokenizer(e.to_string()))?;
                let mut last_error = String::new();
                for dialect in [Dialect::LlamaCpp, Dialect::Vllm, Dialect::Tgi] {
                    let server = Self(Kind::Server {
                        http: http.clone(),
                        url: url.clone(),
                        model: model.to_owned(),
                        dialect,
                    });
                    match server.count(" hello world").await {
                        Ok(n) if n > 0 => return Ok(server),
                        Ok(_) => last_error = "it counted no tokens".into(),
                        Err(e) => last_error = e.to_string(),
                    }
                }
                if choice == TokenizerChoice::Server {
                    return Err(WorkloadError::NoServerTokenizer(last_error));
                }
                tracing::info!(
                    "no usable /tokenize ({last_error}); counting with tiktoken cl100k_base"
                );
                Self::tiktoken("cl100k_base")
            }
        }
    }

    fn tiktoken(name: &'static str) -> Result<Self, WorkloadError> {
        let bpe = match name {
            "o200k_base" => tiktoken_rs::o200k_base(),
            _ => tiktoken_rs::cl100k_base(),
        }
        .map_err(|e| WorkloadError::Tokenizer(e.to_string()))?;
        Ok(Self(Kind::Tiktoken {
            name,
            bpe: Box::new(bpe),
        }))
    }

    /// Short name for results: `server` or the tiktoken encoding.
    pub fn name(&self) -> &'static str {
        match &self.0 {
            Kind::Server { .. } => "server",
            Kind::Tiktoken { name, .. } => name,
        }
    }

    /// Whether counts are the server's own (exact) rather than an approximation.
    pub fn is_exact(&self) -> bool {
        matches!(self.0, Kind::Server { .. })
    }

    /// Number of tokens in `text`, without special tokens.
    pub async fn count(&self, text: &str) -> Result<usize, WorkloadError> {
        match &self.0 {
            Kind::Tiktoken { bpe, .. } => Ok(bpe.encode_ordinary(text).len()),
            Kind::Server {
                http,
                url,
                model,
                dialect,
            } => {
                let body = match dialect {
                    Dialect::LlamaCpp => json!({"content": text, "add_special": false}),
                    Dialect::Vllm => {
                        json!({"model": model, "prompt": text, "add_special_tokens": false})
                    }
                    Dialect::Tgi => json!({"inputs": text}),
                };
                let answer = json_call(http, Method::POST, url, Some(&body))
                    .await
                    .map_err(|e| WorkloadError::Tokenizer(e.to_string()))?;
                answer["count"]
                    .as_u64()
                    .map(|n| n as usize)
                    .or(answer["tokens"].as_array().map(Vec::len))
                    .or(answer.as_array().map(Vec::len))
                    .ok_or_else(|| {
                        WorkloadError::Tokenizer(
                            "/tokenize answered neither `tokens` nor `count`".into(),
                        )
                    })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tiktoken_counts_locally() {
        let http = reqwest::Client::new();
        let url = reqwest::Url::parse("http://127.0.0.1:9/").unwrap();
        let t = Tokenizer::resolve(TokenizerChoice::Cl100kBase, &http, &url, "m")
            .await
            .unwrap();
        assert_eq!(t.count(" hello world").await.unwrap(), 2);
        assert_eq!(t.name(), "cl100k_base");
        assert!(!t.is_exact());
    }
}
