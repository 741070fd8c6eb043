//! The charts across a sweep's configurations: every configuration side by side, chunked
//! prefill on vs off (with the speed-up), and tensor-parallel scaling.

use serde_json::Value;

use super::{
    load_axis, position, sorted_numbers, Builder, FigureGroup, Read, MAX_COMPARED_CONFIGURATIONS,
};
use crate::report::axes::{self, chunked_pairs, CHUNKED_PREFILL, TENSOR_PARALLEL};
use crate::report::chart::{BarChart, LineChart, XAxis};
use crate::result::PointResult;

impl Builder<'_> {
    /// The configurations side by side: output throughput, TTFT p50 and TPOT p50 against
    /// the load, one line per configuration, one chart per input length.
    pub(super) fn configurations(
        &mut self,
        configs: &[(String, Vec<&PointResult>)],
    ) -> Option<FigureGroup> {
        if !(2..=MAX_COMPARED_CONFIGURATIONS).contains(&configs.len()) {
            return None;
        }
        let all: Vec<&PointResult> = configs
            .iter()
            .flat_map(|(_, m)| m.iter().copied())
            .collect();
        let (load_name, loads, x_axis) = load_axis(&all)?;
        let x = |p: &PointResult| position(&loads, axes::load(p).map(|l| l.1));
        let metrics: [(&str, &str, &Read<'_>); 3] = [
            ("Output throughput", "output tokens/s", &|p| {
                Some(p.throughput.output_tokens_per_s)
            }),
            ("TTFT p50", "TTFT p50 (ms)", &|p| {
                (p.latency_ms.ttft.count > 0).then_some(p.latency_ms.ttft.p50)
            }),
            ("TPOT p50", "TPOT p50 (ms)", &|p| {
                (p.latency_ms.tpot.count > 0).then_some(p.latency_ms.tpot.p50)
            }),
        ];
        let mut figures = Vec::new();
        for input in sorted_numbers(&all, &axes::input) {
            for (name, y_title, y) in metrics {
                let mut lines = Vec::new();
                for (i, (config, members)) in configs.iter().enumerate() {
                    let of_input: Vec<&PointResult> = members
                        .iter()
                        .copied()
                        .filter(|p| axes::input(p) == Some(input))
                        .collect();
                    lines.extend(self.lines(config, i, false, &of_input, &x, y));
                }
                let title = format!(
                    "{name} vs {} by configuration, {} input tokens",
                    axes::load_title(load_name),
                    axes::tokens_label(input)
                );
                figures.push(self.line_figure(
                    title,
                    LineChart {
                        x: x_axis.clone(),
                        y_title: y_title.into(),
                        lines,
                    },
                ));
            }
        }
        Some(FigureGroup {
            title: "Configurations compared".into(),
            figures,
        })
    }

    /// Mean E2E latency with chunked prefill on and off, per input length and load level,
    /// one chart per other setting; the note is the speed-up of turning it on.
    pub(super) fn chunked_prefill(&mut self, points: &[PointResult]) -> Option<FigureGroup> {
        let values = axes::values(points, CHUNKED_PREFILL);
        if !(values.contains(&Value::Bool(true)) && values.contains(&Value::Bool(false))) {
            return None;
        }
        let mut figures = Vec::new();
        for (rest, members) in axes::group_by(points, |p| axes::config(p, &[CHUNKED_PREFILL])) {
            let pairs = chunked_pairs(&members);
            if pairs.is_empty() {
                continue;
            }
            let chart = BarChart {
                y_title: "mean E2E latency (ms)".into(),
                categories: pairs.iter().map(|p| p.label.clone()).collect(),
                series: vec![
                    (
                        "chunked prefill on".into(),
                        pairs
                            .iter()
                            .map(|p| Some(p.on.latency_ms.e2e.mean))
                            .collect(),
                    ),
                    (
                        "chunked prefill off".into(),
                        pairs
                            .iter()
                            .map(|p| Some(p.off.latency_ms.e2e.mean))
                            .collect(),
                    ),
                ],
                notes: pairs
                    .iter()
                    .map(|p| {
                        p.speedup_pct()
                            .map(|s| format!("{s:+.0}%"))
                            .unwrap_or_default()
                    })
                    .collect(),
            };
            let title = if rest.is_empty() {
                "Chunked prefill on vs off".to_owned()
            } else {
                format!("Chunked prefill on vs off ({rest})")
            };
            let figure = self.bar_figure(title, chart);
            figures.push(figure);
        }
        Some(FigureGroup {
            title: "Chunked prefill on vs off (speed-up of on over off)".into(),
            figures,
        })
    }

    /// Output throughput against the tensor-parallel degree at the highest load level, one
    /// line per input length, one chart per other setting.
    pub(super) fn tensor_parallel(&mut self, points: &[PointResult]) -> Option<FigureGroup> {
        let degrees: Vec<f64> = axes::values(points, TENSOR_PARALLEL)
            .iter()
            .filter_map(axes::number)
            .collect();
        if degrees.len() < 2 {
            return None;
        }
        let mut figures = Vec::new();
        for (rest, members) in axes::group_by(points, |p| axes::config(p, &[TENSOR_PARALLEL])) {
            let Some((load_name, top)) = members
                .iter()
                .filter_map(|p| axes::load(p))
                .max_by(|a, b| a.1.total_cmp(&b.1))
            else {
                continue;
            };
            let at_top: Vec<&PointResult> = members
                .into_iter()
                .filter(|p| axes::load(p).map(|l| l.1) == Some(top))
                .collect();
            let inputs = sorted_numbers(&at_top, &axes::input);
            let x = |p: &PointResult| {
                position(
                    &degrees,
                    p.params.get(TENSOR_PARALLEL).and_then(axes::number),
                )
            };
            let mut lines = Vec::new();
            for (i, &input) in inputs.iter().enumerate() {
                let of_input: Vec<&PointResult> = at_top
                    .iter()
                    .copied()
                    .filter(|p| axes::input(p) == Some(input))
                    .collect();
                let label = format!("{} in", axes::tokens_label(input));
                lines.extend(self.lines(&label, i, false, &of_input, &x, &|p| {
                    Some(p.throughput.output_tokens_per_s)
                }));
            }
            let load = axes::load_label(load_name, top);
            let title = if rest.is_empty() {
                format!("Output throughput vs TP at {load}")
            } else {
                format!("Output throughput vs TP at {load} ({rest})")
            };
            let x_axis = XAxis::Categories {
                title: "tensor-parallel size".into(),
                labels: degrees.iter().map(|d| d.to_string()).collect(),
            };
            figures.push(self.line_figure(
                title,
                LineChart {
                    x: x_axis,
                    y_title: "output tokens/s".into(),
                    lines,
                },
            ));
        }
        Some(FigureGroup {
            title: "Tensor-parallel scaling".into(),
            figures,
        })
    }
}
