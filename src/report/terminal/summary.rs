//! The end-of-run summary for the terminal: one row per point, then errors and goodput.

use super::table;
use crate::result::{RunResult, Summary};

/// A latency's figure, or "not measured" when no request gave it (TPOT and ITL of a
/// response that was not streamed).
fn latency(summary: &Summary, figure: f64) -> String {
    match summary.count {
        0 => "not measured".to_owned(),
        _ => num(figure),
    }
}

fn num(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// The summary table of a run, followed by error and goodput lines per point.
pub fn summary_table(result: &RunResult) -> String {
    let mut table = table(
        &[
            "point",
            "ok",
            "failed",
            "req/s",
            "out tok/s",
            "TTFT p50",
            "TTFT p99",
            "TPOT p50",
            "ITL p50",
            "ITL p99",
            "E2E p50",
            "E2E p99",
        ],
        1..12,
    );
    for p in &result.points {
        let l = &p.latency_ms;
        table.add_row([
            format!("{}{}", p.id, if p.partial { " (partial)" } else { "" }),
            p.requests.ok.to_string(),
            p.requests.failed.to_string(),
            format!("{:.2}", p.throughput.requests_per_s),
            num(p.throughput.output_tokens_per_s),
            latency(&l.ttft, l.ttft.p50),
            latency(&l.ttft, l.ttft.p99),
            latency(&l.tpot, l.tpot.p50),
            latency(&l.itl, l.itl.p50),
            latency(&l.itl, l.itl.p99),
            latency(&l.e2e, l.e2e.p50),
            latency(&l.e2e, l.e2e.p99),
        ]);
    }
    let mut text = format!("{table}\nlatencies in ms\n");
    for p in &result.points {
        if !p.requests.errors.is_empty() {
            let kinds: Vec<String> = p
                .requests
                .errors
                .iter()
                .map(|(k, n)| format!("{k}={n}"))
                .collect();
            text.push_str(&format!("errors at {}: {}\n", p.id, kinds.join(", ")));
        }
        if let Some(g) = &p.goodput {
            text.push_str(&format!("{}: {g}\n", p.id));
        }
    }
    text
}
