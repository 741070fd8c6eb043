//! Small JSON calls to a server's side endpoints (`/v1/models`, `/version`, `/props`,
//! `/tokenize`): bounded by a timeout, failures as one line naming the method and path,
//! never the URL's credentials.

use std::time::Duration;

use reqwest::{Method, Url};
use serde_json::Value;

const SIDE_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends `body` (if any) as JSON with `method` to `url` and parses the JSON answer.
pub async fn json_call(
    http: &reqwest::Client,
    method: Method,
    url: &Url,
    body: Option<&Value>,
) -> Result<Value, String> {
    let label = format!("{method} {}", url.path());
    let fail = |e: &dyn std::fmt::Display| format!("{label}: {e}");
    let mut request = http.request(method, url.clone()).timeout(SIDE_CALL_TIMEOUT);
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().await.map_err(|e| fail(&e.without_url()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(fail(&format!("HTTP {status}")));
    }
    let bytes = response.bytes().await.map_err(|e| fail(&e.without_url()))?;
    serde_json::from_slice(&bytes).map_err(|e| fail(&e))
}
