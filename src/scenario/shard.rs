//! One process's share of a plan run by several (`run --shard I/N`): closed-loop levels,
//! request counts and warmups split as evenly as possible, an open loop's arrivals dealt
//! out by their place in the one schedule, prompt indices interleaved so that the shards
//! together send the prompts one process would; and the barrier that starts each point's
//! measured window on every shard at the same wall-clock instant (`--start-at`).

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// Shard `index` of `count` (from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Default for Shard {
    fn default() -> Self {
        Self { index: 0, count: 1 }
    }
}

impl Shard {
    /// Whether this is the whole load (no sharding).
    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// This shard's part of `n` (levels, requests): `n / count`, one more for the first
    /// `n % count` shards.
    pub fn share(self, n: u32) -> u32 {
        n / self.count + u32::from(self.index < n % self.count)
    }

    /// Whether the `k`-th arrival of the one schedule is this shard's.
    pub fn owns(self, k: u64) -> bool {
        k % u64::from(self.count) == u64::from(self.index)
    }

    /// The plan-wide index of this shard's `local`-th prompt.
    pub fn prompt_index(self, local: u64) -> u64 {
        local * u64::from(self.count) + u64::from(self.index)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let expected = || format!("expected INDEX/COUNT such as 0/4 (index from 0), got `{text}`");
        let (index, count) = text.split_once('/').ok_or_else(expected)?;
        let index: u32 = index.trim().parse().map_err(|_| expected())?;
        let count: u32 = count.trim().parse().map_err(|_| expected())?;
        if count == 0 || index >= count {
            return Err(format!(
                "the index must be below the count, from 0: got `{text}`"
            ));
        }
        Ok(Self { index, count })
    }
}

/// When each point's measured window starts, on every shard alike.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Barrier {
    /// The first point's start.
    pub start: SystemTime,
    /// From one point's start to the next one's.
    pub interval: Duration,
}

impl Barrier {
    /// The start of the `k`-th measurement (points and trials in the order run).
    pub fn at(&self, k: u32) -> SystemTime {
        self.start + self.interval * k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_whole() {
        for count in 1..=5u32 {
            for n in 0..=11u32 {
                let shares: u32 = (0..count)
                    .map(|index| Shard { index, count }.share(n))
                    .sum();
                assert_eq!(shares, n, "{n} over {count}");
            }
        }
        let s = Shard { index: 1, count: 4 };
        assert_eq!((s.share(10), s.share(1)), (3, 0));
        assert!(s.owns(5) && !s.owns(6));
        assert_eq!(s.prompt_index(2), 9);
    }

    #[test]
    fn parsed_from_index_slash_count() {
        assert_eq!(
            "2/4".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 4 }
        );
        for bad in ["4/4", "1/0", "x/2", "3", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
