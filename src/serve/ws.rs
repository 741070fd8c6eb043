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
use super::jobs::JobView;
use super::App;

/// Opens a run's progress socket.
pub async fn progress(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    upgrade: WebSocketUpgrade,
) -> Response {
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
        app.sockets.fetch_add(1, Ordering::Relaxed);
        stream(socket, views, &app).await;
        app.sockets.fetch_sub(1, Ordering::Relaxed);
    })
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
