//! Probes of a running server: `/v1/models` for the served model, `/version` (vLLM,
//! SGLang) or `/props` (llama.cpp) for its version. Probes never fail a run: what cannot
//! be read is recorded as unknown.

use std::time::Duration;

use serde::{Deserialize, Serialize};

const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The server as recorded in a result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub base_url: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

async fn get_json(
    http: &reqwest::Client,
    base: &reqwest::Url,
    path: &str,
) -> Result<serde_json::Value, String> {
    let url = base.join(path).map_err(|e| e.to_string())?;
    let response = http
        .get(url.clone())
        .timeout(PROBE_TIMEOUT)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("GET {url}: HTTP {}", response.status()));
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("GET {url}: {e}"))
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
        base_url: base.to_string(),
        model: model.to_owned(),
        version,
    }
}
