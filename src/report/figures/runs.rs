//! The charts of several runs side by side: output throughput and TTFT p50 against the
//! load level, one line per run, for each input length and server configuration the runs
//! have (points matched by id).

use super::{load_axis, position, Builder, Figure, FigureGroup};
use crate::report::axes;
use crate::report::chart::{Line, LineChart, XAxis};
use crate::result::{PointResult, RunResult};

/// The charts of `runs`, each named by its label.
pub fn runs_figures(runs: &[(String, &RunResult)]) -> Vec<FigureGroup> {
    let mut builder = Builder {
        baseline: None,
        next_id: 0,
    };
    let measured = runs
        .iter()
        .flat_map(|(_, r)| r.points.iter().filter(|p| p.failure.is_none()));
    let groups = axes::group_by(measured, |p| {
        (axes::config(p, &[]), axes::input(p).map(f64::to_bits))
    });
    let mut figures = Vec::new();
    for ((config, input), members) in &groups {
        let Some((load_name, loads, x)) = load_axis(members) else {
            continue;
        };
        let input =
            input.map(|i| format!("{} input tokens", axes::tokens_label(f64::from_bits(i))));
        let title = input
            .into_iter()
            .chain(Some(config.clone()).filter(|c| !c.is_empty()))
            .collect::<Vec<_>>()
            .join(", ");
        let by = ByLoad {
            runs,
            members,
            loads,
            x,
        };
        let load = axes::load_title(load_name);
        figures.push(FigureGroup {
            title: format!("Runs side by side: {title}"),
            figures: by.figures(&mut builder, load),
        });
    }
    figures
}

/// The runs' points of one input length and configuration, on one load axis.
struct ByLoad<'a> {
    runs: &'a [(String, &'a RunResult)],
    members: &'a [&'a PointResult],
    loads: Vec<f64>,
    x: XAxis,
}

impl ByLoad<'_> {
    /// Throughput and TTFT p50 by load.
    fn figures(&self, builder: &mut Builder, load: &str) -> Vec<Figure> {
        let throughput = self.chart("output tokens/s", &|p| {
            Some(p.throughput.output_tokens_per_s)
        });
        let ttft = self.chart("TTFT p50 (ms)", &|p| {
            (p.latency_ms.ttft.count > 0).then_some(p.latency_ms.ttft.p50)
        });
        vec![
            builder.line_figure(format!("Output throughput by {load}"), throughput),
            builder.line_figure(format!("TTFT p50 by {load}"), ttft),
        ]
    }

    /// A line per run of the figure `read` gives.
    fn chart(&self, y_title: &str, read: &dyn Fn(&PointResult) -> Option<f64>) -> LineChart {
        let lines = self
            .runs
            .iter()
            .enumerate()
            .map(|(i, (label, run))| {
                let mut points: Vec<(f64, f64)> = run
                    .points
                    .iter()
                    .filter(|p| p.failure.is_none() && self.members.iter().any(|m| m.id == p.id))
                    .filter_map(|p| {
                        Some((position(&self.loads, axes::load(p).map(|l| l.1))?, read(p)?))
                    })
                    .collect();
                // Scenarios may list their loads in any order; lines run left to right.
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                Line {
                    label: label.clone(),
                    points,
                    color: i,
                    dashed: false,
                    baseline: false,
                    marks: Vec::new(),
                }
            })
            .collect();
        LineChart {
            x: self.x.clone(),
            y_title: y_title.to_owned(),
            lines,
        }
    }
}
