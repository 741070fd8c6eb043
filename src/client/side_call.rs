//! Small JSON calls to a server's side endpoints (`/v1/models`, `/version`, `/props`,
//! `/tokenize`): bounded by a timeout, failures as one line naming the method and path,
//! never the URL's credentials.

use std::time::Duration;

use reqwest::{Method, Url};
use serde_json::Value;

const SIDE_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A side call that failed: `{METHOD} {path}: why`.
#[derive(Debug, thiserror::Error)]
#[error("{method} {path}: {kind}")]
pub struct SideCallError {
    pub method: Method,
    pub path: String,
    pub kind: SideCallFailure,
}

/// Why a side call failed.
#[derive(Debug, thiserror::Error)]
pub enum SideCallFailure {
    /// No answer (connection, timeout), the request's URL left out.
    #[error("{0}")]
    Transport(reqwest::Error),
    #[error("HTTP {0}")]
    Status(reqwest::StatusCode),
    #[error("{0}")]
    Json(serde_json::Error),
}

/// Sends `body` (if any) as JSON with `method` to `url` and parses the JSON answer.
pub async fn json_call(
    http: &reqwest::Client,
    method: Method,
    url: &Url,
    body: Option<&Value>,
) -> Result<Value, SideCallError> {
    let fail = |kind| SideCallError {
        method: method.clone(),
        path: url.path().to_owned(),
        kind,
    };
    let transport = |e: reqwest::Error| fail(SideCallFailure::Transport(e.without_url()));
    let mut request = http
        .request(method.clone(), url.clone())
        .timeout(SIDE_CALL_TIMEOUT);
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().await.map_err(transport)?;
    let status = response.status();
    if !status.is_success() {
        return Err(fail(SideCallFailure::Status(status)));
    }
    let bytes = response.bytes().await.map_err(transport)?;
    serde_json::from_slice(&bytes).map_err(|e| fail(SideCallFailure::Json(e)))
}
