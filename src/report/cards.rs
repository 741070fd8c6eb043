//! The summary cards a results page leads with, as the seed's dashboard does: the best
//! output throughput and where, the best TTFT p50 and where, the load that gave the best
//! throughput, the error rate and the goodput over the whole run. Each card's figure comes
//! from the points (a point's own figure carries its JSON path, so pages can be checked
//! against the result).

use serde::Serialize;

use super::axes;
use super::axes::place;
use super::format::{count, shown};
use crate::result::{PointResult, RunResult};

/// One summary card.
#[derive(Debug, Clone, Serialize)]
pub struct Card {
    pub label: &'static str,
    /// The figure, without its unit.
    pub value: String,
    /// Written right after the figure (` ms`, `%`).
    pub unit: &'static str,
    /// Where the figure comes from, or what it counts.
    pub detail: String,
    /// The figure's path in the result (`points.3.throughput.output_tokens_per_s`), when it
    /// is one point's figure.
    pub json: Option<String>,
}

/// The cards of `result`; none when no point was measured.
pub fn cards(result: &RunResult) -> Vec<Card> {
    let measured: Vec<(usize, &PointResult)> = result
        .points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.failure.is_none())
        .collect();
    let fastest = measured.iter().max_by(|a, b| {
        let tps = |p: &PointResult| p.throughput.output_tokens_per_s;
        tps(a.1).total_cmp(&tps(b.1))
    });
    let Some(&(best, best_point)) = fastest else {
        return Vec::new();
    };
    let mut cards = vec![Card {
        label: "Best throughput",
        value: shown(best_point.throughput.output_tokens_per_s),
        unit: " tok/s",
        detail: place(best_point, &[]),
        json: Some(format!("points.{best}.throughput.output_tokens_per_s")),
    }];
    let quickest = measured
        .iter()
        .filter(|(_, p)| p.latency_ms.ttft.count > 0)
        .min_by(|a, b| a.1.latency_ms.ttft.p50.total_cmp(&b.1.latency_ms.ttft.p50));
    if let Some(&(i, p)) = quickest {
        cards.push(Card {
            label: "Best TTFT p50",
            value: shown(p.latency_ms.ttft.p50),
            unit: " ms",
            detail: place(p, &[]),
            json: Some(format!("points.{i}.latency_ms.ttft.p50")),
        });
    }
    if let Some((name, value)) = axes::load(best_point) {
        cards.push(Card {
            label: axes::best_load_title(name),
            value: value.to_string(),
            unit: "",
            detail: "the load of the best throughput".into(),
            json: Some(format!("points.{best}.params.{name}")),
        });
    }
    cards.extend([error_rate(result), goodput(result)]);
    cards
}

/// Failed requests over all requests of the run.
fn error_rate(result: &RunResult) -> Card {
    let total: u64 = result.points.iter().map(|p| p.requests.total).sum();
    let failed: u64 = result.points.iter().map(|p| p.requests.failed).sum();
    let rate = if total == 0 {
        0.0
    } else {
        failed as f64 / total as f64
    };
    Card {
        label: "Error rate",
        value: format!("{:.2}", rate * 100.0),
        unit: "%",
        detail: format!(
            "{failed} of {} failed",
            count(total as usize, "request", "requests")
        ),
        json: None,
    }
}

/// Requests that met every SLO criterion over all requests of the points with an SLO.
fn goodput(result: &RunResult) -> Card {
    let goodputs: Vec<_> = result
        .points
        .iter()
        .filter_map(|p| p.goodput.as_ref())
        .collect();
    let met: u64 = goodputs.iter().map(|g| g.met).sum();
    let total: u64 = goodputs.iter().map(|g| g.total).sum();
    let (value, unit, detail) = match total {
        0 if goodputs.is_empty() => ("—".to_owned(), "", "no SLO set".to_owned()),
        0 => ("—".to_owned(), "", "no request".to_owned()),
        _ => (
            format!("{:.1}", 100.0 * met as f64 / total as f64),
            "%",
            format!(
                "{met} of {} met the SLO",
                count(total as usize, "request", "requests")
            ),
        ),
    };
    Card {
        label: "Goodput",
        value,
        unit,
        detail,
        json: None,
    }
}
