//! Which charts a report shows and their data. Per server configuration: throughput and
//! latency percentiles against the load level, TTFT against the input length. Across
//! configurations: chunked prefill on vs off (with speed-up) and tensor-parallel scaling.
//! Baseline figures are overlaid, faded, wherever the baseline has a point with the same id.

use serde::Serialize;
use serde_json::Value;

use super::axes::{self, CHUNKED_PREFILL, TENSOR_PARALLEL};
use super::chart::{self, BarChart, Line, LineChart, XAxis};
use super::format::latency_label;
use crate::result::{PointResult, RunResult, LATENCY_NAMES};

/// One chart with its HTML legend.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// Stable within a report (`figure-3`), for links and checks.
    pub id: String,
    pub title: String,
    /// The SVG document, or empty when it could not be drawn (see `error`).
    pub svg: String,
    pub error: Option<String>,
    pub legend: Vec<LegendEntry>,
    /// Takes a whole row of the page (bar charts with many groups).
    pub wide: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct LegendEntry {
    pub label: String,
    /// CSS colour.
    pub color: String,
    pub dashed: bool,
    pub baseline: bool,
}

/// Charts under one heading (a server configuration, or a comparison across them).
#[derive(Debug, Clone, Serialize)]
pub struct FigureGroup {
    pub title: String,
    pub figures: Vec<Figure>,
}

/// Up to this many configurations are drawn in one chart.
const MAX_COMPARED_CONFIGURATIONS: usize = 8;

/// Bar charts with more groups than this take a whole row.
const WIDE_GROUPS: usize = 6;

type Read<'a> = dyn Fn(&PointResult) -> Option<f64> + 'a;

struct Builder<'a> {
    baseline: Option<&'a RunResult>,
    next_id: usize,
}

/// The charts of `current`, with `baseline` overlaid where given.
pub fn figures(current: &RunResult, baseline: Option<&RunResult>) -> Vec<FigureGroup> {
    let mut builder = Builder {
        baseline,
        next_id: 0,
    };
    let mut groups = Vec::new();
    // Points that were not measured have no figures to draw (the tables say why).
    let measured: Vec<PointResult> = current
        .points
        .iter()
        .filter(|p| p.failure.is_none())
        .cloned()
        .collect();
    let configs = axes::group_by(&measured, |p| axes::config(p, &[]));
    // A sweep's first question: how do its configurations compare?
    if let Some(group) = builder.configurations(&configs) {
        groups.push(group);
    }
    for (config, members) in &configs {
        let title = if config.is_empty() {
            "Load and latency".to_owned()
        } else {
            format!("Load and latency: {config}")
        };
        groups.push(FigureGroup {
            title,
            figures: builder.per_configuration(members),
        });
    }
    if let Some(group) = builder.chunked_prefill(&measured) {
        groups.push(group);
    }
    if let Some(group) = builder.tensor_parallel(&measured) {
        groups.push(group);
    }
    groups
}

fn sorted_numbers(points: &[&PointResult], read: &Read<'_>) -> Vec<f64> {
    let mut values: Vec<f64> = points.iter().filter_map(|p| read(p)).collect();
    values.sort_by(f64::total_cmp);
    values.dedup();
    values
}

/// The load levels of `points` as a categorical x axis: the load parameter's name, its
/// levels in order, and the axis.
fn load_axis(points: &[&PointResult]) -> Option<(&'static str, Vec<f64>, XAxis)> {
    let (name, _) = points.iter().find_map(|p| axes::load(p))?;
    let loads = sorted_numbers(points, &|p| axes::load(p).map(|l| l.1));
    let axis = XAxis::Categories {
        title: axes::load_title(name).to_owned(),
        labels: loads.iter().map(|l| l.to_string()).collect(),
    };
    Some((name, loads, axis))
}

fn position(values: &[f64], value: Option<f64>) -> Option<f64> {
    let value = value?;
    values.iter().position(|v| *v == value).map(|i| i as f64)
}

impl Builder<'_> {
    fn baseline_point(&self, id: &str) -> Option<&PointResult> {
        self.baseline?
            .points
            .iter()
            .find(|p| p.id == id && p.failure.is_none())
    }

    /// A line through `members` and, when the baseline has any of them, its faded twin.
    fn lines(
        &self,
        label: &str,
        color: usize,
        dashed: bool,
        members: &[&PointResult],
        x: &Read<'_>,
        y: &Read<'_>,
    ) -> Vec<Line> {
        let trace = |from_baseline: bool| {
            let mut points: Vec<(f64, f64)> = members
                .iter()
                .filter_map(|&p| {
                    let source = if from_baseline {
                        self.baseline_point(&p.id)?
                    } else {
                        p
                    };
                    Some((x(p)?, y(source)?))
                })
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            points
        };
        let mut lines = vec![Line {
            label: label.to_owned(),
            points: trace(false),
            color,
            dashed,
            baseline: false,
        }];
        let base = trace(true);
        if !base.is_empty() {
            lines.push(Line {
                label: format!("{label} (baseline)"),
                points: base,
                color,
                dashed,
                baseline: true,
            });
        }
        lines
    }

    fn figure(
        &mut self,
        title: String,
        drawn: Result<String, chart::DrawError>,
        legend: Vec<LegendEntry>,
    ) -> Figure {
        self.next_id += 1;
        let (svg, error) = match drawn {
            Ok(svg) => (svg, None),
            Err(e) => (String::new(), Some(e.to_string())),
        };
        Figure {
            id: format!("figure-{}", self.next_id),
            title,
            svg,
            error,
            legend,
            wide: false,
        }
    }

    fn line_figure(&mut self, title: String, chart: LineChart) -> Figure {
        let legend = chart
            .lines
            .iter()
            .map(|l| LegendEntry {
                label: l.label.clone(),
                color: chart::color_hex(l.color),
                dashed: l.dashed,
                baseline: l.baseline,
            })
            .collect();
        let drawn = chart::line_svg(&chart);
        self.figure(title, drawn, legend)
    }

    /// Throughput and latency percentiles against load; TTFT against input length.
    fn per_configuration(&mut self, members: &[&PointResult]) -> Vec<Figure> {
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

    /// The configurations side by side: output throughput, TTFT p50 and TPOT p50 against
    /// the load, one line per configuration, one chart per input length.
    fn configurations(&mut self, configs: &[(String, Vec<&PointResult>)]) -> Option<FigureGroup> {
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
    fn chunked_prefill(&mut self, points: &[PointResult]) -> Option<FigureGroup> {
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
            let legend = chart
                .series
                .iter()
                .enumerate()
                .map(|(i, (label, _))| LegendEntry {
                    label: label.clone(),
                    color: chart::color_hex(i),
                    dashed: false,
                    baseline: false,
                })
                .collect();
            let title = if rest.is_empty() {
                "Chunked prefill on vs off".to_owned()
            } else {
                format!("Chunked prefill on vs off ({rest})")
            };
            let drawn = chart::bar_svg(&chart);
            let mut figure = self.figure(title, drawn, legend);
            figure.wide = chart.categories.len() > WIDE_GROUPS;
            figures.push(figure);
        }
        Some(FigureGroup {
            title: "Chunked prefill on vs off (speed-up of on over off)".into(),
            figures,
        })
    }

    /// Output throughput against the tensor-parallel degree at the highest load level, one
    /// line per input length, one chart per other setting.
    fn tensor_parallel(&mut self, points: &[PointResult]) -> Option<FigureGroup> {
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

/// Two points that differ only in chunked prefill.
pub struct ChunkedPair<'a> {
    /// Input length and load level, `3k c=4`.
    pub label: String,
    pub on: &'a PointResult,
    pub off: &'a PointResult,
}

impl ChunkedPair<'_> {
    /// How much faster (mean E2E) the point with chunked prefill on is, in percent.
    pub fn speedup_pct(&self) -> Option<f64> {
        let (on, off) = (self.on.latency_ms.e2e.mean, self.off.latency_ms.e2e.mean);
        (on > 0.0 && self.on.latency_ms.e2e.count > 0 && self.off.latency_ms.e2e.count > 0)
            .then(|| (off / on - 1.0) * 100.0)
    }
}

/// The on/off pairs among `members` (points that share every other setting), ordered by
/// input length, then load.
pub fn chunked_pairs<'a>(members: &[&'a PointResult]) -> Vec<ChunkedPair<'a>> {
    let with = |p: &PointResult, on: bool| p.params.get(CHUNKED_PREFILL) == Some(&Value::Bool(on));
    let mut pairs: Vec<ChunkedPair> = members
        .iter()
        .filter(|p| with(p, true))
        .filter_map(|&on| {
            let off = members.iter().copied().find(|q| {
                with(q, false)
                    && q.params
                        .iter()
                        .all(|(k, v)| k == CHUNKED_PREFILL || on.params.get(k) == Some(v))
            })?;
            let mut label = axes::tokens_label(axes::input(on).unwrap_or_default());
            if let Some((name, value)) = axes::load(on) {
                label = format!("{label} {}", axes::load_label(name, value));
            }
            Some(ChunkedPair { label, on, off })
        })
        .collect();
    let key = |p: &ChunkedPair| {
        (
            axes::input(p.on).unwrap_or_default(),
            axes::load(p.on).map_or(0.0, |l| l.1),
        )
    };
    pairs.sort_by(|a, b| {
        key(a)
            .partial_cmp(&key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    pairs
}
