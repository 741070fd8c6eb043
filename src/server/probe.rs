//! Probes of a running server: `/v1/models` for the served model, `/version` (vLLM,
//! SGLang) or `/props` (llama.cpp) for its version. Probes never fail a run: what cannot
//! be read is recorded as unknown.

use reqwest::Method;
use serde_json::Value;

use crate::client::{json_call, SideCallError};
use crate::result::ServerInfo;
use crate::secret::redacted;

/// Why the served model could not be learnt.
#[derive(Debug, thiserror::Error)]
pub enum ModelListError {
    #[error(transparent)]
    Call(#[from] SideCallError),
    #[error("GET /v1/models listed no model")]
    Empty,
}

async fn get_json(
    http: &reqwest::Client,
    base: &reqwest::Url,
    path: &str,
) -> Result<Value, SideCallError> {
    let url = base.join(path).expect("a relative path joins any http URL");
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
pub async fn first_model(
    http: &reqwest::Client,
    base: &reqwest::Url,
) -> Result<String, ModelListError> {
    let list = get_json(http, base, "v1/models").await?;
    list["data"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or(ModelListError::Empty)
}

/// The context length the server advertises for `model`, in tokens: vLLM's and SGLang's
/// `max_model_len` in `/v1/models`, else llama.cpp's per-slot `n_ctx` in `/props`.
pub async fn context_length(
    http: &reqwest::Client,
    base: &reqwest::Url,
    model: &str,
) -> Option<u64> {
    let models = get_json(http, base, "v1/models").await.ok();
    let listed = models.as_ref().and_then(|list| {
        let entries = list["data"].as_array()?;
        let entry = entries
            .iter()
            .find(|m| m["id"] == model)
            .or(entries.first())?;
        entry["max_model_len"].as_u64()
    });
    match listed {
        Some(n) => Some(n),
        None => get_json(http, base, "props").await.ok()?["default_generation_settings"]["n_ctx"]
            .as_u64(),
    }
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
