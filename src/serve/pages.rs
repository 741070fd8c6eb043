//! The dashboard's pages, rendered on the server from the Tera templates in `templates/`
//! (escaped automatically) with one style sheet and one script of its own, served here
//! too: overview, history (filters, delete with confirmation), a run (its live progress,
//! then its report), comparison (up to five runs), trends, a new run, and the login page
//! when a key is set. The reports themselves are the `report` and `history` commands'
//! HTML documents, shown in frames.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use http::{header, StatusCode};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;
use tera::{Context, Tera, Value};

use super::api::{self, all_runs, Problem, MAX_COMPARED};
use super::guard::{authorized, logged_out_cookie, session_cookie, REPORT_POLICY};
use super::request::{RequestError, RunRequest};
use super::store::RunId;
use super::summary::{counts, Filter, RunSummary, Status};
use super::App;
use crate::report::output::{Document, Format};
use crate::report::{Templates, TrendInput};
use crate::scenario::Api;

const TEMPLATES: [(&str, &str); 9] = [
    ("base.html.tera", include_str!("templates/base.html.tera")),
    (
        "overview.html.tera",
        include_str!("templates/overview.html.tera"),
    ),
    (
        "history.html.tera",
        include_str!("templates/history.html.tera"),
    ),
    ("runs.html.tera", include_str!("templates/runs.html.tera")),
    ("run.html.tera", include_str!("templates/run.html.tera")),
    (
        "compare.html.tera",
        include_str!("templates/compare.html.tera"),
    ),
    (
        "trends.html.tera",
        include_str!("templates/trends.html.tera"),
    ),
    ("new.html.tera", include_str!("templates/new.html.tera")),
    (
        "message.html.tera",
        include_str!("templates/message.html.tera"),
    ),
];
const STYLE: &str = include_str!("static/dashboard.css");
const SCRIPT: &str = include_str!("static/dashboard.js");
const ICON: &str = include_str!("static/favicon.svg");

/// Recent runs on the overview.
const RECENT: usize = 10;

/// The dashboard's templates and the reports'.
pub struct Pages {
    tera: Tera,
    pub reports: Templates,
}

impl Pages {
    pub fn load() -> anyhow::Result<Self> {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html.tera"]);
        tera.add_raw_templates(TEMPLATES)?;
        tera.register_filter("path_part", path_part_filter);
        Ok(Self {
            tera,
            reports: Templates::load(None)?,
        })
    }

    /// `template` rendered with `context` and the page's name (for the navigation).
    fn render(&self, template: &str, page: &str, mut context: Context) -> Response {
        context.insert("page", page);
        match self.tera.render(template, &context) {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                tracing::error!("cannot render {template}: {e:?}");
                (StatusCode::INTERNAL_SERVER_ERROR, "cannot render the page").into_response()
            }
        }
    }

    /// A page that says `message` (a missing run, a refused request).
    fn message(&self, status: StatusCode, title: &str, message: &str) -> Response {
        let mut context = Context::new();
        context.insert("title", title);
        context.insert("message", message);
        let mut response = self.render("message.html.tera", "", context);
        *response.status_mut() = status;
        response
    }
}

/// `GET /static/{file}`: the style sheet, the script and the icon.
pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, mime) = match file.as_str() {
        "dashboard.css" => (STYLE, "text/css; charset=utf-8"),
        "dashboard.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        "favicon.svg" => (ICON, "image/svg+xml"),
        _ => return (StatusCode::NOT_FOUND, "no such file").into_response(),
    };
    let cache = "no-cache";
    (
        [(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, cache)],
        body,
    )
        .into_response()
}

/// Any other path.
pub async fn not_found(State(app): State<Arc<App>>) -> Response {
    app.pages
        .message(StatusCode::NOT_FOUND, "Not found", "No page here.")
}

/// `GET /`: runs by status, the queue and the recent runs.
pub async fn overview(State(app): State<Arc<App>>) -> Response {
    let runs = all_runs(&app);
    let mut context = Context::new();
    context.insert("counts", &counts(&runs));
    context.insert("runs", &runs.iter().take(RECENT).collect::<Vec<_>>());
    context.insert("total", &runs.len());
    context.insert("results_dir", &app.store.dir().display().to_string());
    app.pages.render("overview.html.tera", "overview", context)
}

/// `GET /history?scenario=&status=&server=&model=`.
pub async fn history(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let filter = filter_of(query.as_deref());
    let runs: Vec<RunSummary> = all_runs(&app)
        .into_iter()
        .filter(|r| filter.matches(r))
        .collect();
    let mut context = Context::new();
    context.insert("runs", &runs);
    context.insert("filter", &FilterView::of(&filter));
    context.insert("statuses", &Status::ALL.map(Status::name));
    context.insert("max_compared", &MAX_COMPARED);
    app.pages.render("history.html.tera", "history", context)
}

/// The history filter in a query string; unknown fields and statuses are ignored.
fn filter_of(query: Option<&str>) -> Filter {
    let status = query_value(query, "status");
    Filter {
        scenario: query_value(query, "scenario"),
        server: query_value(query, "server"),
        model: query_value(query, "model"),
        status: Status::ALL
            .into_iter()
            .find(|s| status.as_deref() == Some(s.name())),
    }
}

/// The filter as the form shows it.
#[derive(Serialize)]
struct FilterView<'a> {
    scenario: &'a str,
    status: &'a str,
    server: &'a str,
    model: &'a str,
}

impl<'a> FilterView<'a> {
    fn of(filter: &'a Filter) -> Self {
        Self {
            scenario: filter.scenario.as_deref().unwrap_or(""),
            status: filter.status.map_or("", Status::name),
            server: filter.server.as_deref().unwrap_or(""),
            model: filter.model.as_deref().unwrap_or(""),
        }
    }
}

/// `GET /runs/{id}`: a queued or running run's live progress, or an ended run's figures
/// (and why it failed, when it did) and report.
pub async fn run(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let Ok(id) = RunId::parse(&id) else {
        let why = "That is not a run's id.";
        return app
            .pages
            .message(StatusCode::BAD_REQUEST, "Bad run id", why);
    };
    let mut context = Context::new();
    context.insert("run_id", id.as_str());
    let view = app.jobs.view(&id);
    if let Some(view) = view.as_ref().filter(|v| !v.summary.status.is_final()) {
        context.insert("run", &view.summary);
        context.insert("live", view);
        return app.pages.render("run.html.tera", "run", context);
    }
    let stored = app.store.read(&id).ok();
    let summary = match (view, &stored) {
        (Some(view), _) if view.error.is_some() || stored.is_none() => {
            context.insert("error", &view.error);
            view.summary
        }
        (_, Some(result)) => RunSummary::of_result(id.as_str(), result),
        (_, None) => {
            let missing = format!("No run `{id}` in the results directory.");
            return app
                .pages
                .message(StatusCode::NOT_FOUND, "No such run", &missing);
        }
    };
    context.insert("stored", &stored.is_some());
    context.insert("run", &summary);
    app.pages.render("run.html.tera", "run", context)
}

/// A report document, served with its own policy for the dashboard's frames.
fn report_page(bytes: Vec<u8>) -> Response {
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CONTENT_SECURITY_POLICY, REPORT_POLICY),
    ];
    (headers, bytes).into_response()
}

/// `GET /runs/{id}/report`: the run's HTML report.
pub async fn report(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let result = app.store.read(&api::run_id(&id)?)?;
    let bytes =
        api::render_one(&result, Format::Html, &app.pages.reports).map_err(Problem::internal)?;
    Ok(report_page(bytes))
}

/// The values of `name` in a query string (`id=a&id=b`).
fn query_values(query: Option<&str>, name: &str) -> Vec<String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .filter(|(key, value)| key == name && !value.is_empty())
        .map(|(_, value)| value.into_owned())
        .collect()
}

/// The first value of `name` in a query string.
fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    query_values(query, name).into_iter().next()
}

/// A query string of `name=value` pairs, encoded.
fn query_of<'v>(pairs: impl IntoIterator<Item = (&'static str, &'v str)>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(pairs);
    query.finish()
}

/// `GET /compare?id=..`: two to five runs side by side, or the runs to pick from.
pub async fn compare(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let ids = query_values(query.as_deref(), "id");
    let mut context = Context::new();
    context.insert("ids", &ids);
    context.insert("query", &query_of(ids.iter().map(|id| ("id", id.as_str()))));
    context.insert("max_compared", &MAX_COMPARED);
    let stored: Vec<RunSummary> = all_runs(&app)
        .into_iter()
        .filter(|r| r.status.is_final() && r.points > 0)
        .collect();
    context.insert("runs", &stored);
    let chosen = (2..=MAX_COMPARED).contains(&ids.len());
    context.insert("chosen", &chosen);
    app.pages.render("compare.html.tera", "compare", context)
}

/// `GET /compare/report?id=..`: the several-runs report.
pub async fn compare_report(
    State(app): State<Arc<App>>,
    RawQuery(query): RawQuery,
) -> Result<Response, Problem> {
    let ids = query_values(query.as_deref(), "id");
    Ok(report_page(api::side_by_side(&app, &ids, Format::Html)?))
}

/// `GET /trends?scenario=`: each key figure over the stored runs.
pub async fn trends(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let mut scenarios: Vec<String> = app.store.list().into_iter().map(|r| r.scenario).collect();
    scenarios.sort();
    scenarios.dedup();
    let mut context = Context::new();
    context.insert("scenarios", &scenarios);
    let scenario = query_value(query.as_deref(), "scenario").unwrap_or_default();
    context.insert("query", &query_of([("scenario", scenario.as_str())]));
    context.insert("scenario", &scenario);
    app.pages.render("trends.html.tera", "trends", context)
}

/// `GET /trends/report?scenario=`: the trend page of the stored complete results.
pub async fn trends_report(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let scenario = query_value(query.as_deref(), "scenario");
    let mut inputs = Vec::new();
    for run in app.store.list() {
        let wanted = scenario.as_ref().is_none_or(|s| *s == run.scenario);
        let id = RunId::parse(&run.run_id);
        if let (true, Ok(Ok(result))) = (wanted, id.map(|id| app.store.read(&id))) {
            if !result.partial {
                inputs.extend(TrendInput::of_result(&run.run_id, &result));
            }
        }
    }
    if inputs.is_empty() {
        return app.pages.message(
            StatusCode::NOT_FOUND,
            "No runs",
            "No complete result to follow.",
        );
    }
    match Document::history(inputs).render(Format::Html, &app.pages.reports) {
        Ok(bytes) => report_page(bytes),
        Err(e) => app.pages.message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Cannot render",
            &e.to_string(),
        ),
    }
}

/// `GET /new`: the new-run form.
pub async fn new_run(State(app): State<Arc<App>>) -> Response {
    new_form(&app, &HashMap::new(), None)
}

/// The new-run form's fields: text, numbers, the goodput SLO's milliseconds, and the two
/// read apart (concurrency, a list; streaming, a checkbox).
const TEXT_FIELDS: [&str; 7] = [
    "scenario",
    "server_url",
    "simulator",
    "model",
    "adapter",
    "preset",
    "api_key",
];
const NUMBER_FIELDS: [&str; 5] = [
    "num_prompts",
    "input_len",
    "output_len",
    "warmup",
    "timeout",
];
const SLO_FIELDS: [&str; 3] = ["ttft_ms", "tpot_ms", "e2e_ms"];
const LIST_FIELDS: [&str; 2] = ["concurrency", "stream"];

/// The new-run form with `values` filled in (streaming on when nothing was given) and
/// `error` said.
fn new_form(app: &App, given: &HashMap<String, String>, error: Option<&RequestError>) -> Response {
    let fields = TEXT_FIELDS
        .iter()
        .chain(&NUMBER_FIELDS)
        .chain(&SLO_FIELDS)
        .chain(&LIST_FIELDS);
    let mut values: HashMap<&str, &str> = fields.map(|&f| (f, "")).collect();
    values.extend(given.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if given.is_empty() {
        values.insert("stream", "on");
    }
    values.remove("api_key");
    let mut context = Context::new();
    context.insert("values", &values);
    context.insert("error", &error.map(ToString::to_string));
    let profiles: Vec<&str> = crate::sim::PROFILES.iter().map(|p| p.name).collect();
    context.insert("profiles", &profiles);
    context.insert("adapters", &Api::ALL.map(Api::name));
    context.insert("scenarios", &scenario_names(&app.config.scenarios));
    let mut response = app.pages.render("new.html.tera", "new", context);
    if error.is_some() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    response
}

/// The scenario files a run may name (without the schema), sorted.
fn scenario_names(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".json")?;
            (!stem.ends_with(".schema")).then(|| stem.to_owned())
        })
        .collect();
    names.sort();
    names
}

/// `POST /new`: queues the form's run and shows it.
pub async fn start(
    State(app): State<Arc<App>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let planned = request_of_form(&form).and_then(|r| r.plan(&app.config.scenarios));
    match planned {
        Ok(plan) => {
            let id = app.jobs.submit(plan);
            Redirect::to(&format!("/runs/{}", path_part(id.as_str()))).into_response()
        }
        Err(e) => new_form(&app, &form, Some(&e)),
    }
}

/// A run id as one part of a path (`/` and all else but letters, digits, `-`, `_` and `.`
/// percent-encoded).
fn path_part(id: &str) -> String {
    const PART: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');
    utf8_percent_encode(id, PART).to_string()
}

/// `path_part` as a template filter.
fn path_part_filter(value: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let text = value.as_str().ok_or("path_part: expected a string")?;
    Ok(Value::String(path_part(text)))
}

/// The run a form asks for: empty fields are not given; with a scenario file, only it
/// and the server's key.
fn request_of_form(form: &HashMap<String, String>) -> Result<RunRequest, RequestError> {
    let text = |name: &str| {
        form.get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let number = |name: &str, value: String| -> Result<serde_json::Value, RequestError> {
        serde_json::from_str(&value).map_err(|_| RequestError {
            field: name.to_owned(),
            message: format!("expected a number, got `{value}`"),
        })
    };
    let mut body = serde_json::Map::new();
    let mut slo = serde_json::Map::new();
    for name in TEXT_FIELDS {
        if let Some(value) = text(name) {
            body.insert(name.to_owned(), value.into());
        }
    }
    if body.contains_key("scenario") {
        body.retain(|name, _| name == "scenario" || name == "api_key");
        return parsed(body);
    }
    for name in NUMBER_FIELDS {
        if let Some(value) = text(name) {
            body.insert(name.to_owned(), number(name, value)?);
        }
    }
    for name in SLO_FIELDS {
        if let Some(value) = text(name) {
            slo.insert(name.to_owned(), number(name, value)?);
        }
    }
    if let Some(levels) = text("concurrency") {
        let list = number("concurrency", format!("[{levels}]"))?;
        body.insert("concurrency".into(), list);
    }
    body.insert("stream".into(), form.contains_key("stream").into());
    if !slo.is_empty() {
        body.insert("goodput_thresholds".into(), slo.into());
    }
    parsed(body)
}

/// A request from its fields; a wrong one is named by its path.
fn parsed(body: serde_json::Map<String, serde_json::Value>) -> Result<RunRequest, RequestError> {
    serde_path_to_error::deserialize(serde_json::Value::from(body)).map_err(|e| RequestError {
        field: e.path().to_string(),
        message: e.into_inner().to_string(),
    })
}

/// `POST /runs/{id}/delete`: deletes (or stops) the run, back to the history.
pub async fn delete(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let removed = RunId::parse(&id)
        .map_err(|e| e.to_string())
        .and_then(|id| api::remove(&app, &id).map_err(|e| e.to_string()));
    match removed {
        Ok(_) => Redirect::to("/history").into_response(),
        Err(e) => app
            .pages
            .message(StatusCode::BAD_REQUEST, "Not deleted", &e),
    }
}

/// `GET /login`: the key form (when a key is set).
pub async fn login(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let next = query_value(query.as_deref(), "next").unwrap_or_default();
    let mut context = Context::new();
    context.insert("next", &local_path(&next));
    context.insert("login", &true);
    context.insert("keyed", &app.config.api_key.is_some());
    app.pages.render("message.html.tera", "login", context)
}

/// Where to go after logging in: a path of this dashboard only (printable characters,
/// no whitespace, not `//` or `/\`, which browsers would take for another host).
fn local_path(next: &str) -> String {
    let plain = next.bytes().all(|b| b.is_ascii_graphic());
    let local = next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\");
    if plain && local { next } else { "/" }.to_owned()
}

/// `POST /login`: the right key sets the session cookie.
pub async fn log_in(
    State(app): State<Arc<App>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let key = form.get("key").map_or("", String::as_str);
    let mut headers = http::HeaderMap::new();
    if let Ok(value) = http::HeaderValue::from_str(key) {
        headers.insert("x-api-key", value);
    }
    if app.config.api_key.is_none() || !authorized(&app, &headers) {
        let refused = "That is not the dashboard's key.";
        return app
            .pages
            .message(StatusCode::UNAUTHORIZED, "Wrong key", refused);
    }
    let next = local_path(form.get("next").map_or("/", String::as_str));
    let cookie = session_cookie(&app);
    ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
}

/// `POST /logout`: ends the session.
pub async fn log_out() -> Response {
    (
        [(header::SET_COOKIE, logged_out_cookie())],
        Redirect::to("/login"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_form_becomes_the_request_of_the_api() {
        let request = request_of_form(&form(&[
            ("simulator", "fixed-20ms"),
            ("concurrency", "2, 4"),
            ("num_prompts", "24"),
            ("output_len", ""),
            ("stream", "on"),
            ("ttft_ms", "500"),
        ]))
        .unwrap();
        assert_eq!(request.concurrency, Some(vec![2, 4]));
        assert_eq!((request.num_prompts, request.output_len), (Some(24), None));
        assert_eq!(request.stream, Some(true));
        assert_eq!(request.goodput_thresholds.unwrap().ttft_ms, Some(500.0));
        let unstreamed = request_of_form(&form(&[("simulator", "fixed-20ms")])).unwrap();
        assert_eq!(unstreamed.stream, Some(false));
    }

    #[test]
    fn a_bad_field_is_named() {
        let field = |pairs: &[(&str, &str)]| request_of_form(&form(pairs)).unwrap_err().field;
        assert_eq!(field(&[("concurrency", "x")]), "concurrency");
        assert_eq!(field(&[("num_prompts", "1.5")]), "num_prompts");
        assert_eq!(field(&[("preset", "huge")]), "preset");
    }

    #[test]
    fn only_local_paths_follow_a_login() {
        assert_eq!(local_path("/history"), "/history");
        for outside in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "",
        ] {
            assert_eq!(local_path(outside), "/", "{outside}");
        }
    }
}
