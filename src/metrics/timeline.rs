//! Builds a point's [`Timeline`] as records arrive: each request counted in the window it
//! was sent in and the one it ended in; the TTFT and ITL samples of a window kept in small
//! reservoirs until no more can come (two windows later), then turned into percentiles and
//! dropped, so that a soak holds a few numbers per window, not every request; past
//! [`MAX_WINDOWS`] windows, neighbours merge and the width doubles, so a run of days holds
//! at most that many.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::result::{TimeWindow, Timeline};

/// Samples each window keeps of TTFT and of ITL.
const RESERVOIR: usize = 256;

/// Most windows a timeline holds.
pub const MAX_WINDOWS: usize = 1024;

/// A bounded uniform sample of a stream (Vitter's algorithm R).
#[derive(Debug, Clone, Default)]
struct Reservoir {
    seen: u64,
    kept: Vec<f64>,
}

impl Reservoir {
    fn add(&mut self, value: f64, rng: &mut ChaCha8Rng) {
        self.seen += 1;
        if self.kept.len() < RESERVOIR {
            self.kept.push(value);
        } else {
            let slot = rng.random_range(0..self.seen);
            if let Some(kept) = self.kept.get_mut(slot as usize) {
                *kept = value;
            }
        }
    }

    /// The nearest-rank p50 and p99 of what was kept, dropping it.
    fn percentiles(&mut self) -> (Option<f64>, Option<f64>) {
        let mut kept = std::mem::take(&mut self.kept);
        if kept.is_empty() {
            return (None, None);
        }
        kept.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let rank = ((q * kept.len() as f64).ceil() as usize).clamp(1, kept.len());
            kept.get(rank - 1).copied()
        };
        (at(0.5), at(0.99))
    }
}

/// One window while it can still receive samples.
#[derive(Debug, Clone, Default)]
struct Open {
    window: TimeWindow,
    output_tokens: u64,
    ttft: Reservoir,
    itl: Reservoir,
    closed: bool,
}

/// What a finished request adds to the timeline.
pub struct Ended<'a> {
    pub sent: Instant,
    pub end: Instant,
    /// Behind schedule (open loop), ms.
    pub send_lag_ms: Option<f64>,
    pub output_tokens: u64,
    pub ttft_ms: Option<f64>,
    /// ITL gaps in microseconds, each with the tokens it stands for.
    pub itl_gaps: &'a [(u64, u64)],
    /// The failure's kind, when it failed.
    pub error: Option<&'a str>,
}

/// The timeline of one point under construction.
#[derive(Debug, Clone)]
pub struct TimelineBuilder {
    origin: Instant,
    width: Duration,
    windows: Vec<Open>,
    /// The latest end seen, from the origin.
    last_end: Duration,
    /// Windows before this one are closed.
    closed_upto: usize,
    rng: ChaCha8Rng,
}

impl TimelineBuilder {
    /// Windows of `width` from `origin` (the start of the measured window).
    pub fn new(origin: Instant, width: Duration) -> Self {
        Self {
            origin,
            width: width.max(Duration::from_millis(1)),
            windows: Vec::new(),
            last_end: Duration::ZERO,
            closed_upto: 0,
            rng: ChaCha8Rng::seed_from_u64(0),
        }
    }

    fn index(&mut self, at: Instant) -> usize {
        let offset = at.saturating_duration_since(self.origin);
        let mut index = (offset.as_nanos() / self.width.as_nanos()) as usize;
        while index >= MAX_WINDOWS {
            self.halve();
            index /= 2;
        }
        while self.windows.len() <= index {
            let start_s = self.windows.len() as f64 * self.width.as_secs_f64();
            self.windows.push(Open {
                window: TimeWindow {
                    start_s,
                    ..TimeWindow::default()
                },
                ..Open::default()
            });
        }
        index
    }

    /// Merges neighbouring windows, doubling the width: counts add up, a merged p50 is
    /// the mean of the two weighted by their requests and a merged p99 the higher one.
    fn halve(&mut self) {
        self.width *= 2;
        let old = std::mem::take(&mut self.windows);
        let mut pairs = old.into_iter();
        while let Some(mut first) = pairs.next() {
            first.close();
            first.window.start_s = self.windows.len() as f64 * self.width.as_secs_f64();
            if let Some(mut second) = pairs.next() {
                second.close();
                first.absorb(second);
            }
            self.windows.push(first);
        }
        self.closed_upto = self.windows.len();
    }

    /// Counts a finished request.
    pub fn add(&mut self, request: &Ended) {
        let started = self.index(request.sent);
        let window = &mut self.windows[started].window;
        window.started += 1;
        if let Some(lag) = request.send_lag_ms {
            window.send_lag_max_ms = Some(window.send_lag_max_ms.map_or(lag, |l| l.max(lag)));
        }
        let ended = self.index(request.end);
        self.last_end = self
            .last_end
            .max(request.end.saturating_duration_since(self.origin));
        let rng = &mut self.rng;
        let open = &mut self.windows[ended];
        open.window.finished += 1;
        open.output_tokens += request.output_tokens;
        if let Some(kind) = request.error {
            *open.window.errors.entry(kind.to_owned()).or_default() += 1;
        }
        if !open.closed {
            if let Some(ttft) = request.ttft_ms {
                open.ttft.add(ttft, rng);
            }
            for &(gap_us, tokens) in request.itl_gaps {
                for _ in 0..tokens {
                    open.itl.add(gap_us as f64 / 1000.0, rng);
                }
            }
        }
        // Requests are folded as they end, so windows two behind the newest end are whole.
        let whole = ended.saturating_sub(1);
        for open in self.windows.iter_mut().take(whole).skip(self.closed_upto) {
            open.close();
        }
        self.closed_upto = self.closed_upto.max(whole);
    }

    /// The timeline, the last window as long as the point lasted into it, with the means
    /// of the gauges sampled in each window (`gauges`: windows of their own width from the
    /// same origin, oldest first).
    pub fn finish(mut self, gauges: (Duration, Vec<BTreeMap<String, f64>>)) -> Timeline {
        let (gauge_width, gauges) = gauges;
        let gauge_width = gauge_width.as_secs_f64().max(1e-9);
        let width = self.width.as_secs_f64();
        let end_s = self.last_end.as_secs_f64();
        let mut in_flight: i64 = 0;
        let windows = self
            .windows
            .iter_mut()
            .map(|open| {
                open.close();
                in_flight += i64::from(open.window.started) - i64::from(open.window.finished);
                open.window.in_flight = in_flight.max(0) as u32;
                // The last window lasts until the last request ended.
                let lasted = (end_s - open.window.start_s).clamp(width / 1000.0, width);
                open.window.output_tokens_per_s = open.output_tokens as f64 / lasted;
                std::mem::take(&mut open.window)
            })
            .map(|window: TimeWindow| {
                // The gauge windows may be narrower (they merge on their own clock).
                let at = (window.start_s / gauge_width).floor() as usize;
                let gauges = gauges.get(at).cloned().unwrap_or_default();
                TimeWindow { gauges, ..window }
            })
            .collect();
        Timeline {
            window_s: width,
            windows,
        }
    }
}

/// `a` and `b` weighted by `wa` and `wb` (either alone when the other is absent).
fn weighted(a: Option<f64>, wa: u32, b: Option<f64>, wb: u32) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if wa + wb > 0 => {
            Some((a * f64::from(wa) + b * f64::from(wb)) / f64::from(wa + wb))
        }
        (a, b) => a.or(b),
    }
}

impl Open {
    /// Takes in the next window (both closed).
    fn absorb(&mut self, next: Open) {
        let (w, n) = (&mut self.window, next.window);
        let higher = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        w.ttft_p50_ms = weighted(w.ttft_p50_ms, w.finished, n.ttft_p50_ms, n.finished);
        w.itl_p50_ms = weighted(w.itl_p50_ms, w.finished, n.itl_p50_ms, n.finished);
        w.ttft_p99_ms = higher(w.ttft_p99_ms, n.ttft_p99_ms);
        w.itl_p99_ms = higher(w.itl_p99_ms, n.itl_p99_ms);
        w.send_lag_max_ms = higher(w.send_lag_max_ms, n.send_lag_max_ms);
        w.started += n.started;
        w.finished += n.finished;
        for (kind, count) in n.errors {
            *w.errors.entry(kind).or_default() += count;
        }
        self.output_tokens += next.output_tokens;
    }

    fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        (self.window.ttft_p50_ms, self.window.ttft_p99_ms) = self.ttft.percentiles();
        (self.window.itl_p50_ms, self.window.itl_p99_ms) = self.itl.percentiles();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_count_where_they_start_and_end() {
        let origin = Instant::now();
        let at = |ms: u64| origin + Duration::from_millis(ms);
        let mut t = TimelineBuilder::new(origin, Duration::from_secs(1));
        let gaps = [(10_000, 1), (20_000, 2)];
        // Sent in window 0, ended in window 2; sent and ended in window 1 with an error.
        t.add(&Ended {
            sent: at(100),
            end: at(2500),
            send_lag_ms: Some(3.0),
            output_tokens: 4,
            ttft_ms: Some(50.0),
            itl_gaps: &gaps,
            error: None,
        });
        t.add(&Ended {
            sent: at(1100),
            end: at(1200),
            send_lag_ms: Some(1.0),
            output_tokens: 0,
            ttft_ms: None,
            itl_gaps: &[],
            error: Some("http_500"),
        });
        let timeline = t.finish((Duration::from_secs(1), Vec::new()));
        let w = &timeline.windows;
        assert_eq!(w.len(), 3);
        assert_eq!((w[0].started, w[0].finished, w[0].in_flight), (1, 0, 1));
        assert_eq!((w[1].started, w[1].finished, w[1].in_flight), (1, 1, 1));
        assert_eq!((w[2].started, w[2].finished, w[2].in_flight), (0, 1, 0));
        assert_eq!(w[1].errors["http_500"], 1);
        assert_eq!(w[0].send_lag_max_ms, Some(3.0));
        // 4 tokens in the last window, which lasted 0.5 s.
        assert_eq!(w[2].output_tokens_per_s, 8.0);
        assert_eq!(
            (w[2].ttft_p50_ms, w[2].itl_p50_ms, w[2].itl_p99_ms),
            (Some(50.0), Some(20.0), Some(20.0))
        );
        assert_eq!(w[1].ttft_p50_ms, None);
    }

    #[test]
    fn a_window_keeps_a_bounded_sample() {
        let origin = Instant::now();
        let mut t = TimelineBuilder::new(origin, Duration::from_secs(1));
        let gaps = [(1_000, 1); 10];
        for i in 0..2000u64 {
            let at = origin + Duration::from_micros(i * 400);
            t.add(&Ended {
                sent: at,
                end: at,
                send_lag_ms: None,
                output_tokens: 1,
                ttft_ms: Some(i as f64),
                itl_gaps: &gaps,
                error: None,
            });
            assert!(t
                .windows
                .iter()
                .all(|w| w.ttft.kept.len() <= RESERVOIR && w.itl.kept.len() <= RESERVOIR));
        }
        let timeline = t.finish((Duration::from_secs(1), Vec::new()));
        assert_eq!(timeline.windows.len(), 1);
        let p50 = timeline.windows[0].ttft_p50_ms.unwrap();
        assert!((800.0..1200.0).contains(&p50), "{p50}");
    }

    #[test]
    fn a_long_run_merges_windows_to_stay_bounded() {
        let origin = Instant::now();
        let mut t = TimelineBuilder::new(origin, Duration::from_secs(1));
        for second in 0..3000u64 {
            let at = origin + Duration::from_millis(second * 1000 + 500);
            t.add(&Ended {
                sent: at,
                end: at,
                send_lag_ms: None,
                output_tokens: 2,
                ttft_ms: Some(second as f64),
                itl_gaps: &[],
                error: None,
            });
            assert!(t.windows.len() <= MAX_WINDOWS);
        }
        let timeline = t.finish((Duration::from_secs(1), Vec::new()));
        assert_eq!(timeline.window_s, 4.0);
        assert_eq!(timeline.windows.len(), 750);
        let w = &timeline.windows[10];
        assert_eq!((w.start_s, w.started, w.finished), (40.0, 4, 4));
        assert_eq!(w.output_tokens_per_s, 2.0);
        assert_eq!((w.ttft_p50_ms, w.ttft_p99_ms), (Some(41.5), Some(43.0)));
    }
}
