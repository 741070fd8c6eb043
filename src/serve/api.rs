//! The REST API, on the seed's paths and JSON shapes: start a run, its status, its result
//! and exports (CSV, XLSX), the history, a comparison of several runs, deleting a run, and
//! health. Errors are JSON `{"detail": ...}` with the status that fits: 400 for a request
//! that names a bad field or id, 401 without the key, 404 for an unknown run.

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{header, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::jobs::Removed;
use super::store::{RunId, StoreError};
use super::summary::{counts, Filter, RunSummary};
use super::{App, RunRequest};
use crate::compare::verdict::Policy;
use crate::report::output::{Document, Format, OutputError};
use crate::report::{Subject, Templates};
use crate::result::RunResult;

/// The OpenAPI description of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Most runs one comparison shows.
pub const MAX_COMPARED: usize = 5;

/// An error answer: `{"detail": ...}` with its status.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    detail: String,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
        }
    }

    fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "detail": self.detail }))).into_response()
    }
}

/// A failed read or delete of a stored run.
impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        let status = match &error {
            StoreError::NotFound(_) => StatusCode::NOT_FOUND,
            StoreError::Outside(_) => StatusCode::BAD_REQUEST,
            StoreError::Unreadable(_) | StoreError::Delete { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        Self::new(status, error.to_string())
    }
}

/// A run id from the path.
pub fn run_id(text: &str) -> Result<RunId, Problem> {
    RunId::parse(text).map_err(|e| Problem::bad_request(e.to_string()))
}

/// A JSON request body.
fn body_of<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| Problem::bad_request(format!("request body: {e}")))
}

/// `GET /health`: the process answers.
pub async fn alive() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /api/v1/benchmark/health`: the version, the results directory, the runs by status
/// and whether the key is required.
pub async fn health(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    let runs = all_runs(&app);
    let counts: serde_json::Map<String, serde_json::Value> = counts(&runs)
        .into_iter()
        .map(|(status, n)| (status.to_owned(), json!(n)))
        .collect();
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "results_dir": app.store.dir().display().to_string(),
        "runs": counts,
        "workers": app.config.workers,
        "auth": { "mutations": app.config.api_key.is_some(), "reads": app.config.auth_reads && app.config.api_key.is_some() },
    }))
}

/// The history: the runs the queue knows best (queued, running, ended without a result
/// or with an error), and every other stored result; unfinished first, then newest first.
pub fn all_runs(app: &App) -> Vec<RunSummary> {
    let mut runs = app.jobs.lines();
    let known: HashSet<String> = runs.iter().map(|r| r.run_id.clone()).collect();
    let stored = app.store.list().into_iter();
    runs.extend(stored.filter(|r| !known.contains(&r.run_id)));
    let rank = |r: &RunSummary| (r.status.is_final(), std::cmp::Reverse(r.started_at.clone()));
    runs.sort_by_key(rank);
    runs
}

/// `POST /api/v1/benchmark/run`: queues a run; `{"run_id", "status": "started"}`.
pub async fn start(
    State(app): State<Arc<App>>,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let request: RunRequest = body_of(&body)?;
    let plan = request
        .plan(&app.config.scenarios)
        .map_err(|e| Problem::bad_request(e.to_string()))?;
    let id = app.jobs.submit(plan);
    let started = json!({ "run_id": id.as_str(), "status": "started" });
    Ok((StatusCode::ACCEPTED, Json(started)).into_response())
}

/// `GET /api/v1/benchmark/run/{id}`: a run's status (and progress while it runs).
pub async fn status(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = run_id(&id)?;
    if let Some(view) = app.jobs.view(&id) {
        return Ok(Json(view).into_response());
    }
    let result = app.store.read(&id)?;
    Ok(Json(RunSummary::of_result(id.as_str(), &result)).into_response())
}

/// `GET /api/v1/benchmark/result/{id}`: the result file.
pub async fn result(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    Ok(Json(app.store.read(&run_id(&id)?)?).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    #[serde(default)]
    format: Option<String>,
}

/// `GET /api/v1/benchmark/result/{id}/export?format=csv|xlsx`: a download.
pub async fn export(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let Ok(Query(query)) = query else {
        return Err(Problem::bad_request("expected ?format=csv or ?format=xlsx"));
    };
    let (format, mime, extension) = match query.format.as_deref().unwrap_or("csv") {
        "csv" => (Format::Csv, "text/csv; charset=utf-8", "csv"),
        "xlsx" => (
            Format::Xlsx,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        other => {
            let expected = format!("format: expected csv or xlsx, got `{other}`");
            return Err(Problem::bad_request(expected));
        }
    };
    let id = run_id(&id)?;
    let result = app.store.read(&id)?;
    let bytes = render_one(&result, format, &app.pages.reports).map_err(Problem::internal)?;
    let name = id.as_str().replace(['/', ':'], "_");
    let disposition = format!("attachment; filename=\"{name}.{extension}\"");
    let headers = [
        (header::CONTENT_TYPE, mime.to_owned()),
        (header::CONTENT_DISPOSITION, disposition),
    ];
    Ok((headers, bytes).into_response())
}

/// One result's report in `format`.
pub fn render_one(
    result: &RunResult,
    format: Format,
    templates: &Templates,
) -> Result<Vec<u8>, OutputError> {
    let subjects = [Subject::alone(result)];
    Document::new(&subjects, Policy::default()).render(format, templates)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HistoryQuery {
    #[serde(flatten)]
    filter: Filter,
    limit: Option<usize>,
    offset: Option<usize>,
}

/// `GET /api/v1/benchmark/history?scenario=&status=&server=&model=&limit=&offset=`.
pub async fn history(
    State(app): State<Arc<App>>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return Problem::bad_request(
            "expected scenario, status (queued, running, completed, failed, partial, cancelled), server, model, limit, offset",
        ).into_response();
    };
    let runs: Vec<RunSummary> = all_runs(&app)
        .into_iter()
        .filter(|r| query.filter.matches(r))
        .collect();
    let total = runs.len();
    let shown: Vec<RunSummary> = runs
        .into_iter()
        .skip(query.offset.unwrap_or(0))
        .take(query.limit.unwrap_or(100))
        .collect();
    Json(json!({ "total": total, "runs": shown })).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareRequest {
    run_ids: Vec<String>,
}

/// `POST /api/v1/benchmark/compare` with `{"run_ids": [...]}` (2 to 5): the runs side by
/// side, as the several-runs report's data.
pub async fn compare(
    State(app): State<Arc<App>>,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let request: CompareRequest = body_of(&body)?;
    let bytes = side_by_side(&app, &request.run_ids, Format::Json)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response())
}

/// The runs `ids` (2 to 5) side by side in `format`.
pub fn side_by_side(app: &App, ids: &[String], format: Format) -> Result<Vec<u8>, Problem> {
    if !(2..=MAX_COMPARED).contains(&ids.len()) {
        let count = ids.len();
        let expected = format!("run_ids: expected 2 to {MAX_COMPARED} runs, got {count}");
        return Err(Problem::bad_request(expected));
    }
    let results = ids
        .iter()
        .map(|id| Ok(app.store.read(&run_id(id)?)?))
        .collect::<Result<Vec<_>, Problem>>()?;
    let subjects: Vec<Subject> = results.iter().map(Subject::alone).collect();
    Document::side_by_side(&subjects, ids)
        .render(format, &app.pages.reports)
        .map_err(Problem::internal)
}

/// `DELETE /api/v1/benchmark/run/{id}`: takes a run out of the queue, stops a running one
/// and deletes its result, or deletes a stored result.
pub async fn delete(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let id = run_id(&id)?;
    let status = remove(&app, &id)?;
    Ok(Json(json!({ "run_id": id.as_str(), "status": status })).into_response())
}

/// Removes a run wherever it is; what became of it.
pub fn remove(app: &App, id: &RunId) -> Result<&'static str, StoreError> {
    match app.jobs.remove(id) {
        Removed::Dequeued => Ok("cancelled"),
        Removed::Stopped => Ok("stopping"),
        Removed::Forgotten => Ok("deleted"),
        Removed::NotQueued => app.store.delete(id).map(|()| "deleted"),
    }
}

/// `GET /api/v1/openapi.json`.
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
