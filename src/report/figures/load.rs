//! The charts of one server configuration: throughput and latency percentiles against the
//! load level, TTFT against the input length.

use super::{load_axis, position, sorted_numbers, Builder, Figure};
use crate::report::axes;
use crate::report::chart::{LineChart, XAxis};
use crate::report::format::latency_label;
use crate::result::{PointResult, LATENCY_NAMES};

impl Builder<'_> {
    /// Throughput and latency percentiles against load; TTFT against input length.
    pub(super) fn per_configuration(&mut self, members: &[&PointResult]) -> Vec<Figure> {
        let mut figures = Vec::new();
        let inputs = sorted_numbers(members, &axes::input);
        let by_input = |input: f64| -> Vec<&PointResult> {
            members
                .iter()
                .copied()
                .filter(|p| axes::input(p) == Some(input))
                .collect()
        };
        if let Some((load_name, loads, x_axis)) = load_axis(members) {
            let x = |p: &PointResult| position(&loads, axes::load(p).map(|l| l.1));
            let mut lines = Vec::new();
            for (i, &input) in inputs.iter().enumerate() {
                let label = format!("{} in", axes::tokens_label(input));
                lines.extend(self.lines(&label, i, false, &by_input(input), &x, &|p| {
                    Some(p.throughput.output_tokens_per_s)
                }));
            }
            let title = format!("Output throughput vs {}", axes::load_title(load_name));
            figures.push(self.line_figure(
                title,
                LineChart {
                    x: x_axis.clone(),
                    y_title: "output tokens/s".into(),
                    lines,
                },
            ));
            for latency in LATENCY_NAMES {
                let measured =
                    |p: &&PointResult| p.latency_ms.get(latency).is_some_and(|s| s.count > 0);
                if !members.iter().any(measured) {
                    continue; // TPOT and ITL of responses that were not streamed: no chart
                }
                let stat = |name: &'static str| {
                    move |p: &PointResult| {
                        let s = p.latency_ms.get(latency)?;
                        (s.count > 0).then_some(match name {
                            "p50" => s.p50,
                            "p90" => s.p90,
                            _ => s.p99,
                        })
                    }
                };
                let mut lines = Vec::new();
                if inputs.len() <= 1 {
                    for (i, name) in ["p50", "p90", "p99"].into_iter().enumerate() {
                        lines.extend(self.lines(name, i, false, members, &x, &stat(name)));
                    }
                } else {
                    for (i, &input) in inputs.iter().enumerate() {
                        let tokens = axes::tokens_label(input);
                        for (name, dashed) in [("p50", false), ("p99", true)] {
                            let label = format!("{tokens} in {name}");
                            lines.extend(self.lines(
                                &label,
                                i,
                                dashed,
                                &by_input(input),
                                &x,
                                &stat(name),
                            ));
                        }
                    }
                }
                let label = latency_label(latency);
                let title = format!("{label} percentiles vs {}", axes::load_title(load_name));
                figures.push(self.line_figure(
                    title,
                    LineChart {
                        x: x_axis.clone(),
                        y_title: format!("{label} (ms)"),
                        lines,
                    },
                ));
            }
            if inputs.len() >= 2 {
                let mut lines = Vec::new();
                for (i, &load) in loads.iter().enumerate() {
                    let at_load: Vec<&PointResult> = members
                        .iter()
                        .copied()
                        .filter(|p| axes::load(p).map(|l| l.1) == Some(load))
                        .collect();
                    let label = axes::load_label(load_name, load);
                    lines.extend(self.lines(&label, i, false, &at_load, &axes::input, &|p| {
                        (p.latency_ms.ttft.count > 0).then_some(p.latency_ms.ttft.p50)
                    }));
                }
                figures.push(self.line_figure(
                    "TTFT p50 vs input length".into(),
                    LineChart {
                        x: XAxis::Numeric {
                            title: "input tokens".into(),
                        },
                        y_title: "TTFT p50 (ms)".into(),
                        lines,
                    },
                ));
            }
        }
        figures
    }
}
