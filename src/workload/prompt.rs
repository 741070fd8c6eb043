//! Synthetic prompts of exact token length. Each prompt is a sequence of single-token
//! words (each with its leading space), so `n` words are `n` tokens. The first two words
//! encode the prompt's index, so prompts differ from their first token on; the rest come
//! from a ChaCha8 generator seeded by (seed, index): the same seed gives the same prompts.
//! With shared prefixes, prompt `i` starts with prefix `i mod prefixes` (made the same way
//! from a seed of their own) and goes on unique.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{words::WORDS, Tokenizer, WorkloadError};
use crate::scenario::SharedPrefix;

/// Fewest single-token words a tokenizer must accept for prompts to stay varied.
const MIN_WORDS: usize = 64;

/// Builds prompts from a vocabulary calibrated against one tokenizer.
#[derive(Debug, Clone)]
pub struct PromptFactory {
    words: Vec<&'static str>,
    seed: u64,
    shared: Option<SharedPrefix>,
}

/// Mixed into the seed of the shared prefixes, so that they differ from every prompt.
const PREFIX_SEED: u64 = 0x5EED_F00D_CAFE_0001;
/// Mixed into the seed of a trace's blocks.
const BLOCK_SEED: u64 = 0x5EED_B10C_CAFE_0002;

impl PromptFactory {
    /// Keeps the words that `tokenizer` counts as one token each. Sets of words are counted
    /// together and split only when a set miscounts, so a clean vocabulary costs one call.
    /// A token the tokenizer adds to every text (SentencePiece's leading `▁`) is measured
    /// first and discounted.
    pub async fn calibrate(tokenizer: &Tokenizer, seed: u64) -> Result<Self, WorkloadError> {
        let one = tokenizer.count(" the").await?;
        let two = tokenizer.count(" the the").await?;
        let added = if two == one + 1 { one - 1 } else { 0 };
        let mut single = Vec::new();
        let mut pending = vec![WORDS];
        while let Some(set) = pending.pop() {
            let n = tokenizer.count(&join(set.iter().copied())).await?;
            if n.saturating_sub(added) == set.len() {
                single.extend_from_slice(set);
            } else if set.len() > 1 {
                let (a, b) = set.split_at(set.len() / 2);
                pending.push(b);
                pending.push(a);
            }
        }
        if single.len() < MIN_WORDS {
            return Err(WorkloadError::Vocabulary { needed: MIN_WORDS });
        }
        Ok(Self::from_words(single, seed))
    }

    /// A factory over a given vocabulary (each word assumed to be one token).
    pub fn from_words(words: Vec<&'static str>, seed: u64) -> Self {
        Self {
            words,
            seed,
            shared: None,
        }
    }

    /// The same factory with prompts that start with shared prefixes.
    pub fn with_shared_prefix(self, shared: Option<SharedPrefix>) -> Self {
        Self { shared, ..self }
    }

    /// The prompt number `index` with `tokens` tokens.
    pub fn build(&self, index: u64, tokens: u32) -> String {
        match self.shared {
            Some(p) if tokens > p.tokens && p.prefixes > 0 => {
                let prefix = self.text(
                    self.seed ^ PREFIX_SEED,
                    index % u64::from(p.prefixes),
                    p.tokens,
                );
                prefix + &self.text(self.seed, index, tokens - p.tokens)
            }
            _ => self.text(self.seed, index, tokens),
        }
    }

    /// The prompt number `index` with `tokens` tokens whose start is the text of `blocks`
    /// (`block_tokens` each, the same text for the same block number in every prompt), as
    /// many as fit; the rest is unique.
    pub fn build_blocks(
        &self,
        index: u64,
        tokens: u32,
        blocks: &[u64],
        block_tokens: u32,
    ) -> String {
        let mut text = String::new();
        let mut left = tokens;
        for &block in blocks {
            if left < block_tokens || block_tokens == 0 {
                break;
            }
            text += &self.text(self.seed ^ BLOCK_SEED, block, block_tokens);
            left -= block_tokens;
        }
        if left > 0 {
            text += &self.text(self.seed, index, left);
        }
        text
    }

    /// `tokens` words for `index` drawn with `seed`.
    fn text(&self, seed: u64, index: u64, tokens: u32) -> String {
        let w = self.words.len() as u64;
        let lead = index.wrapping_add(seed);
        let leading = [lead % w, (lead / w) % w];
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let picks = (0..tokens as usize).map(|i| {
            let k = leading
                .get(i)
                .copied()
                .unwrap_or_else(|| rng.random_range(0..w));
            self.words[k as usize]
        });
        join(picks)
    }
}

fn join<'a>(words: impl Iterator<Item = &'a str>) -> String {
    let mut text = String::new();
    for word in words {
        text.push(' ');
        text.push_str(word);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::TokenizerChoice;
    use std::collections::HashSet;

    async fn cl100k() -> Tokenizer {
        let url = reqwest::Url::parse("http://127.0.0.1:9/").unwrap();
        Tokenizer::resolve(
            TokenizerChoice::Cl100kBase,
            &reqwest::Client::new(),
            &url,
            "m",
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn prompts_have_exact_length_for_the_calibrated_tokenizer() {
        let tokenizer = cl100k().await;
        let factory = PromptFactory::calibrate(&tokenizer, 7).await.unwrap();
        for (index, tokens) in [(0, 1), (1, 512), (99, 3000)] {
            let text = factory.build(index, tokens);
            assert_eq!(tokenizer.count(&text).await.unwrap(), tokens as usize);
        }
    }

    #[test]
    fn prompts_are_reproducible_and_unique_from_the_first_tokens() {
        let factory = PromptFactory::from_words(WORDS.to_vec(), 3);
        assert_eq!(factory.build(5, 40), factory.build(5, 40));
        let leads: HashSet<String> = (0..2000)
            .map(|i| {
                factory
                    .build(i, 40)
                    .split(' ')
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        assert_eq!(leads.len(), 2000);
        let other_seed = PromptFactory::from_words(WORDS.to_vec(), 4);
        assert_ne!(factory.build(5, 40), other_seed.build(5, 40));
    }

    #[test]
    fn a_traces_blocks_are_shared_text_and_the_rest_is_unique() {
        let factory = PromptFactory::from_words(WORDS.to_vec(), 3);
        let words = |text: String| {
            text.split(' ')
                .skip(1)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let a = words(factory.build_blocks(0, 25, &[7, 8], 10));
        let b = words(factory.build_blocks(1, 25, &[7, 9], 10));
        assert_eq!((a.len(), b.len()), (25, 25));
        assert_eq!(a[..10], b[..10], "block 7 is the same text");
        assert_ne!(a[10..20], b[10..20], "blocks 8 and 9 differ");
        let short = words(factory.build_blocks(2, 15, &[7, 8], 10));
        assert_eq!(
            (short.len(), &short[..10]),
            (15, &a[..10]),
            "only whole blocks that fit"
        );
    }

    #[test]
    fn shared_prefixes_start_their_prompts_and_the_rest_is_unique() {
        let shared = SharedPrefix {
            prefixes: 2,
            tokens: 30,
        };
        let factory = PromptFactory::from_words(WORDS.to_vec(), 3).with_shared_prefix(Some(shared));
        let words = |i: u64| {
            factory
                .build(i, 50)
                .split(' ')
                .skip(1)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let (a, b, c) = (words(0), words(1), words(2));
        assert_eq!(a.len(), 50);
        assert_eq!(a[..30], c[..30], "prompts 0 and 2 share prefix 0");
        assert_ne!(a[..30], b[..30], "prompt 1 has prefix 1");
        assert_ne!(a[30..], c[30..], "the rest is unique");
    }
}
