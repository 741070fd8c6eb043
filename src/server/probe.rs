//! Probes of a running server: `/v1/models` for the served model, `/version` (vLLM,
//! SGLang) or `/props` (llama.cpp) for its version. Probes never fail a run: what cannot
//! be read is recorded as unknown.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::json_call;
use crate::secret::redacted;

/// The server as recorded in a result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub base_url: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The command line the harness launched it with (server sweeps; the first
    /// configuration's, each one's in the result's `servers`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

async fn get_json(
    http: &reqwest::Client,
    base: &reqwest::Url,
    path: &str,
) -> Result<Value, String> {
    let url = base.join(path).map_err(|e| e.to_string())?;
    json_call(http, Method::GET, &url, None).await
}

/// Whether anything answers HTTP at `base` within two seconds (any status counts: a server
/// that wants a key is up).
pub async fn reachable(base: &reqwest::Url) -> bool {
    let Ok(url) = base.join("v1/models") else {
        return false;
    };
    reqwest::Client::new()
        .get(url)
        .timeout(std::time::Duration::from_secs(2))
        .send()
        .await
        .is_ok()
}

/// The id of the first model listed by `/v1/models`.
pub async fn first_model(http: &reqwest::Client, base: &reqwest::Url) -> Result<String, String> {
    let list = get_json(http, base, "v1/models").await?;
    list["data"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "GET /v1/models listed no model".to_owned())
}

/// The server's identity, as far as it tells.
pub async fn server_info(http: &reqwest::Client, base: &reqwest::Url, model: &str) -> ServerInfo {
    let version = match get_json(http, base, "version").await {
        Ok(v) => v["version"].as_str().map(str::to_owned),
        Err(_) => None,
    };
    let version = match version {
        Some(v) => Some(v),
        None => get_json(http, base, "props")
            .await
            .ok()
            .and_then(|p| p["build_info"].as_str().map(|b| format!("llama.cpp {b}"))),
    };
    ServerInfo {
        base_url: redacted(base),
        model: model.to_owned(),
        version,
        args: Vec::new(),
    }
}
