//! Which charts a report shows and their data. Per server configuration: throughput and
//! latency percentiles against the load level, TTFT against the input length. Across
//! configurations: chunked prefill on vs off (with speed-up) and tensor-parallel scaling.
//! Over time: each point's timeline.
//! Baseline figures are overlaid, faded, wherever the baseline has a point with the same id.

mod load;
mod probes;
mod runs;
mod sweep;
mod timeline;
mod trend;

pub use probes::probe_figures;
pub use runs::runs_figures;
pub use trend::trend_figures;

use serde::Serialize;

use super::axes;
use super::chart::{self, BarChart, Line, LineChart, XAxis};
use crate::result::{PointResult, RunResult};

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
    if let Some(group) = builder.over_time(&measured) {
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
            marks: Vec::new(),
        }];
        let base = trace(true);
        if !base.is_empty() {
            lines.push(Line {
                label: format!("{label} (baseline)"),
                points: base,
                color,
                dashed,
                baseline: true,
                marks: Vec::new(),
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

    /// A chart against load, drawn by the shape of its data: lines across several load
    /// levels; at a single level, grouped bars with the baseline beside each.
    fn line_figure(&mut self, title: String, chart: LineChart) -> Figure {
        if let Some((title, bars)) = as_bars(&title, &chart) {
            return self.bar_figure(title, bars);
        }
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

    /// Grouped bars, one colour per series; a whole row of the page for many groups.
    fn bar_figure(&mut self, title: String, chart: BarChart) -> Figure {
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
        let wide = chart.categories.len() > WIDE_GROUPS;
        let drawn = chart::bar_svg(&chart);
        let mut figure = self.figure(title, drawn, legend);
        figure.wide = wide;
        figure
    }
}

/// A line chart whose categorical x axis has a single label (one load level: lines would be
/// lone dots) as grouped bars: a group per line, this run's value and the baseline's beside
/// it, the title naming the level (`Output throughput at concurrency 4`). `None` otherwise.
fn as_bars(title: &str, chart: &LineChart) -> Option<(String, BarChart)> {
    let XAxis::Categories {
        title: axis,
        labels,
    } = &chart.x
    else {
        return None;
    };
    let [level] = labels.as_slice() else {
        return None;
    };
    let current: Vec<&Line> = chart.lines.iter().filter(|l| !l.baseline).collect();
    let value = |line: Option<&Line>| line.and_then(|l| l.points.first()).map(|p| p.1);
    let baseline_of = |line: &Line| {
        let label = format!("{} (baseline)", line.label);
        chart.lines.iter().find(|b| b.baseline && b.label == label)
    };
    let mut series = vec![(
        "this run".to_owned(),
        current.iter().map(|l| value(Some(l))).collect(),
    )];
    if chart.lines.iter().any(|l| l.baseline) {
        let values = current.iter().map(|l| value(baseline_of(l))).collect();
        series.push(("baseline".to_owned(), values));
    }
    let against = format!(" vs {axis}");
    let at = format!(" at {axis} {level}");
    let title = match title.find(&against) {
        Some(i) => format!("{}{at}{}", &title[..i], &title[i + against.len()..]),
        None => format!("{title}{at}"),
    };
    let bars = BarChart {
        y_title: chart.y_title.clone(),
        categories: current.iter().map(|l| l.label.clone()).collect(),
        notes: vec![String::new(); current.len()],
        series,
    };
    Some((title, bars))
}
