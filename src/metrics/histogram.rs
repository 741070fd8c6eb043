//! Latency histograms: HdrHistogram in microseconds (3 significant digits), summarized in
//! milliseconds and serialized as base64 of the V2+DEFLATE encoding.

use base64::Engine;
use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

use super::encoding::{decode, HistogramError};
use crate::result::Summary;

/// A latency histogram recording microseconds.
#[derive(Debug, Clone)]
pub struct LatencyHistogram(Histogram<u64>);

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self(Histogram::new(3).expect("3 significant digits is valid"))
    }
}

/// Microseconds to milliseconds, rounded to the microsecond.
fn ms(us: f64) -> f64 {
    us.round() / 1000.0
}

impl LatencyHistogram {
    /// Records one value in microseconds.
    pub fn record_us(&mut self, us: u64) {
        self.record_n_us(us, 1);
    }

    /// Records `count` occurrences of a value in microseconds.
    pub fn record_n_us(&mut self, us: u64, count: u64) {
        // The histogram auto-resizes, so recording cannot fail for u64 values.
        self.0
            .record_n(us, count)
            .expect("auto-resizing histogram accepts any value");
    }

    /// Summary in milliseconds (three decimals); all zero when empty.
    pub fn summary(&self) -> Summary {
        let h = &self.0;
        if h.is_empty() {
            return Summary::default();
        }
        let q = |p: f64| ms(h.value_at_quantile(p) as f64);
        Summary {
            mean: ms(h.mean()),
            std: ms(h.stdev()),
            min: ms(h.min() as f64),
            p50: q(0.50),
            p90: q(0.90),
            p95: q(0.95),
            p99: q(0.99),
            max: ms(h.max() as f64),
            count: h.len(),
        }
    }

    /// The recorded values in milliseconds, ascending, each repeated by its count (at the
    /// histogram's 3-digit resolution). Past `max` values, evenly spaced order statistics
    /// stand for the whole, so that statistics on them stay affordable.
    pub fn samples_ms(&self, max: usize) -> Vec<f64> {
        let total = self.0.len();
        let kept = total.min(max as u64);
        let mut samples = Vec::with_capacity(kept as usize);
        if kept == 0 {
            return samples;
        }
        // The i-th kept sample is the value at rank floor((i + 0.5) * total / kept).
        let rank_of = |i: u64| ((2 * i + 1) * total) / (2 * kept);
        let mut next = 0u64;
        let mut seen = 0u64;
        for v in self.0.iter_recorded() {
            seen += v.count_at_value();
            while next < kept && rank_of(next) < seen {
                samples.push(v.value_iterated_to() as f64 / 1000.0);
                next += 1;
            }
        }
        samples
    }

    /// Base64 of the V2+DEFLATE serialization.
    pub fn to_base64(&self) -> String {
        let mut bytes = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&self.0, &mut bytes)
            .expect("serializing into a Vec cannot fail");
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Reads a histogram written by [`Self::to_base64`], its declared sizes bounded.
    pub fn from_base64(text: &str) -> Result<Self, HistogramError> {
        decode(text).map(Self)
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// Adds every value recorded in `other`.
    pub fn add(&mut self, other: &LatencyHistogram) {
        self.0
            .add(&other.0)
            .expect("auto-resizing histograms accept any value");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_in_milliseconds() {
        let mut h = LatencyHistogram::default();
        for us in [10_000, 20_000, 30_000, 40_000] {
            h.record_us(us);
        }
        let s = h.summary();
        assert_eq!(s.count, 4);
        assert!((s.mean - 25.0).abs() < 0.05, "{s:?}");
        assert!(
            (s.min - 10.0).abs() < 0.01 && (s.max - 40.0).abs() < 0.05,
            "{s:?}"
        );
        assert!((s.p50 - 20.0).abs() < 0.05, "{s:?}");
    }

    #[test]
    fn base64_round_trip() {
        let mut h = LatencyHistogram::default();
        h.record_n_us(1234, 5);
        let back = LatencyHistogram::from_base64(&h.to_base64()).unwrap();
        assert_eq!(back.summary(), h.summary());
    }

    #[test]
    fn samples_expand_counts_and_thin_out_evenly() {
        let mut h = LatencyHistogram::default();
        h.record_n_us(1000, 3);
        h.record_n_us(2000, 1);
        assert_eq!(h.samples_ms(100), [1.0, 1.0, 1.0, 2.0]);
        let mut big = LatencyHistogram::default();
        for us in 1..=10_000 {
            big.record_us(us * 10);
        }
        let thin = big.samples_ms(100);
        assert_eq!(thin.len(), 100);
        assert!(thin.windows(2).all(|w| w[0] <= w[1]));
        let median = (thin[49] + thin[50]) / 2.0;
        assert!((median - 50.0).abs() < 1.0, "{median}");
    }

    #[test]
    fn empty_summary_is_zero() {
        assert_eq!(LatencyHistogram::default().summary(), Summary::default());
    }
}
