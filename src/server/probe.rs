//! Probes of a running server, in its dialect: the served model (`/v1/models`; TGI's
//! `/info`, Ollama's `/api/tags`, Triton's repository index), its version (`/version` of
//! vLLM and SGLang, llama.cpp's `/props`, TGI's `/info`, Ollama's `/api/version`, Triton's
//! `/v2`) and its context length. Only the model is needed: what else cannot be read is
//! recorded as unknown.

use reqwest::Method;
use serde_json::Value;

use crate::client::{json_call, SideCallError};
use crate::result::ServerInfo;
use crate::scenario::Api;
use crate::secret::redacted;

/// Why the served model could not be learnt.
#[derive(Debug, thiserror::Error)]
pub enum ModelListError {
    #[error(transparent)]
    Call(#[from] SideCallError),
    #[error("{0} listed no model")]
    Empty(&'static str),
}

async fn get_json(
    http: &reqwest::Client,
    base: &reqwest::Url,
    path: &str,
) -> Result<Value, SideCallError> {
    call_json(http, base, Method::GET, path).await
}

async fn call_json(
    http: &reqwest::Client,
    base: &reqwest::Url,
    method: Method,
    path: &str,
) -> Result<Value, SideCallError> {
    let url = base.join(path).expect("a relative path joins any http URL");
    json_call(http, method, &url, None).await
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

/// The model the server serves: the first `/v1/models` lists, TGI's `/info` `model_id`,
/// the first of Ollama's `/api/tags`, or Triton's ready model (`ensemble` or
/// `tensorrt_llm_bls` first, as TensorRT-LLM's repository has several).
pub async fn first_model(
    http: &reqwest::Client,
    base: &reqwest::Url,
    api: Api,
) -> Result<String, ModelListError> {
    let (what, model) = match api {
        Api::Tgi => {
            let info = get_json(http, base, "info").await?;
            ("GET /info", info["model_id"].as_str().map(str::to_owned))
        }
        Api::OllamaChat | Api::OllamaGenerate => {
            let tags = get_json(http, base, "api/tags").await?;
            let name = tags["models"][0]["name"].as_str().map(str::to_owned);
            ("GET /api/tags", name)
        }
        Api::Triton => {
            let index = call_json(http, base, Method::POST, "v2/repository/index").await?;
            ("POST /v2/repository/index", triton_model(&index))
        }
        _ => {
            let list = get_json(http, base, "v1/models").await?;
            (
                "GET /v1/models",
                list["data"][0]["id"].as_str().map(str::to_owned),
            )
        }
    };
    model.ok_or(ModelListError::Empty(what))
}

/// The model of a Triton repository index to send requests to.
fn triton_model(index: &Value) -> Option<String> {
    let ready: Vec<&str> = index
        .as_array()?
        .iter()
        .filter(|m| m["state"].as_str().is_none_or(|s| s == "READY"))
        .filter_map(|m| m["name"].as_str())
        .collect();
    let preferred = ["ensemble", "tensorrt_llm_bls"]
        .into_iter()
        .find(|name| ready.contains(name));
    preferred.or(ready.first().copied()).map(str::to_owned)
}

/// The context length the server advertises for `model`, in tokens: vLLM's and SGLang's
/// `max_model_len` in `/v1/models`, TGI's `max_total_tokens` in `/info`, else llama.cpp's
/// per-slot `n_ctx` in `/props`.
pub async fn context_length(
    http: &reqwest::Client,
    base: &reqwest::Url,
    model: &str,
    api: Api,
) -> Option<u64> {
    if api == Api::Tgi {
        return get_json(http, base, "info").await.ok()?["max_total_tokens"].as_u64();
    }
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

/// The server's version as it names it, from the endpoints its dialect has.
async fn version(http: &reqwest::Client, base: &reqwest::Url, api: Api) -> Option<String> {
    let named = |v: Value, name: &str| v["version"].as_str().map(|v| format!("{name} {v}"));
    match api {
        Api::Tgi => named(get_json(http, base, "info").await.ok()?, "TGI"),
        Api::OllamaChat | Api::OllamaGenerate => {
            named(get_json(http, base, "api/version").await.ok()?, "Ollama")
        }
        Api::Triton => {
            let server = get_json(http, base, "v2").await.ok()?;
            let name = server["name"].as_str().unwrap_or("triton").to_owned();
            named(server, &name)
        }
        _ => match get_json(http, base, "version").await {
            Ok(v) if v["version"].is_string() => v["version"].as_str().map(str::to_owned),
            _ => get_json(http, base, "props")
                .await
                .ok()
                .and_then(|p| p["build_info"].as_str().map(|b| format!("llama.cpp {b}"))),
        },
    }
}

/// The server's identity, as far as it tells.
pub async fn server_info(
    http: &reqwest::Client,
    base: &reqwest::Url,
    model: &str,
    api: Api,
) -> ServerInfo {
    ServerInfo {
        base_url: redacted(base),
        model: model.to_owned(),
        version: version(http, base, api).await,
        args: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triton_prefers_the_ensemble_among_ready_models() {
        let index = serde_json::json!([
            {"name": "postprocessing", "version": "1", "state": "READY"},
            {"name": "ensemble", "version": "1", "state": "READY"},
            {"name": "tensorrt_llm", "version": "1", "state": "READY"}]);
        assert_eq!(triton_model(&index).unwrap(), "ensemble");
        let index = serde_json::json!([
            {"name": "ensemble", "state": "UNAVAILABLE"}, {"name": "llama"}]);
        assert_eq!(triton_model(&index).unwrap(), "llama");
        assert_eq!(triton_model(&serde_json::json!([])), None);
    }
}
