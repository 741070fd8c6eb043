//! Goodput: the share of requests that meet every SLO criterion at once (a failed request
//! meets none), with the count per criterion, as in NVIDIA GenAI-Perf.

use super::RequestFigures;
use crate::result::{CriterionCount, Goodput};
use crate::scenario::Slo;

/// Folds requests into a [`Goodput`].
#[derive(Debug, Clone)]
pub struct GoodputCounter {
    slo: Slo,
    total: u64,
    met: u64,
    per_criterion: [u64; 3],
}

impl GoodputCounter {
    pub fn new(slo: Slo) -> Self {
        Self {
            slo,
            total: 0,
            met: 0,
            per_criterion: [0; 3],
        }
    }

    fn criteria(&self) -> [(&'static str, Option<f64>); 3] {
        [
            ("ttft_ms", self.slo.ttft_ms),
            ("tpot_ms", self.slo.tpot_ms),
            ("e2e_ms", self.slo.e2e_ms),
        ]
    }

    /// Adds one request: its figures when it succeeded, `None` when it failed.
    pub fn add(&mut self, figures: Option<&RequestFigures>) {
        self.total += 1;
        let Some(f) = figures else { return };
        let values = [
            Some(f.ttft_us as f64),
            f.tpot_us, // a one-token answer has no TPOT and cannot miss it
            Some(f.e2e_us as f64),
        ];
        let mut all = true;
        for (i, (_, threshold)) in self.criteria().into_iter().enumerate() {
            let Some(limit_ms) = threshold else { continue };
            let ok = values[i].is_none_or(|us| us < limit_ms * 1000.0);
            self.per_criterion[i] += u64::from(ok);
            all &= ok;
        }
        self.met += u64::from(all);
    }

    pub fn finish(&self) -> Goodput {
        let per_criterion = self
            .criteria()
            .into_iter()
            .zip(self.per_criterion)
            .filter_map(|((name, threshold), met)| {
                threshold
                    .map(|threshold_ms| (name.to_owned(), CriterionCount { threshold_ms, met }))
            })
            .collect();
        Goodput {
            slo: self.slo.clone(),
            ratio: if self.total == 0 {
                0.0
            } else {
                self.met as f64 / self.total as f64
            },
            met: self.met,
            total: self.total,
            per_criterion,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::request::TokenSource;

    fn req(ttft_ms: u64, tpot_ms: f64) -> RequestFigures {
        RequestFigures {
            ttft_us: ttft_ms * 1000,
            e2e_us: ttft_ms * 1000 + 10_000,
            tpot_us: Some(tpot_ms * 1000.0),
            output_tokens: 10,
            input_tokens: None,
            token_source: TokenSource::ServerUsage,
        }
    }

    #[test]
    fn all_criteria_must_hold_and_failures_count_against() {
        let mut g = GoodputCounter::new(Slo {
            ttft_ms: Some(500.0),
            tpot_ms: Some(50.0),
            e2e_ms: None,
        });
        g.add(Some(&req(100, 10.0))); // meets both
        g.add(Some(&req(600, 10.0))); // misses TTFT
        g.add(Some(&req(100, 60.0))); // misses TPOT
        g.add(None); // failed
        let r = g.finish();
        assert_eq!((r.met, r.total), (1, 4));
        assert_eq!(r.per_criterion["ttft_ms"].met, 2);
        assert_eq!(r.per_criterion["tpot_ms"].met, 2);
        let text = r.to_string();
        assert!(
            text.starts_with("Goodput: 25.0% (1/4 requests met SLO)"),
            "{text}"
        );
        assert!(text.contains("TTFT < 500ms: 2/4 (50%)"), "{text}");
    }
}
