//! The charts of one server configuration: throughput, latency percentiles, and error rate
//! with goodput against the load level; TTFT against the input length.

use super::{load_axis, position, sorted_numbers, Builder, Figure, Read};
use crate::report::axes;
use crate::report::chart::{LineChart, XAxis};
use crate::report::format::latency_label;
use crate::result::{PointResult, LATENCY_NAMES};

/// What the charts against load share: the points, their input lengths and load levels.
struct ByLoad<'p> {
    members: &'p [&'p PointResult],
    inputs: Vec<f64>,
    load_name: &'static str,
    loads: Vec<f64>,
    x_axis: XAxis,
}

impl ByLoad<'_> {
    fn of_input(&self, input: f64) -> Vec<&PointResult> {
        let members = self.members.iter().copied();
        members.filter(|p| axes::input(p) == Some(input)).collect()
    }

    fn of_load(&self, load: f64) -> Vec<&PointResult> {
        let members = self.members.iter().copied();
        members
            .filter(|p| axes::load(p).map(|l| l.1) == Some(load))
            .collect()
    }

    /// A point's position on the load axis.
    fn x(&self, p: &PointResult) -> Option<f64> {
        position(&self.loads, axes::load(p).map(|l| l.1))
    }

    fn chart(&self, y_title: String, lines: Vec<crate::report::chart::Line>) -> LineChart {
        LineChart {
            x: self.x_axis.clone(),
            y_title,
            lines,
        }
    }
}

impl Builder<'_> {
    /// Throughput, latency percentiles, error rate and goodput against load; TTFT against
    /// input length.
    pub(super) fn per_configuration(&mut self, members: &[&PointResult]) -> Vec<Figure> {
        let Some((load_name, loads, x_axis)) = load_axis(members) else {
            return Vec::new();
        };
        let by_load = ByLoad {
            members,
            inputs: sorted_numbers(members, &axes::input),
            load_name,
            loads,
            x_axis,
        };
        let mut figures = vec![self.throughput_by_load(&by_load)];
        for latency in LATENCY_NAMES {
            figures.extend(self.latency_by_load(&by_load, latency));
        }
        figures.push(self.outcomes_by_load(&by_load));
        figures.extend(self.ttft_by_input(&by_load));
        figures
    }

    /// One line per input length (one in all when the prompts came from a file or the
    /// classes, whose points have no input length).
    fn throughput_by_load(&mut self, b: &ByLoad) -> Figure {
        let x = |p: &PointResult| b.x(p);
        let throughput: &Read = &|p| Some(p.throughput.output_tokens_per_s);
        let mut lines = Vec::new();
        if b.inputs.is_empty() {
            lines.extend(self.lines("all requests", 0, false, b.members, &x, throughput));
        }
        for (i, &input) in b.inputs.iter().enumerate() {
            let label = format!("{} in", axes::tokens_label(input));
            lines.extend(self.lines(&label, i, false, &b.of_input(input), &x, throughput));
        }
        let title = format!("Output throughput vs {}", axes::load_title(b.load_name));
        self.line_figure(title, b.chart("output tokens/s".into(), lines))
    }

    /// p50, p90 and p99 of one latency (p50 and p99 per input length when there are
    /// several); none when no point measured it (TPOT and ITL of whole responses).
    fn latency_by_load(&mut self, b: &ByLoad, latency: &'static str) -> Option<Figure> {
        let measured = |p: &&PointResult| p.latency_ms.get(latency).is_some_and(|s| s.count > 0);
        if !b.members.iter().any(measured) {
            return None;
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
        let x = |p: &PointResult| b.x(p);
        let mut lines = Vec::new();
        if b.inputs.len() <= 1 {
            for (i, name) in ["p50", "p90", "p99"].into_iter().enumerate() {
                lines.extend(self.lines(name, i, false, b.members, &x, &stat(name)));
            }
        } else {
            for (i, &input) in b.inputs.iter().enumerate() {
                let tokens = axes::tokens_label(input);
                for (name, dashed) in [("p50", false), ("p99", true)] {
                    let label = format!("{tokens} in {name}");
                    let of_input = b.of_input(input);
                    lines.extend(self.lines(&label, i, dashed, &of_input, &x, &stat(name)));
                }
            }
        }
        let label = latency_label(latency);
        let title = format!("{label} percentiles vs {}", axes::load_title(b.load_name));
        Some(self.line_figure(title, b.chart(format!("{label} (ms)"), lines)))
    }

    /// The error rate and, with an SLO, the goodput, in percent of requests.
    fn outcomes_by_load(&mut self, b: &ByLoad) -> Figure {
        let x = |p: &PointResult| b.x(p);
        let error_rate: &Read = &|p| {
            let r = &p.requests;
            (r.total > 0).then(|| 100.0 * r.failed as f64 / r.total as f64)
        };
        let goodput: &Read = &|p| p.goodput.as_ref().map(|g| 100.0 * g.ratio);
        let mut lines = self.lines("error rate", 0, false, b.members, &x, error_rate);
        if b.members.iter().any(|p| p.goodput.is_some()) {
            lines.extend(self.lines("goodput", 1, false, b.members, &x, goodput));
        }
        let title = format!(
            "Error rate and goodput vs {}",
            axes::load_title(b.load_name)
        );
        self.line_figure(title, b.chart("% of requests".into(), lines))
    }

    /// TTFT p50 against input length, one line per load level (several lengths only).
    fn ttft_by_input(&mut self, b: &ByLoad) -> Option<Figure> {
        if b.inputs.len() < 2 {
            return None;
        }
        let mut lines = Vec::new();
        for (i, &load) in b.loads.iter().enumerate() {
            let label = axes::load_label(b.load_name, load);
            lines.extend(
                self.lines(&label, i, false, &b.of_load(load), &axes::input, &|p| {
                    (p.latency_ms.ttft.count > 0).then_some(p.latency_ms.ttft.p50)
                }),
            );
        }
        let chart = LineChart {
            x: XAxis::Numeric {
                title: "input tokens".into(),
            },
            y_title: "TTFT p50 (ms)".into(),
            lines,
        };
        Some(self.line_figure("TTFT p50 vs input length".into(), chart))
    }
}
