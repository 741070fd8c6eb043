//! `llm-loadtest serve`: the dashboard and REST API over a results directory. The result
//! files are the database ([`store`]): a directory of results is the history, and the
//! report pages are the detail views. Runs started from the dashboard or the API are
//! queued and measured by the library's runner ([`jobs`]), their progress streamed over a
//! WebSocket ([`ws`]). Pages are server-rendered from Tera templates ([`pages`]), the API
//! speaks the seed's paths and JSON ([`api`]), and [`guard`] adds the API key, the
//! security headers and a request id to every request's log line.

mod api;
mod guard;
mod jobs;
mod pages;
mod request;
mod store;
mod summary;
mod ws;

use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use tokio_util::sync::CancellationToken;

use crate::secret::Secret;

use request::RunRequest;
use store::Store;

/// How the dashboard serves.
#[derive(Debug, Clone)]
pub struct Config {
    /// The results directory: the history, and where new runs write.
    pub results: PathBuf,
    /// The scenario files a run may name.
    pub scenarios: PathBuf,
    /// When set, every mutating request needs it (`X-API-Key`, or the login cookie).
    pub api_key: Option<Secret>,
    /// Reads need the key too.
    pub auth_reads: bool,
    /// Runs measured at once; the others wait in the queue.
    pub workers: usize,
    /// The `Host` values answered (`None`: any), so that a page elsewhere cannot reach a
    /// dashboard on 127.0.0.1 through a name rebound to it.
    pub allowed_hosts: Option<Vec<String>>,
}

impl Config {
    /// The host names of a dashboard on a loopback address at `port`.
    pub fn loopback_hosts(port: u16) -> Vec<String> {
        ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .map(|host| format!("{host}:{port}"))
            .collect()
    }
}

/// What every handler shares.
struct App {
    config: Config,
    store: Arc<Store>,
    jobs: Arc<jobs::Jobs>,
    pages: pages::Pages,
    /// WebSockets open now.
    sockets: AtomicUsize,
    /// Fires when the dashboard stops: open WebSockets close.
    shutdown: CancellationToken,
    /// What the login cookie holds: drawn at start, good until the dashboard stops.
    session: Secret,
    /// The command's span, the parent of every request's.
    span: tracing::Span,
}

impl App {
    /// The dashboard's state, its workers started.
    fn new(config: Config, shutdown: CancellationToken) -> anyhow::Result<Self> {
        let store = Store::open(&config.results)
            .map_err(|e| anyhow::anyhow!("--results {}: {e}", config.results.display()))?;
        let store = Arc::new(store);
        let pages = pages::Pages::load()?;
        let session = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        Ok(Self {
            jobs: jobs::Jobs::start(store.clone(), config.workers),
            pages,
            store,
            config,
            sockets: AtomicUsize::new(0),
            shutdown,
            session: Secret::new(session),
            span: tracing::Span::current(),
        })
    }
}

/// How often running runs' progress is published.
const PROGRESS_PERIOD: Duration = Duration::from_millis(250);

/// Serves the dashboard on `listener` until `shutdown` fires; then stops the runs (each
/// keeping what it measured) and returns once their results are written.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let app = Arc::new(App::new(config, shutdown.clone())?);
    let jobs = app.jobs.clone();
    let ticker = tokio::spawn(async move {
        let mut tick = tokio::time::interval(PROGRESS_PERIOD);
        loop {
            tick.tick().await;
            jobs.publish_progress();
        }
    });
    // The runs stop at once, while open connections drain.
    let (jobs, stop) = (app.jobs.clone(), shutdown.clone());
    tokio::spawn(async move {
        stop.cancelled().await;
        jobs.stop_all();
    });
    let served = axum::serve(listener, router(app.clone()))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await;
    ticker.abort();
    let jobs = app.jobs.clone();
    tokio::task::spawn_blocking(move || jobs.shut_down()).await?;
    Ok(served?)
}

/// Every route: pages, their assets, the API and its WebSocket.
fn router(app: Arc<App>) -> Router {
    let mutating = Router::new()
        .route("/api/v1/benchmark/run", post(api::start))
        .route(
            "/api/v1/benchmark/run/{id}",
            axum::routing::delete(api::delete),
        )
        .route("/new", post(pages::start))
        .route("/runs/{id}/delete", post(pages::delete))
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            guard::require_key,
        ));
    let reads = Router::new()
        .route("/", get(pages::overview))
        .route("/history", get(pages::history))
        .route("/runs/{id}", get(pages::run))
        .route("/runs/{id}/report", get(pages::report))
        .route("/compare", get(pages::compare))
        .route("/compare/report", get(pages::compare_report))
        .route("/trends", get(pages::trends))
        .route("/trends/report", get(pages::trends_report))
        .route("/new", get(pages::new_run))
        .route("/api/v1/benchmark/health", get(api::health))
        .route("/api/v1/benchmark/run/{id}", get(api::status))
        .route("/api/v1/benchmark/result/{id}", get(api::result))
        .route("/api/v1/benchmark/result/{id}/export", get(api::export))
        .route("/api/v1/benchmark/history", get(api::history))
        .route("/api/v1/benchmark/compare", post(api::compare))
        .route("/api/v1/benchmark/ws/run/{id}", get(ws::progress))
        .route("/api/v1/benchmark/ws/stats", get(ws::stats))
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            guard::require_key_for_reads,
        ));
    let open = Router::new()
        .route("/health", get(api::alive))
        .route("/login", get(pages::login).post(pages::log_in))
        .route("/logout", post(pages::log_out))
        .route("/static/{file}", get(pages::asset))
        .route("/api/v1/openapi.json", get(api::openapi));
    mutating
        .merge(reads)
        .merge(open)
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(guard::headers))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            guard::known_host,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            guard::request_log,
        ))
        .with_state(app)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use tower::ServiceExt;

    use super::*;

    /// Every path and method of the OpenAPI description is served (an unknown run id gets
    /// its 404 as JSON from the handler, not the router's fallback).
    #[tokio::test]
    async fn the_openapi_description_matches_the_router() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            results: dir.path().to_owned(),
            scenarios: dir.path().to_owned(),
            api_key: None,
            auth_reads: false,
            workers: 1,
            allowed_hosts: None,
        };
        let app = Arc::new(App::new(config, CancellationToken::new()).unwrap());
        let spec: serde_json::Value = serde_json::from_str(api::OPENAPI).unwrap();
        for (path, methods) in spec["paths"].as_object().unwrap() {
            for method in methods.as_object().unwrap().keys() {
                let uri = path.replace("{id}", "no-such-run");
                let request = http::Request::builder()
                    .method(method.to_uppercase().as_str())
                    .uri(&uri)
                    .header("content-type", "application/json")
                    .body(Body::from("{}"))
                    .unwrap();
                let response = router(app.clone()).oneshot(request).await.unwrap();
                let routed = response
                    .headers()
                    .get("content-type")
                    .unwrap()
                    .to_str()
                    .unwrap();
                assert!(
                    response.status() != http::StatusCode::METHOD_NOT_ALLOWED
                        && !routed.starts_with("text/html"),
                    "{method} {path}: {} {routed}",
                    response.status()
                );
            }
        }
        app.jobs.shut_down();
    }
}
