//! The charts of several runs side by side: output throughput and TTFT p50 against the
//! load level, one line per run, for each input length and server configuration the runs
//! have (points matched by id).

use super::{load_axis, position, Builder, FigureGroup};
use crate::report::axes;
use crate::report::chart::{Line, LineChart};
use crate::result::{PointResult, RunResult};

/// The charts of `runs`, each named by its label.
pub fn runs_figures(runs: &[(String, &RunResult)]) -> Vec<FigureGroup> {
    let mut builder = Builder {
        baseline: None,
        next_id: 0,
    };
    let measured: Vec<PointResult> = runs
        .iter()
        .flat_map(|(_, r)| r.points.iter().filter(|p| p.failure.is_none()))
        .cloned()
        .collect();
    let groups = axes::group_by(&measured, |p| {
        (axes::config(p, &[]), axes::input(p).map(f64::to_bits))
    });
    let mut figures = Vec::new();
    for ((config, input), members) in &groups {
        let Some((load_name, loads, x)) = load_axis(members) else {
            continue;
        };
        let mut title = String::new();
        if let Some(input) = input {
            title += &format!(
                "{} input tokens",
                axes::tokens_label(f64::from_bits(*input))
            );
        }
        if !config.is_empty() {
            title += &format!(", {config}");
        }
        let line = |i: usize, label: &str, read: &dyn Fn(&PointResult) -> Option<f64>| Line {
            label: label.to_owned(),
            points: runs[i]
                .1
                .points
                .iter()
                .filter(|p| members.iter().any(|m| m.id == p.id) && p.failure.is_none())
                .filter_map(|p| Some((position(&loads, axes::load(p).map(|l| l.1))?, read(p)?)))
                .collect(),
            color: i,
            dashed: false,
            baseline: false,
        };
        let chart = |y_title: &str, read: &dyn Fn(&PointResult) -> Option<f64>| LineChart {
            x: x.clone(),
            y_title: y_title.to_owned(),
            lines: runs
                .iter()
                .enumerate()
                .map(|(i, (label, _))| line(i, label, read))
                .collect(),
        };
        let by = axes::load_title(load_name);
        let throughput = chart("output tokens/s", &|p| {
            Some(p.throughput.output_tokens_per_s)
        });
        let ttft = chart("TTFT p50 (ms)", &|p| {
            (p.latency_ms.ttft.count > 0).then_some(p.latency_ms.ttft.p50)
        });
        figures.push(FigureGroup {
            title: format!("Runs side by side: {title}"),
            figures: vec![
                builder.line_figure(format!("Output throughput by {by}"), throughput),
                builder.line_figure(format!("TTFT p50 by {by}"), ttft),
            ],
        });
    }
    figures
}
