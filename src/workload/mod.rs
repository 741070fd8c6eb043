//! The requests a run sends: prompts of exact token length (a tokenizer, the server's
//! `/tokenize` else tiktoken, and a calibrated vocabulary of single-token words), a seeded
//! generator that makes every prompt unique from its first token so that prefix caches
//! cannot flatter TTFT, lengths drawn from distributions, prompt sets, traces and
//! conversations, and the probe that measures what the server adds around a prompt.

mod lengths;
mod overhead;
mod prompt;
mod requests;
mod tokenizer;
pub(crate) mod words;

pub use overhead::{probe_server, Probe};
pub use prompt::PromptFactory;
pub use requests::{Made, RequestMaker};
pub use tokenizer::Tokenizer;

/// Failures while preparing prompts.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("the server has no /tokenize endpoint (target.tokenizer is `server`): {0}")]
    NoServerTokenizer(String),
    #[error(
        "fewer than {needed} words of the prompt vocabulary are single tokens for this tokenizer"
    )]
    Vocabulary { needed: usize },
}
