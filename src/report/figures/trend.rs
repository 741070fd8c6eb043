//! The charts of the history page: each key figure over the runs of a scenario, one line
//! per point (eight to a chart), the runs where it changed beyond its noise ringed.

use super::{Builder, Figure, FigureGroup};
use crate::report::chart::{Line, LineChart, XAxis, PALETTE};
use crate::report::history::{metric_label, PointTrend, TREND_METRICS};

/// The charts of one scenario's `points` over `runs` runs; `scenario` numbers their ids.
pub fn trend_figures(points: &[PointTrend], runs: usize, scenario: usize) -> Vec<FigureGroup> {
    let mut builder = Builder {
        baseline: None,
        next_id: scenario * 1000,
    };
    let labels: Vec<String> = (1..=runs).map(|n| n.to_string()).collect();
    let mut groups = Vec::new();
    for (part, chunk) in points.chunks(PALETTE.len()).enumerate() {
        let figures: Vec<Figure> = TREND_METRICS
            .iter()
            .filter_map(|&metric| {
                let chart = chart(chunk, metric, &labels)?;
                Some(builder.line_figure(format!("{} by run", metric_label(metric)), chart))
            })
            .collect();
        let title = match points.len() > PALETTE.len() {
            true => format!(
                "Points {} to {}",
                part * PALETTE.len() + 1,
                part * PALETTE.len() + chunk.len()
            ),
            false => "Key figures by run".to_owned(),
        };
        groups.push(FigureGroup { title, figures });
    }
    groups
}

/// A line per point of `metric`; `None` when no point has it.
fn chart(points: &[PointTrend], metric: &str, labels: &[String]) -> Option<LineChart> {
    let lines: Vec<Line> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let m = p.metrics.iter().find(|m| m.key == metric)?;
            let at = |run: usize| Some((run as f64, m.values[run]?));
            Some(Line {
                label: p.id.clone(),
                points: (0..m.values.len()).filter_map(at).collect(),
                color: i,
                dashed: false,
                baseline: false,
                marks: (0..m.marks.len())
                    .filter(|&run| m.marks[run].is_some())
                    .filter_map(at)
                    .collect(),
            })
        })
        .collect();
    (!lines.is_empty()).then(|| LineChart {
        x: XAxis::Categories {
            title: "run".into(),
            labels: labels.to_vec(),
        },
        y_title: metric_label(metric),
        lines,
    })
}
