//! Prompt sets and traces named by a scenario (`workload.prompt.path`): read once when the
//! plan is made, every entry checked, so that a bad line fails the run before it starts
//! with the file, the line and the field. A JSONL file is read line by line; a JSON array
//! (ShareGPT's own format) element by element, each with the line it starts on.

mod prompts;
mod trace;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use super::PromptKind;

/// Entries drawn from a prompt set when `sample` is not given.
pub const DEFAULT_SAMPLE: usize = 1000;

/// One chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub role: String,
    pub content: String,
}

/// What an entry asks the server.
#[derive(Debug, Clone, PartialEq)]
pub enum EntryPrompt {
    /// A prompt as text.
    Text(String),
    /// A chat, ending with the user's turn.
    Messages(Vec<Message>),
    /// A trace's request: synthetic text of `input` tokens, its leading blocks of
    /// `block_tokens` named by `blocks` (requests naming a block share its text).
    Lengths { input: u32, blocks: Vec<u64> },
}

/// One request of a prompt set or a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub prompt: EntryPrompt,
    /// The output length the entry asks for (a trace's, a JSONL line's `output_tokens`).
    pub output_tokens: Option<u32>,
    /// The recorded reply (ShareGPT), whose length is the output length.
    pub reply: Option<String>,
    /// When the request arrives, from the trace's first arrival.
    pub offset: Option<Duration>,
}

/// The entries of a file, in the order they are sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub path: PathBuf,
    pub entries: Vec<Entry>,
}

/// A prompt set or trace that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{path}: cannot read: {reason}")]
    Read {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("{path}:{line}: {field}: {message}")]
    Entry {
        path: PathBuf,
        line: usize,
        field: String,
        message: String,
    },
}

/// What is wrong with one entry: the field and why.
pub(super) type Problem = (String, String);

pub(super) fn problem(field: &str, message: impl Into<String>) -> Problem {
    (field.to_owned(), message.into())
}

/// How the entries of a file are read.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    pub kind: PromptKind,
    /// Whether each entry must give its output length (the workload gives none).
    pub needs_output: bool,
}

impl Dataset {
    /// Reads and checks every entry of `path` as `reading.kind` says.
    pub fn read(path: &Path, reading: Reading) -> Result<Self, DatasetError> {
        let text = std::fs::read_to_string(path).map_err(|reason| DatasetError::Read {
            path: path.to_owned(),
            reason,
        })?;
        let fail = |line: usize, (field, message): Problem| DatasetError::Entry {
            path: path.to_owned(),
            line,
            field,
            message,
        };
        let mut entries = Vec::new();
        let mut previous = None;
        for (line, value) in values(&text).map_err(|(line, p)| fail(line, p))? {
            let entry = match reading.kind {
                PromptKind::Trace => trace::entry(&value, previous),
                kind => prompts::entry(kind, &value, reading.needs_output),
            }
            .map_err(|p| fail(line, p))?;
            previous = entry.offset.map(|o| (o, line));
            entries.push(entry);
        }
        if entries.is_empty() {
            return Err(fail(1, problem("(file)", "has no entries")));
        }
        Ok(Self {
            path: path.to_owned(),
            entries,
        })
    }

    /// Keeps `sample` entries (all, up to [`DEFAULT_SAMPLE`], when `None`): drawn with
    /// `seed` from a prompt set, the first ones of a trace (whose order is its schedule).
    pub fn sample(mut self, sample: Option<u32>, seed: u64, ordered: bool) -> Self {
        let keep = sample.map_or(DEFAULT_SAMPLE, |n| n as usize);
        if ordered {
            if sample.is_some() {
                self.entries.truncate(keep);
            }
        } else {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            self.entries.shuffle(&mut rng);
            self.entries.truncate(keep);
        }
        self
    }
}

/// The entries of a JSON array, or of JSONL, each with the line it starts on.
fn values(text: &str) -> Result<Vec<(usize, Value)>, (usize, Problem)> {
    if text.trim_start().starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| {
            let (line, message) = (e.line(), format!("not a JSON array: {e}"));
            (line, problem("(file)", message))
        })?;
        let line_of = |raw: &RawValue| {
            let at = raw.get().as_ptr() as usize - text.as_ptr() as usize;
            text[..at].matches('\n').count() + 1
        };
        return items
            .into_iter()
            .map(|raw| {
                let value = serde_json::from_str(raw.get()).expect("a parsed element reparses");
                Ok((line_of(raw), value))
            })
            .collect();
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line)
                .map(|value| (i + 1, value))
                .map_err(|e| (i + 1, problem("(line)", format!("not JSON: {e}"))))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    pub(super) fn read(kind: PromptKind, text: &str) -> Result<Dataset, String> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let reading = Reading {
            kind,
            needs_output: true,
        };
        Dataset::read(file.path(), reading).map_err(|e| {
            let shown = e.to_string();
            shown.replace(&file.path().display().to_string(), "F")
        })
    }

    #[test]
    fn a_line_that_is_not_json_is_named_with_its_line() {
        let text = "{\"prompt\": \"a\"}\n\n{oops\n";
        let e = read(PromptKind::Jsonl, text).unwrap_err();
        assert!(e.starts_with("F:3: (line): not JSON: "), "{e}");
    }

    #[test]
    fn array_elements_are_named_by_the_line_they_start_on() {
        let text = "[\n {\"conversations\": [{\"from\": \"human\", \"value\": \"hi\"}, {\"from\": \"gpt\", \"value\": \"yo\"}]},\n {\"conversations\": [{\"from\": \"gpt\", \"value\": \"x\"}]}\n]";
        let e = read(PromptKind::Sharegpt, text).unwrap_err();
        assert!(e.starts_with("F:3: conversations: no user turn"), "{e}");
    }

    #[test]
    fn a_prompt_set_is_sampled_with_its_seed_and_a_trace_keeps_its_order() {
        let text: String = (0..20)
            .map(|i| format!("{{\"prompt\": \"p{i}\", \"output_tokens\": 4}}\n"))
            .collect();
        let set = read(PromptKind::Jsonl, &text).unwrap();
        let a = set.clone().sample(Some(5), 1, false);
        assert_eq!(a.entries.len(), 5);
        assert_eq!(a, set.clone().sample(Some(5), 1, false));
        assert_ne!(a, set.clone().sample(Some(5), 2, false));
        let first = set.clone().sample(Some(3), 1, true);
        assert_eq!(first.entries, set.entries[..3]);
    }
}
