//! `GET /api/v1/benchmark/ws/run/{id}`: a run's progress over a WebSocket. The socket
//! gets the run's view at once, then every change (status, points done, requests done,
//! current throughput and TTFT; at most four a second), and closes once the run has
//! ended. The run does not depend on it: closing the page leaves the run going.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::api::{run_id, Problem};
use super::guard::same_site;
use super::jobs::JobView;
use super::App;

/// Opens a run's progress socket.
pub async fn progress(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: http::HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    // A WebSocket is not held back by the browser's same-origin rules: another site's
    // page could open one.
    if !same_site(&headers) {
        let refused = "WebSockets from other sites are refused";
        return Problem::new(http::StatusCode::FORBIDDEN, refused).into_response();
    }
    let id = match run_id(&id) {
        Ok(id) => id,
        Err(problem) => return problem.into_response(),
    };
    let Some(views) = app.jobs.subscribe(&id) else {
        return Problem::new(
            http::StatusCode::NOT_FOUND,
            format!("no queued or running run `{id}` (a stored run's result is at /api/v1/benchmark/result/{id})"),
        )
        .into_response();
    };
    upgrade.on_upgrade(move |socket| async move {
        let _open = OpenSocket::count(&app);
        stream(socket, views, &app).await;
    })
}

/// One open WebSocket in the count, for as long as it lives (however its task ends).
struct OpenSocket<'a>(&'a App);

impl<'a> OpenSocket<'a> {
    fn count(app: &'a App) -> Self {
        app.sockets.fetch_add(1, Ordering::Relaxed);
        Self(app)
    }
}

impl Drop for OpenSocket<'_> {
    fn drop(&mut self) {
        self.0.sockets.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Sends every view until the run ends, the client goes or the dashboard stops.
async fn stream(
    mut socket: WebSocket,
    mut views: tokio::sync::watch::Receiver<JobView>,
    app: &App,
) {
    loop {
        let view = views.borrow_and_update().clone();
        let Ok(text) = serde_json::to_string(&view) else {
            break;
        };
        let sent = socket.send(Message::Text(text.into())).await;
        if sent.is_err() || view.summary.status.is_final() {
            break;
        }
        // Until the next change; messages from the client are read (pings answered) and
        // dropped.
        let changed = loop {
            tokio::select! {
                changed = views.changed() => break changed.is_ok(),
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                    Some(Ok(_)) => {}
                },
                () = app.shutdown.cancelled() => break false,
            }
        };
        if !changed {
            break;
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

/// `GET /api/v1/benchmark/ws/stats`: the sockets open now.
pub async fn stats(State(app): State<Arc<App>>) -> impl IntoResponse {
    Json(json!({ "connections": app.sockets.load(Ordering::Relaxed) }))
}
