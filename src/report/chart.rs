//! Inline SVG charts drawn with plotters: line charts over a numeric or categorical x axis,
//! and grouped bar charts. Axes and text are drawn in [`INK`] so the page's stylesheet can
//! recolour them for dark mode; series take [`PALETTE`] colours. Legends are the page's
//! (HTML), not the SVG's, so they wrap on narrow screens.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Colour-blind-safe series colours (Okabe-Ito, yellow replaced), readable on light and
/// dark backgrounds.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x88, 0x22, 0x55),
    RGBColor(0x11, 0x77, 0x33),
];

/// Axes, ticks and text; the stylesheet matches this exact colour to recolour it.
pub const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);
/// Opacity of baseline series drawn under the current ones.
const BASELINE_OPACITY: f64 = 0.4;

const WIDTH: u32 = 560;
const HEIGHT: u32 = 320;

/// The hex code of a palette colour, for HTML legends.
pub fn color_hex(index: usize) -> String {
    let RGBColor(r, g, b) = PALETTE[index % PALETTE.len()];
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The x axis of a line chart.
#[derive(Debug, Clone)]
pub enum XAxis {
    /// Values plotted at their position.
    Numeric { title: String },
    /// Evenly spaced categories; a line's x values are indices into `labels`.
    Categories { title: String, labels: Vec<String> },
}

/// One series of a line chart.
#[derive(Debug, Clone)]
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// Index into [`PALETTE`].
    pub color: usize,
    pub dashed: bool,
    /// Drawn faded, under the current series.
    pub baseline: bool,
    /// Points ringed as remarkable (a change beyond the noise).
    pub marks: Vec<(f64, f64)>,
}

#[derive(Debug, Clone)]
pub struct LineChart {
    pub x: XAxis,
    pub y_title: String,
    pub lines: Vec<Line>,
}

/// Grouped bars: one group per category, one bar per series.
#[derive(Debug, Clone)]
pub struct BarChart {
    pub y_title: String,
    pub categories: Vec<String>,
    /// `(label, value per category)`, coloured by position.
    pub series: Vec<(String, Vec<Option<f64>>)>,
    /// A note above each group (`+12%`), empty for none.
    pub notes: Vec<String>,
}

/// A drawing failure (plotters reports them for impossible layouts).
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the chart: {0}")]
pub struct DrawError(String);

fn draw_error<E: std::fmt::Debug>(e: E) -> DrawError {
    DrawError(format!("{e:?}"))
}

/// A range from zero (or the data's minimum, when negative) to a little above the maximum.
fn value_range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (mut low, mut high) = (0.0f64, 0.0f64);
    for v in values.filter(|v| v.is_finite()) {
        low = low.min(v);
        high = high.max(v);
    }
    if high <= low {
        high = low + 1.0;
    }
    low * 1.08..high * 1.08
}

/// A tick value without float noise: `2000`, `0.25`, `12.5`.
fn tick(value: &f64) -> String {
    let rounded = (value * 1e6).round() / 1e6;
    format!("{rounded}")
}

fn text_style(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&INK)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// An SVG document `width` pixels wide, drawn by `draw`.
fn render(
    width: u32,
    draw: impl FnOnce(&Area<'_>) -> Result<(), DrawError>,
) -> Result<String, DrawError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, HEIGHT)).into_drawing_area();
        draw(&root)?;
        root.present().map_err(draw_error)?;
    }
    Ok(svg)
}

/// The label of the category at tick `x`, empty between categories.
fn category_label(labels: &[String], x: f64) -> String {
    let index = x.round();
    if (x - index).abs() < 1e-6 && index >= 0.0 {
        labels.get(index as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// Renders `chart` as an SVG document.
pub fn line_svg(chart: &LineChart) -> Result<String, DrawError> {
    render(WIDTH, |root| draw_lines(root, chart))
}

fn draw_lines(root: &Area<'_>, chart: &LineChart) -> Result<(), DrawError> {
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    if !chart
        .lines
        .iter()
        .any(|l| l.points.iter().any(|p| finite(&p)))
    {
        return Err(DrawError("no figures to draw".into()));
    }
    let xs = chart
        .lines
        .iter()
        .flat_map(|l| l.points.iter().filter(finite).map(|p| p.0));
    let x_range = match &chart.x {
        XAxis::Categories { labels, .. } => -0.5..labels.len() as f64 - 0.5,
        XAxis::Numeric { .. } => {
            let (low, high) = xs.fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(x), h.max(x)));
            let pad = ((high - low) * 0.06).max(0.5);
            low - pad..high + pad
        }
    };
    let y_range = value_range(
        chart
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1)),
    );
    let mut ctx = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range, y_range)
        .map_err(draw_error)?;
    let (x_title, categories) = match &chart.x {
        XAxis::Numeric { title } => (title.as_str(), None),
        XAxis::Categories { title, labels } => (title.as_str(), Some(labels)),
    };
    let x_label = |x: &f64| match categories {
        Some(labels) => category_label(labels, *x),
        None => tick(x),
    };
    let mut mesh = ctx.configure_mesh();
    mesh.x_desc(x_title)
        .y_desc(chart.y_title.as_str())
        .axis_style(INK)
        .label_style(text_style(16))
        .axis_desc_style(text_style(16))
        .bold_line_style(INK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .x_label_formatter(&x_label)
        .y_label_formatter(&tick)
        .y_labels(6);
    if let Some(labels) = categories {
        mesh.x_labels(labels.len()).disable_x_mesh();
    }
    mesh.draw().map_err(draw_error)?;
    for line in chart
        .lines
        .iter()
        .filter(|l| l.baseline)
        .chain(chart.lines.iter().filter(|l| !l.baseline))
    {
        let base = PALETTE[line.color % PALETTE.len()];
        let color = if line.baseline {
            base.mix(BASELINE_OPACITY)
        } else {
            base.mix(1.0)
        };
        let style = color.stroke_width(2);
        if line.dashed {
            ctx.draw_series(DashedLineSeries::new(line.points.clone(), 6, 4, style))
                .map_err(draw_error)?;
        } else {
            ctx.draw_series(LineSeries::new(line.points.clone(), style))
                .map_err(draw_error)?;
        }
        ctx.draw_series(
            line.points
                .iter()
                .map(|&p| Circle::new(p, 3, color.filled())),
        )
        .map_err(draw_error)?;
        ctx.draw_series(
            line.marks
                .iter()
                .map(|&p| Circle::new(p, 8, color.stroke_width(2))),
        )
        .map_err(draw_error)?;
    }
    Ok(())
}

/// Renders `chart` as an SVG document, wider when there are many groups.
pub fn bar_svg(chart: &BarChart) -> Result<String, DrawError> {
    let groups = chart.categories.len().max(1);
    render(WIDTH.max(90 + 60 * groups as u32), |root| {
        draw_bars(root, chart)
    })
}

fn draw_bars(root: &Area<'_>, chart: &BarChart) -> Result<(), DrawError> {
    if chart.categories.is_empty() {
        return Err(DrawError("no figures to draw".into()));
    }
    let n = chart.categories.len();
    let y_range = value_range(
        chart
            .series
            .iter()
            .flat_map(|(_, v)| v.iter().flatten().copied()),
    );
    let top = y_range.end;
    let mut ctx = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5..n as f64 - 0.5, y_range)
        .map_err(draw_error)?;
    let label = |x: &f64| category_label(&chart.categories, *x);
    ctx.configure_mesh()
        .y_desc(chart.y_title.as_str())
        .axis_style(INK)
        .label_style(text_style(15))
        .axis_desc_style(text_style(16))
        .bold_line_style(INK.mix(0.12))
        .light_line_style(TRANSPARENT)
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&label)
        .y_label_formatter(&tick)
        .y_labels(6)
        .draw()
        .map_err(draw_error)?;
    let width = 0.8 / chart.series.len().max(1) as f64;
    for (s, (_, values)) in chart.series.iter().enumerate() {
        let color = PALETTE[s % PALETTE.len()].filled();
        ctx.draw_series(values.iter().enumerate().filter_map(|(i, v)| {
            let left = i as f64 - 0.4 + s as f64 * width;
            v.map(|v| Rectangle::new([(left, 0.0), (left + width * 0.92, v)], color))
        }))
        .map_err(draw_error)?;
    }
    ctx.draw_series(chart.notes.iter().enumerate().map(|(i, note)| {
        let highest = chart
            .series
            .iter()
            .filter_map(|(_, v)| v.get(i).copied().flatten())
            .fold(0.0, f64::max);
        Text::new(
            note.clone(),
            (i as f64, (highest + top * 0.02).min(top)),
            text_style(15).pos(Pos::new(HPos::Center, VPos::Bottom)),
        )
    }))
    .map_err(draw_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categorical_axis_labels_every_category() {
        let chart = LineChart {
            x: XAxis::Categories {
                title: "concurrency".into(),
                labels: (1..=16).map(|c| format!("c{c}")).collect(),
            },
            y_title: "tok/s".into(),
            lines: vec![Line {
                label: "a".into(),
                points: (0..16).map(|i| (i as f64, i as f64 * 3.0)).collect(),
                color: 0,
                dashed: false,
                baseline: false,
                marks: Vec::new(),
            }],
        };
        let svg = line_svg(&chart).unwrap();
        for c in 1..=16 {
            assert!(
                svg.contains(&format!(">\nc{c}\n<")) || svg.contains(&format!(">c{c}<")),
                "c{c} missing:\n{svg}"
            );
        }
    }

    #[test]
    fn bars_and_notes_are_drawn() {
        let chart = BarChart {
            y_title: "ms".into(),
            categories: vec!["1k".into(), "3k".into()],
            series: vec![
                ("on".into(), vec![Some(10.0), Some(30.0)]),
                ("off".into(), vec![Some(12.0), None]),
            ],
            notes: vec!["+20%".into(), String::new()],
        };
        let svg = bar_svg(&chart).unwrap();
        assert!(svg.contains("+20%"));
        assert_eq!(
            svg.matches("<rect").count() - svg.matches("<rect x=\"0\" y=\"0\"").count(),
            3,
            "{svg}"
        );
    }
}
