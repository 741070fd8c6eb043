//! The charts of the points over time (their timelines): requests in flight, output
//! tokens/s, TTFT p99, ITL p99 and the server's KV-cache use window by window, one line
//! per point (up to eight), each on its own time axis from the start of its measured
//! window.

use super::{Builder, FigureGroup};
use crate::report::chart::{Line, LineChart, XAxis, PALETTE};
use crate::result::{is_kv_cache_gauge, PointResult, TimeWindow};

type Read = fn(&TimeWindow) -> Option<f64>;

/// The KV-cache gauge of a window, in percent (vLLM, SGLang, llama.cpp names).
fn kv_cache_pct(w: &TimeWindow) -> Option<f64> {
    w.gauges
        .iter()
        .find(|(name, _)| is_kv_cache_gauge(name))
        .map(|(_, v)| 100.0 * v)
}

/// The figures drawn over time, with their titles and axes; the KV cache only when the
/// server's metrics have it.
const SERIES: [(&str, &str, Read); 5] = [
    ("Requests in flight over time", "requests in flight", |w| {
        Some(f64::from(w.in_flight))
    }),
    ("Output throughput over time", "output tokens/s", |w| {
        Some(w.output_tokens_per_s)
    }),
    ("TTFT p99 over time", "TTFT p99 (ms)", |w| w.ttft_p99_ms),
    ("ITL p99 over time", "ITL p99 (ms)", |w| w.itl_p99_ms),
    (
        "KV cache usage over time",
        "KV cache used (%)",
        kv_cache_pct,
    ),
];

impl Builder<'_> {
    /// The timelines of the measured points that have two windows or more; `None` without.
    pub(super) fn over_time(&mut self, measured: &[PointResult]) -> Option<FigureGroup> {
        let timed: Vec<&PointResult> = measured
            .iter()
            .filter(|p| p.timeline.as_ref().is_some_and(|t| t.windows.len() >= 2))
            .take(PALETTE.len())
            .collect();
        if timed.is_empty() {
            return None;
        }
        let figures = SERIES
            .iter()
            .filter(|(_, _, read)| {
                timed.iter().any(|p| {
                    p.timeline
                        .iter()
                        .flat_map(|t| &t.windows)
                        .any(|w| read(w).is_some())
                })
            })
            .map(|&(title, y_title, read)| {
                let chart = LineChart {
                    x: XAxis::Numeric {
                        title: "seconds into the point".into(),
                    },
                    y_title: y_title.into(),
                    lines: lines(&timed, read),
                };
                self.line_figure(title.into(), chart)
            })
            .collect();
        let more = measured.len().saturating_sub(timed.len());
        let title = match more {
            0 => "Over time".to_owned(),
            n => format!(
                "Over time (the first {}; {n} more in the result's timelines)",
                timed.len()
            ),
        };
        Some(FigureGroup { title, figures })
    }
}

/// A line per point of what `read` gives at the middle of each window.
fn lines(points: &[&PointResult], read: Read) -> Vec<Line> {
    points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let timeline = p.timeline.as_ref()?;
            let half = timeline.window_s / 2.0;
            Some(Line {
                label: p.id.clone(),
                points: timeline
                    .windows
                    .iter()
                    .filter_map(|w| Some((w.start_s + half, read(w)?)))
                    .collect(),
                color: i,
                dashed: false,
                baseline: false,
                marks: Vec::new(),
            })
        })
        .collect()
}
