//! The seed's environment table of a report (CPU, GPU, VRAM, CUDA, driver, server, model,
//! tensor parallel, quantization, chunked prefill), then what else identifies the run.

use serde::Serialize;

use super::axes;
use crate::result::RunResult;

#[derive(Debug, Clone, Serialize)]
pub struct EnvironmentRow {
    pub label: &'static str,
    pub value: String,
}

const NOT_RECORDED: &str = "not recorded";

/// The values a parameter takes over the run, or `not recorded`.
fn swept(result: &RunResult, key: &str) -> String {
    let values = axes::values(&result.points, key);
    match values.len() {
        0 => NOT_RECORDED.into(),
        1 => axes::show(&values[0]),
        _ => {
            let shown: Vec<String> = values.iter().map(axes::show).collect();
            format!("{} (swept)", shown.join(", "))
        }
    }
}

/// The quantization named in a model name (`Q4_K_M`, `AWQ`, `FP8`), if any.
fn quantization(model: &str) -> Option<String> {
    const NAMED: [&str; 9] = [
        "AWQ", "GPTQ", "FP8", "FP16", "BF16", "INT8", "INT4", "W8A8", "W4A16",
    ];
    model
        .split(['-', '.', '/', ' ', '@'])
        .find(|part| {
            let upper = part.to_ascii_uppercase();
            let level = upper.strip_prefix("IQ").or_else(|| upper.strip_prefix('Q'));
            NAMED.contains(&upper.as_str())
                || (level.is_some_and(|l| l.starts_with(|c: char| c.is_ascii_digit()))
                    && upper.len() <= 7)
        })
        .map(|q| q.to_owned())
}

/// The seed's environment table, then what else identifies the run.
pub(super) fn environment(result: &RunResult) -> Vec<EnvironmentRow> {
    let host = &result.environment.host;
    let server = &result.environment.server;
    let or_not_recorded = |v: &str| {
        if v.is_empty() {
            NOT_RECORDED.to_owned()
        } else {
            v.to_owned()
        }
    };
    let row = |label, value| EnvironmentRow { label, value };
    let gpus = &result.environment.gpus;
    let no_gpu = || format!("none ({})", gpus.unavailable.as_deref().unwrap_or_default());
    let (gpu, vram, count) = match gpus.devices.first() {
        Some(first) => {
            let mut names: Vec<&str> = gpus.devices.iter().map(|d| d.name.as_str()).collect();
            names.dedup();
            (
                names.join(", "),
                format!("{:.0} MiB each", first.memory_total_mib),
                gpus.devices.len().to_string(),
            )
        }
        None if gpus.unavailable.is_some() => (no_gpu(), "none".to_owned(), "0".to_owned()),
        None => (
            NOT_RECORDED.to_owned(),
            NOT_RECORDED.to_owned(),
            NOT_RECORDED.to_owned(),
        ),
    };
    let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| NOT_RECORDED.into());
    vec![
        row("CPU", or_not_recorded(&host.cpu_model)),
        row("GPU", gpu),
        row("VRAM", vram),
        row("GPU count", count),
        row("OS", format!("{} (kernel {})", host.os, host.kernel)),
        row("CUDA", or_unknown(&gpus.cuda)),
        row("Driver", or_unknown(&gpus.driver)),
        row(
            "Server version",
            server
                .version
                .clone()
                .unwrap_or_else(|| NOT_RECORDED.into()),
        ),
        row("Model", or_not_recorded(&server.model)),
        row("Tensor parallel", swept(result, axes::TENSOR_PARALLEL)),
        row(
            "Quantization",
            quantization(&server.model).map_or(NOT_RECORDED.into(), |q| {
                format!("{q} (from the model name)")
            }),
        ),
        row("Chunked prefill", swept(result, axes::CHUNKED_PREFILL)),
        row(
            "Host",
            format!("{} cores, {} GiB memory", host.cpu_cores, host.memory_gib),
        ),
        row("Server URL", or_not_recorded(&server.base_url)),
        row("API", result.scenario.target.api.name().to_owned()),
        row(
            "Revision",
            result
                .environment
                .revision
                .as_ref()
                .map_or(NOT_RECORDED.into(), ToString::to_string),
        ),
        row(
            "Server command",
            if server.args.is_empty() {
                "not launched by the harness".to_owned()
            } else {
                server.args.join(" ")
            },
        ),
        row(
            "Prompts",
            format!(
                "tokenizer {}{}, seed {}",
                result.prompts.tokenizer,
                if result.prompts.exact {
                    " (exact)"
                } else {
                    " (approximate lengths)"
                },
                result.prompts.seed
            ),
        ),
        row(
            "Harness",
            format!(
                "{} {}, client CPU {:.2} s, peak RSS {:.0} MiB",
                result.tool.name,
                result.tool.version,
                result.client.cpu.user_s + result.client.cpu.system_s,
                result.client.peak_rss_mib
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantization_is_read_from_common_model_names() {
        for (model, expected) in [
            ("SmolLM2-135M-Instruct.Q4_1.gguf", Some("Q4_1")),
            ("Llama-3.1-8B-Instruct-Q4_K_M.gguf", Some("Q4_K_M")),
            ("Qwen/Qwen2.5-7B-Instruct-AWQ", Some("AWQ")),
            ("neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8", Some("FP8")),
            ("model-IQ3_XS", Some("IQ3_XS")),
            ("meta-llama/Llama-3.1-8B-Instruct", None),
            ("Qwen/Qwen2.5-7B", None),
        ] {
            assert_eq!(quantization(model).as_deref(), expected, "{model}");
        }
    }
}
