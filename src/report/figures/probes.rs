//! The charts of `recommend`'s answer: per configuration, goodput against load with the
//! target and the sustainable load marked, throughput with its knee, and TTFT.

use super::{Builder, FigureGroup};
use crate::recommend::{ConfigAnswer, Recommendation, Unit};
use crate::report::chart::{Line, LineChart, XAxis};

/// A line through `answer`'s probes of what `read` gives, the loads in `marked` ringed.
fn line(
    label: &str,
    color: usize,
    answer: &ConfigAnswer,
    read: impl Fn(&crate::recommend::ProbeRecord) -> f64,
    marked: &[Option<f64>],
) -> Line {
    let points: Vec<(f64, f64)> = answer.probes.iter().map(|p| (p.load, read(p))).collect();
    let marks = points
        .iter()
        .filter(|(load, _)| marked.contains(&Some(*load)))
        .copied()
        .collect();
    Line {
        label: label.to_owned(),
        points,
        color,
        dashed: false,
        baseline: false,
        marks,
    }
}

/// The charts of each configuration of `answer`.
pub fn probe_figures(answer: &Recommendation) -> Vec<FigureGroup> {
    let mut builder = Builder {
        baseline: None,
        next_id: 0,
    };
    let x_title = match answer.sizing.unit {
        Unit::Concurrency => "requests in flight",
        Unit::Rate => "requests per second",
    };
    let chart = |y_title: &str, lines: Vec<Line>| LineChart {
        x: XAxis::Numeric {
            title: x_title.to_owned(),
        },
        y_title: y_title.to_owned(),
        lines,
    };
    let target = answer.sizing.goodput_target_pct;
    answer
        .configurations
        .iter()
        .filter(|c| !c.probes.is_empty())
        .map(|c| {
            let chosen = [c.sustainable];
            let loads: Vec<f64> = c.probes.iter().map(|p| p.load).collect();
            let (low, high) = loads
                .iter()
                .fold((f64::MAX, 0.0_f64), |(a, b), &l| (a.min(l), b.max(l)));
            let target_line = Line {
                label: format!("target {target}%"),
                points: vec![(low, target), (high, target)],
                color: 3,
                dashed: true,
                baseline: false,
                marks: Vec::new(),
            };
            let goodput = line("goodput", 0, c, |p| p.goodput.ratio * 100.0, &chosen);
            let throughput = line(
                "output tokens/s",
                1,
                c,
                |p| p.output_tokens_per_s,
                &[c.knee],
            );
            let ttft = vec![
                line("TTFT p50", 2, c, |p| p.ttft_p50_ms, &chosen),
                line("TTFT p99", 4, c, |p| p.ttft_p99_ms, &[]),
            ];
            let figures = vec![
                builder.line_figure(
                    "Goodput by load".into(),
                    chart("% of requests meeting the SLO", vec![goodput, target_line]),
                ),
                builder.line_figure(
                    "Output throughput by load".into(),
                    chart("output tokens/s", vec![throughput]),
                ),
                builder.line_figure("TTFT by load".into(), chart("TTFT (ms)", ttft)),
            ];
            let config = crate::scenario::point_id(&c.config);
            let title = if config.is_empty() {
                "Probes".to_owned()
            } else {
                format!("Probes: {config}")
            };
            FigureGroup { title, figures }
        })
        .collect()
}
