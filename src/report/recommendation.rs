//! `recommend`'s answer for people: one sentence per configuration (the sustainable load,
//! what failed first, the replicas and GPUs for the peak, the knee, or why there is no
//! answer), the probes as a table and charts; on the terminal, in Markdown or in HTML.

use serde::Serialize;

use super::figures::{probe_figures, FigureGroup};
use super::templates::{TemplateError, Templates, RECOMMEND_HTML, RECOMMEND_MD};
use crate::recommend::{ConfigAnswer, End, Recommendation, Sizing, Unit};
use crate::scenario::point_id;

/// What the recommendation templates see.
#[derive(Debug, Serialize)]
struct Page<'a> {
    tool_name: &'static str,
    tool_version: &'static str,
    answer: &'a Recommendation,
    /// Per configuration, in order: its name and its sentence.
    sentences: Vec<(String, String)>,
    figures: Vec<FigureGroup>,
}

/// `4 requests in flight` or `2.5 requests/s`.
fn load(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Concurrency => format!("{value} requests in flight"),
        Unit::Rate => {
            let number = format!("{value:.2}");
            format!(
                "{} requests/s",
                number.trim_end_matches('0').trim_end_matches('.')
            )
        }
    }
}

/// What one configuration's probes found, in a sentence or two.
pub fn sentence(c: &ConfigAnswer, s: &Sizing) -> String {
    let target = format!("{}% goodput", s.goodput_target_pct);
    let first = |at: f64| match &c.binding {
        Some(b) => format!("{} missed it, {b} failing first", load(at, s.unit)),
        None => format!("{} missed it", load(at, s.unit)),
    };
    let mut text = match (c.end, c.sustainable, c.missed_at) {
        (End::NeverMet, _, Some(at)) => format!("{target} is not met even at {}", first(at)),
        (End::Stopped, None, _) => format!(
            "could not be measured: {}",
            c.failure.as_deref().unwrap_or("stopped")
        ),
        (_, Some(met), missed) => {
            let mut t = format!("{} per replica meet {target}", load(met, s.unit));
            match (c.end, missed) {
                (End::HeldToMax, _) => t.push_str(", up to the highest load probed"),
                (End::Budget, _) => t.push_str(" (the time budget ran out: at least this)"),
                (End::Stopped, _) => t.push_str(" (the search was stopped: at least this)"),
                (_, Some(at)) => t.push_str(&format!("; {}", first(at))),
                _ => {}
            }
            if let (Some(r), Some(g)) = (c.replicas, c.gpus) {
                t.push_str(&format!(
                    ". A peak of {} with {}% headroom needs {r} replica{} × {} GPU = {g} GPU{}",
                    load(s.peak, s.unit),
                    s.headroom_pct,
                    if r == 1 { "" } else { "s" },
                    c.gpus_per_replica,
                    if g == 1 { "" } else { "s" }
                ));
            }
            t
        }
        _ => "no answer".to_owned(),
    };
    if let Some(knee) = c.knee {
        text.push_str(&format!(
            "; throughput stops rising at {}",
            load(knee, s.unit)
        ));
    }
    if let Some(why) = &c.inconclusive {
        text.push_str(&format!(". Inconclusive: {why}"));
    }
    text.push_str(&format!(
        " ({} requests over {} probes).",
        c.requests,
        c.probes.len()
    ));
    text
}

fn sentences(answer: &Recommendation) -> Vec<(String, String)> {
    answer
        .configurations
        .iter()
        .map(|c| (point_id(&c.config), sentence(c, &answer.sizing)))
        .collect()
}

/// The answer for the terminal.
pub fn summary(answer: &Recommendation) -> String {
    let mut out = format!(
        "recommend: {}{}\n",
        answer.scenario,
        if answer.simulated {
            " (simulated: the embedded simulator, not a real server)"
        } else {
            ""
        }
    );
    for (i, (config, text)) in sentences(answer).into_iter().enumerate() {
        let best = if answer.best == Some(i) && answer.configurations.len() > 1 {
            " [best per GPU]"
        } else {
            ""
        };
        let name = if config.is_empty() {
            String::new()
        } else {
            format!("{config}{best}: ")
        };
        out.push_str(&format!("{name}{text}\n"));
        for p in &answer.configurations[i].probes {
            out.push_str(&format!(
                "  probe {:>8}: goodput {:5.1}% [{:5.1}, {:5.1}] of {:>4} requests, {:<6} TTFT p50 {:7.1} ms, TPOT p50 {:6.1} ms, {:7.0} output tok/s\n",
                p.load,
                p.goodput.ratio * 100.0,
                p.goodput.low * 100.0,
                p.goodput.high * 100.0,
                p.requests,
                format!("{:?}", p.settled).to_lowercase(),
                p.ttft_p50_ms,
                p.tpot_p50_ms,
                p.output_tokens_per_s
            ));
        }
    }
    out
}

/// The answer as Markdown, or as self-contained HTML with charts.
pub fn render_report(answer: &Recommendation, html: bool) -> Result<String, TemplateError> {
    let page = Page {
        tool_name: env!("CARGO_PKG_NAME"),
        tool_version: env!("CARGO_PKG_VERSION"),
        answer,
        sentences: sentences(answer),
        figures: if html {
            probe_figures(answer)
        } else {
            Vec::new()
        },
    };
    let name = if html { RECOMMEND_HTML } else { RECOMMEND_MD };
    Templates::load(None)?.render(name, &page)
}
