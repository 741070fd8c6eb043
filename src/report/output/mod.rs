//! Report outputs: one file per format behind [`Format`], rendered from one [`Document`]
//! and written by [`write`], which writes atomically like every file of the harness. The
//! `compare` and `report` commands render and write their outputs here.

mod csv;
mod html;
mod json;
mod junit;
mod markdown;
mod xlsx;

use std::path::Path;

use super::context::{build, build_history, build_runs, Report, Subject};
use super::history::TrendInput;
use super::templates::{TemplateError, Templates};
use crate::atomic::{self, WriteError};
use crate::compare::verdict::Policy;
use crate::result::RunResult;

pub use markdown::COMMENT_LIMIT;

/// A report output that could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Csv(#[from] ::csv::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// The formats of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Markdown for a pull-request comment or job summary, shortened to fit a comment.
    Markdown,
    /// Self-contained HTML with charts.
    Html,
    /// One row per point with every summary figure.
    Csv,
    /// One row per point and window of its timeline.
    TimelineCsv,
    /// The data the templates see.
    Json,
    /// JUnit XML of the comparisons, one test case per point and metric.
    Junit,
    /// An Excel workbook: a summary sheet, the points, and a sheet per table.
    Xlsx,
}

impl Format {
    /// The format a file name implies (`.md`, `.html`, `.csv`, `.json`, `.xml`, `.xlsx`).
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()? {
            "md" | "markdown" => Some(Self::Markdown),
            "html" | "htm" => Some(Self::Html),
            "csv" => Some(Self::Csv),
            "json" => Some(Self::Json),
            "xml" => Some(Self::Junit),
            "xlsx" => Some(Self::Xlsx),
            _ => None,
        }
    }
}

/// What every format of one report is rendered from: the results and their comparisons,
/// and the report the templates see, built from them once.
pub struct Document<'a> {
    subjects: &'a [Subject<'a>],
    report: Report,
    policy: Policy,
}

impl<'a> Document<'a> {
    /// The document of `subjects`; `policy` decides which verdicts fail.
    pub fn new(subjects: &'a [Subject<'a>], policy: Policy) -> Self {
        Self {
            subjects,
            report: build(subjects, policy),
            policy,
        }
    }

    /// The document of several runs side by side, `labels` naming them (one per subject,
    /// which have no baseline).
    pub fn side_by_side(subjects: &'a [Subject<'a>], labels: &[String]) -> Self {
        let runs: Vec<(String, &RunResult)> = labels
            .iter()
            .cloned()
            .zip(subjects.iter().map(|s| s.current))
            .collect();
        Self {
            subjects,
            report: build_runs(&runs),
            policy: Policy::default(),
        }
    }

    /// The trend page of `inputs`: runs over time (Markdown, HTML and JSON).
    pub fn history(inputs: Vec<TrendInput>) -> Self {
        Self {
            subjects: &[],
            report: build_history(inputs),
            policy: Policy::default(),
        }
    }

    /// Names where the full report is, for the note of a shortened Markdown report.
    pub fn with_full_report(mut self, location: impl Into<String>) -> Self {
        self.report.full_report = Some(location.into());
        self
    }

    /// The document in `format` (`templates` serve Markdown and HTML), as the bytes of
    /// its file.
    pub fn render(&self, format: Format, templates: &Templates) -> Result<Vec<u8>, OutputError> {
        let results = || self.subjects.iter().map(|s| s.current);
        let comparisons = || self.subjects.iter().filter_map(|s| s.comparison);
        let text = match format {
            Format::Markdown => markdown::render(templates, &self.report)?,
            Format::Html => html::render(templates, &self.report)?,
            Format::Csv => csv::render(results())?,
            Format::TimelineCsv => csv::render_timeline(results())?,
            Format::Json => json::render(&self.report)?,
            Format::Junit => junit::render(comparisons(), self.policy),
            Format::Xlsx => return Ok(xlsx::render(&self.report, self.subjects)?),
        };
        Ok(text.into_bytes())
    }
}

/// Writes a rendered output to `path` atomically.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    Ok(atomic::write(path, bytes)?)
}
