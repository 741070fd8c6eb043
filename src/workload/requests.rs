//! Each request of a point: its class (drawn by weight), its prompt (synthetic text of a
//! drawn length, a prompt-set entry, a trace entry, or a conversation's next user turn)
//! and its output length. Every draw comes from the run's seed and the request's index, so
//! the same seed gives the same requests, in any order and in any process.

use std::time::Duration;

use futures_util::stream::{self, StreamExt, TryStreamExt};
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution as _;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::lengths::draw;
use super::{PromptFactory, Tokenizer, WorkloadError};
use crate::client::Prompt;
use crate::scenario::{EntryPrompt, LengthSpec, Message, Plan, Source};

/// Mixed into the seed of each request's draws.
const DRAW_SEED: u64 = 0x5EED_D2A3_CAFE_0003;
/// Token counts asked of the tokenizer at once while a prompt set is measured.
const COUNTING_CONCURRENCY: usize = 8;

/// One request, ready for the adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct Made {
    /// Index into the plan's classes (0 without classes).
    pub class: usize,
    /// The prompt tokens the server should count, when known exactly.
    pub planned_input: Option<u32>,
    pub max_tokens: u32,
    pub prompt: Prompt,
}

/// The lengths of a prompt-set or trace entry, in the server's tokens.
#[derive(Debug, Clone, Copy)]
struct EntryLengths {
    planned_input: Option<u32>,
    output: u32,
}

/// A class's lengths.
#[derive(Debug, Clone)]
struct ClassLengths {
    input: LengthSpec,
    output: Option<LengthSpec>,
}

/// Makes the requests of a run's points.
pub struct RequestMaker {
    factory: PromptFactory,
    source: Source,
    /// Per entry of the prompt set or trace.
    entries: Vec<EntryLengths>,
    classes: Vec<ClassLengths>,
    weights: Option<WeightedIndex<f64>>,
    output: Option<LengthSpec>,
    /// Tokens the server adds around a prompt.
    overhead: u32,
    seed: u64,
}

impl RequestMaker {
    /// The maker of `plan`'s requests with prompts from `factory`; a prompt set's or
    /// trace's lengths are counted with `tokenizer` (`overhead`: the tokens the server
    /// adds around a prompt).
    pub async fn new(
        plan: &Plan,
        factory: PromptFactory,
        tokenizer: &Tokenizer,
        overhead: u32,
    ) -> Result<Self, WorkloadError> {
        let weights = (!plan.classes.is_empty())
            .then(|| WeightedIndex::new(plan.classes.iter().map(|c| c.weight)).ok())
            .flatten();
        let mut maker = Self {
            factory,
            source: plan.source.clone(),
            entries: Vec::new(),
            classes: plan
                .classes
                .iter()
                .map(|c| ClassLengths {
                    input: c.input_tokens.clone(),
                    output: c.output_tokens.clone(),
                })
                .collect(),
            weights,
            output: plan.request.output.clone(),
            overhead,
            seed: plan.seed,
        };
        maker.entries = maker.measure_entries(tokenizer).await?;
        Ok(maker)
    }

    /// The lengths of every entry of the plan's prompt set or trace (none otherwise).
    async fn measure_entries(
        &self,
        tokenizer: &Tokenizer,
    ) -> Result<Vec<EntryLengths>, WorkloadError> {
        let entries = match &self.source {
            Source::Dataset(set) | Source::Trace { trace: set, .. } => &set.entries,
            _ => return Ok(Vec::new()),
        };
        let fixed_output = self.output.is_some();
        stream::iter(entries)
            .map(|entry| async move {
                let planned_input = match &entry.prompt {
                    EntryPrompt::Text(text) => {
                        Some(tokenizer.count(text).await? as u32 + self.overhead)
                    }
                    EntryPrompt::Messages(_) => None,
                    EntryPrompt::Lengths { input, .. } => Some((*input).max(self.overhead + 1)),
                };
                let output = match (&entry.output_tokens, &entry.reply) {
                    _ if fixed_output => 0,
                    (Some(n), _) => *n,
                    (None, Some(reply)) => (tokenizer.count(reply).await? as u32).max(1),
                    (None, None) => 1,
                };
                Ok(EntryLengths {
                    planned_input,
                    output,
                })
            })
            .buffered(COUNTING_CONCURRENCY)
            .try_collect()
            .await
    }

    /// The generator of request `index`'s draws (`salt` tells a conversation's turns
    /// apart).
    fn rng(&self, index: u64, salt: u64) -> ChaCha8Rng {
        let mixed = index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.rotate_left(32);
        ChaCha8Rng::seed_from_u64(self.seed ^ DRAW_SEED ^ mixed)
    }

    /// Request `index` of the run (`seq`: its place in the point's schedule, which picks a
    /// trace's entry), with the point's `input` lengths.
    pub fn make(&self, input: Option<&LengthSpec>, index: u64, seq: Option<u64>) -> Made {
        let mut rng = self.rng(index, 0);
        let entries = match &self.source {
            Source::Dataset(set) => Some((set, index, 0)),
            Source::Trace {
                trace,
                block_tokens,
            } => Some((trace, seq.unwrap_or(index), *block_tokens)),
            _ => None,
        };
        if let Some((set, at, block_tokens)) = entries {
            let at = (at % set.entries.len() as u64) as usize;
            let lengths = self.entries[at];
            let prompt = match &set.entries[at].prompt {
                EntryPrompt::Text(text) => Prompt::Text(text.clone()),
                EntryPrompt::Messages(messages) => Prompt::Messages(messages.clone()),
                EntryPrompt::Lengths { input, blocks } => {
                    let content = self.content_tokens(*input);
                    Prompt::Text(
                        self.factory
                            .build_blocks(index, content, blocks, block_tokens),
                    )
                }
            };
            let max_tokens = self
                .output
                .as_ref()
                .map_or(lengths.output, |o| draw(o, &mut rng));
            return Made {
                class: 0,
                planned_input: lengths.planned_input,
                max_tokens,
                prompt,
            };
        }
        let class = self.weights.as_ref().map_or(0, |w| w.sample(&mut rng));
        let (input, output) = match self.classes.get(class) {
            Some(c) => (Some(&c.input), c.output.as_ref().or(self.output.as_ref())),
            None => (input, self.output.as_ref()),
        };
        let (text, planned) = self.synthetic(index, input, &mut rng);
        let prompt = match self.source {
            Source::Conversation { .. } => Prompt::Messages(vec![user(text)]),
            _ => Prompt::Text(text),
        };
        let max_tokens = output.map_or(1, |o| draw(o, &mut rng));
        Made {
            class,
            planned_input: Some(planned),
            max_tokens,
            prompt,
        }
    }

    /// The user's message of turn `turn` (from 1) of conversation `index`, and the output
    /// tokens it asks for.
    pub fn next_turn(&self, input: Option<&LengthSpec>, index: u64, turn: u32) -> (Message, u32) {
        let mut rng = self.rng(index, u64::from(turn));
        let (text, _) = self.synthetic(index.wrapping_add(u64::from(turn) << 48), input, &mut rng);
        let max_tokens = self.output.as_ref().map_or(1, |o| draw(o, &mut rng));
        (user(text), max_tokens)
    }

    /// Synthetic text of a length drawn from `input`, and the prompt tokens it makes.
    fn synthetic(
        &self,
        index: u64,
        input: Option<&LengthSpec>,
        rng: &mut ChaCha8Rng,
    ) -> (String, u32) {
        let tokens = input.map_or(1, |i| draw(i, rng));
        let content = self.content_tokens(tokens);
        (self.factory.build(index, content), content + self.overhead)
    }

    /// The prompt's own tokens in an input of `tokens`: the server's overhead off, at least 1.
    fn content_tokens(&self, tokens: u32) -> u32 {
        tokens.saturating_sub(self.overhead).max(1)
    }

    /// Turns per conversation and the think time between them, for conversations.
    pub fn conversation(&self) -> Option<(u32, Duration)> {
        match self.source {
            Source::Conversation { turns, think } => Some((turns, think)),
            _ => None,
        }
    }

    /// A trace's arrival times from its first, in order (none without a trace).
    pub fn arrivals(&self) -> Vec<Duration> {
        let Source::Trace { trace, .. } = &self.source else {
            return Vec::new();
        };
        let offsets: Vec<Duration> = trace.entries.iter().filter_map(|e| e.offset).collect();
        let first = offsets.first().copied().unwrap_or_default();
        offsets.iter().map(|&o| o.saturating_sub(first)).collect()
    }
}

fn user(content: String) -> Message {
    Message {
        role: "user".to_owned(),
        content,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{parse_str, TokenizerChoice};
    use crate::secret::Secret;
    use std::path::Path;

    async fn maker(workload: &str) -> RequestMaker {
        let text = format!(
            r#"{{"name": "m", "target": {{"embedded": "sim", "profile": "fixed-20ms"}}, "workload": {workload},
                "load": {{"concurrency": [1], "requests": 1}}}}"#
        );
        let path = Path::new("m.json");
        let plan = Plan::new(
            parse_str(&text, path).unwrap(),
            Some(Secret::new("k")),
            path,
        )
        .unwrap();
        let url = reqwest::Url::parse("http://127.0.0.1:9/").unwrap();
        let http = reqwest::Client::new();
        let tokenizer = Tokenizer::resolve(TokenizerChoice::Cl100kBase, &http, &url, "m")
            .await
            .unwrap();
        let factory = PromptFactory::from_words(crate::workload::words::WORDS.to_vec(), plan.seed);
        RequestMaker::new(&plan, factory, &tokenizer, 5)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn classes_are_drawn_by_weight_with_their_own_lengths() {
        let m = maker(
            r#"{"classes": [{"name": "chat", "weight": 80, "input_tokens": 50, "output_tokens": 8},
                {"name": "long", "weight": 20, "input_tokens": 400}], "output_tokens": 3,
                "prompt": {"seed": 1}}"#,
        )
        .await;
        let made: Vec<Made> = (0..5000).map(|i| m.make(None, i, None)).collect();
        let long: Vec<&Made> = made.iter().filter(|r| r.class == 1).collect();
        let share = long.len() as f64 / made.len() as f64;
        assert!((share - 0.2).abs() < 0.015, "{share}");
        assert!(long
            .iter()
            .all(|r| r.planned_input == Some(400) && r.max_tokens == 3));
        let chat = made.iter().find(|r| r.class == 0).unwrap();
        assert_eq!((chat.planned_input, chat.max_tokens), (Some(50), 8));
        assert_eq!(m.make(None, 7, None), m.make(None, 7, None), "reproducible");
    }
}
