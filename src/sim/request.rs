//! What the simulator reads from a generation request, in any dialect: one body type with
//! every dialect's fields for the prompt (`messages`, `prompt`, `input`, `text_input`,
//! `inputs`, `text`) and the token limit (`max_tokens`, `max_completion_tokens`,
//! `max_output_tokens`, `n_predict`, `parameters.max_new_tokens`,
//! `sampling_params.max_new_tokens`, `options.num_predict`), and `stream`. A prompt's
//! tokens are its whitespace-separated words.

use serde::Deserialize;
use serde_json::Value;

use crate::dialect::Api;

/// Tokens of a text: its whitespace-separated words.
pub fn count_tokens(text: &str) -> u32 {
    text.split_whitespace().count() as u32
}

/// The fields of a generation request that the simulator reads.
#[derive(Debug, Default, Deserialize)]
pub struct GenerationBody {
    #[serde(default)]
    messages: Vec<Message>,
    /// OpenAI completions, Ollama generate, llama.cpp: a text (or a list of texts).
    #[serde(default)]
    prompt: Option<Value>,
    /// The Responses API: a text or a list of messages.
    #[serde(default)]
    input: Option<Value>,
    /// Triton.
    #[serde(default)]
    text_input: Option<String>,
    /// TGI.
    #[serde(default)]
    inputs: Option<String>,
    /// SGLang.
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    max_tokens: Option<u32>,
    #[serde(default)]
    max_completion_tokens: Option<u32>,
    #[serde(default)]
    max_output_tokens: Option<u32>,
    #[serde(default)]
    n_predict: Option<i64>,
    #[serde(default)]
    parameters: Option<Limits>,
    #[serde(default)]
    sampling_params: Option<Limits>,
    #[serde(default)]
    options: Option<Limits>,
    #[serde(default)]
    stream: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
struct Message {
    #[serde(default)]
    content: Value,
}

#[derive(Debug, Default, Deserialize)]
struct Limits {
    #[serde(default)]
    max_new_tokens: Option<u32>,
    #[serde(default)]
    num_predict: Option<i64>,
}

/// Tokens of a text, a list of texts or a list of content parts.
fn tokens_of(value: &Value) -> u32 {
    match value {
        Value::String(s) => count_tokens(s),
        Value::Array(parts) => parts
            .iter()
            .map(|p| match p {
                Value::String(s) => count_tokens(s),
                part => {
                    tokens_of(&part["content"])
                        + count_tokens(part["text"].as_str().unwrap_or_default())
                }
            })
            .sum(),
        _ => 0,
    }
}

impl GenerationBody {
    /// Tokens to generate: the request's limit (a negative one, "no limit", and none
    /// at all mean 16, as OpenAI's API).
    pub fn max_tokens(&self) -> u32 {
        let limits = [&self.parameters, &self.sampling_params, &self.options];
        let nested = limits.into_iter().flatten().find_map(|l| {
            l.max_new_tokens
                .or(l.num_predict.and_then(|n| u32::try_from(n).ok()))
        });
        self.max_completion_tokens
            .or(self.max_tokens)
            .or(self.max_output_tokens)
            .or(self.n_predict.and_then(|n| u32::try_from(n).ok()))
            .or(nested)
            .unwrap_or(16)
            .max(1)
    }

    /// Prompt tokens: whitespace-separated words of whichever prompt field is present.
    pub fn prompt_tokens(&self) -> u32 {
        let texts = [&self.text_input, &self.inputs, &self.text];
        self.messages
            .iter()
            .map(|m| tokens_of(&m.content))
            .sum::<u32>()
            + self.prompt.as_ref().map_or(0, tokens_of)
            + self.input.as_ref().map_or(0, tokens_of)
            + texts
                .into_iter()
                .flatten()
                .map(|t| count_tokens(t))
                .sum::<u32>()
    }

    /// Whether the response is streamed; `default` when the request does not say.
    pub fn stream(&self, default: bool) -> bool {
        self.stream.unwrap_or(default)
    }

    /// The dialect of a body posted to a route of `api`: TGI's (`inputs`) and SGLang's
    /// (`text`) both post to `/generate`.
    pub fn dialect_at(&self, api: Api) -> Api {
        match api {
            Api::Sglang if self.inputs.is_some() => Api::Tgi,
            api => api,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> GenerationBody {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn every_dialect_prompt_and_limit() {
        let cases = [
            (
                serde_json::json!({"messages": [{"role": "user", "content": "a b c"}], "max_tokens": 5}),
                3,
                5,
            ),
            (serde_json::json!({"prompt": "a b", "n_predict": 4}), 2, 4),
            (
                serde_json::json!({"input": [{"role": "user", "content": "a b"}], "max_output_tokens": 6}),
                2,
                6,
            ),
            (serde_json::json!({"input": "a"}), 1, 16),
            (
                serde_json::json!({"text_input": "a b c d", "max_tokens": 2}),
                4,
                2,
            ),
            (
                serde_json::json!({"inputs": "a", "parameters": {"max_new_tokens": 7}}),
                1,
                7,
            ),
            (
                serde_json::json!({"text": "a b", "sampling_params": {"max_new_tokens": 3}}),
                2,
                3,
            ),
            (
                serde_json::json!({"prompt": "a", "options": {"num_predict": 9}}),
                1,
                9,
            ),
            (serde_json::json!({"prompt": "a", "n_predict": -1}), 1, 16),
        ];
        for (json, prompt, limit) in cases {
            let b = body(json.clone());
            assert_eq!(
                (b.prompt_tokens(), b.max_tokens()),
                (prompt, limit),
                "{json}"
            );
        }
        assert_eq!(
            body(serde_json::json!({"inputs": "a"})).dialect_at(Api::Sglang),
            Api::Tgi
        );
        assert_eq!(
            body(serde_json::json!({"text": "a"})).dialect_at(Api::Sglang),
            Api::Sglang
        );
        assert!(body(serde_json::json!({})).stream(true));
    }
}
