//! A share of requests (goodput) as a proportion with its Wilson score interval, whether that
//! interval settles the probe against the target, and how many requests would settle it.

use serde::{Deserialize, Serialize};

/// z for a two-sided 95% interval.
const Z: f64 = 1.959_963_984_540_054;

/// What a probe's goodput says against the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Settled {
    /// The whole interval is at or above the target.
    Meets,
    /// The whole interval is below the target.
    Misses,
    /// The interval holds the target: the point estimate decides, with less certainty.
    Unsure,
}

/// A share of requests with its 95% Wilson score interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub met: u64,
    pub total: u64,
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
}

impl Share {
    /// `met` of `total`, with its interval (0 of 0 is an interval of 0 to 1).
    pub fn of(met: u64, total: u64) -> Self {
        if total == 0 {
            return Self {
                met,
                total,
                ratio: 0.0,
                low: 0.0,
                high: 1.0,
            };
        }
        let n = total as f64;
        let p = met as f64 / n;
        let z2 = Z * Z;
        let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
        let half = Z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
        Self {
            met,
            total,
            ratio: p,
            low: (centre - half).max(0.0),
            high: (centre + half).min(1.0),
        }
    }

    /// Whether the interval settles the share against `target`.
    pub fn against(&self, target: f64) -> Settled {
        if self.low >= target {
            Settled::Meets
        } else if self.high < target {
            Settled::Misses
        } else {
            Settled::Unsure
        }
    }

    /// The fewest requests whose interval would settle a share like this one against
    /// `target` (to a tenth); `None` when none up to ten million would (it sits on the
    /// target).
    pub fn requests_to_settle(&self, target: f64) -> Option<u64> {
        let mut n = self.total.max(10);
        while n <= 10_000_000 {
            let met = (self.ratio * n as f64).round() as u64;
            if Share::of(met, n).against(target) != Settled::Unsure {
                return Some(n);
            }
            n += n.div_ceil(10);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_intervals_settle_only_when_clear_of_the_target() {
        let all = Share::of(100, 100);
        assert!((all.low - 0.963).abs() < 0.001, "{all:?}");
        assert_eq!(all.against(0.95), Settled::Meets);
        assert_eq!(
            Share::of(20, 20).against(0.95),
            Settled::Unsure,
            "20 of 20 is not yet 95%"
        );
        assert_eq!(Share::of(3, 20).against(0.95), Settled::Misses);
        let near = Share::of(93, 100);
        assert_eq!(near.against(0.95), Settled::Unsure);
        let needed = near.requests_to_settle(0.95).unwrap();
        assert!((400..=800).contains(&needed), "{needed}");
        let high = Share::of(98, 100).requests_to_settle(0.95).unwrap();
        let met = (high as f64 * 0.98).round() as u64;
        assert!(
            high > 100 && Share::of(met, high).against(0.95) == Settled::Meets,
            "{high}"
        );
    }
}
