//! Prompts of exact token length: a tokenizer (the server's `/tokenize`, else tiktoken),
//! a calibrated vocabulary of single-token words, a seeded generator that makes every
//! prompt unique from its first token so that prefix caches cannot flatter TTFT, and the
//! probe that measures what the server adds around a prompt.

mod overhead;
mod prompt;
mod tokenizer;
mod words;

pub use overhead::{probe_server, Probe};
pub use prompt::PromptFactory;
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
