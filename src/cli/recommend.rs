//! The flags of `llm-loadtest recommend`: the target (SLO, goodput, peak, GPUs per
//! replica, headroom), the search's limits, the server and workload when there is no
//! scenario file, and where the answer goes.

use std::path::PathBuf;

use super::{parse_goodput, positive_f64, TargetArgs};
use clap::{ArgGroup, Args};
use llm_loadtest::scenario::Slo;

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("peak").required(true).args(["peak_concurrency", "peak_rate"])))]
pub struct RecommendArgs {
    /// Scenario file: target, workload (its first input length) and matrix (each
    /// configuration answered, the best per GPU picked)
    pub scenario: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// The SLO a good request meets, `ttft:MS,tpot:MS,e2e:MS` (any subset) [default: the
    /// scenario's slo]
    #[arg(long, value_parser = parse_goodput)]
    pub slo: Option<Slo>,
    /// Share of requests that must meet the SLO, in percent
    #[arg(long, value_name = "PCT", default_value_t = 95.0, value_parser = percent, allow_hyphen_values = true)]
    pub goodput_target: f64,
    /// Requests in flight at the peak (searches concurrency per replica)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), allow_hyphen_values = true)]
    pub peak_concurrency: Option<u32>,
    /// Requests per second at the peak (searches request rates per replica)
    #[arg(long, value_name = "RATE", value_parser = positive_f64, allow_hyphen_values = true)]
    pub peak_rate: Option<f64>,
    /// GPUs per replica [default: the configuration's tp, else 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), allow_hyphen_values = true)]
    pub gpus_per_replica: Option<u32>,
    /// Spare capacity on top of the peak (`20%` or `20`)
    #[arg(long, value_name = "PCT", default_value = "20%", value_parser = headroom, allow_hyphen_values = true)]
    pub headroom: f64,
    /// Seconds for the whole search; past it each configuration answers with what it has
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0, value_parser = positive_f64)]
    pub budget_s: f64,
    /// The highest load probed (requests in flight, or per second)
    #[arg(long, default_value_t = 1024.0, value_parser = positive_f64)]
    pub max_load: f64,
    /// Most requests a probe measures (it stops sooner once its goodput is settled)
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(10..))]
    pub requests_per_probe: u32,
    /// Prompt length in tokens, without a scenario [default: 256]
    #[arg(long, conflicts_with = "scenario")]
    pub input_len: Option<u32>,
    /// Output length in tokens, without a scenario [default: 128]
    #[arg(long, conflicts_with = "scenario")]
    pub output_len: Option<u32>,
    /// Write the answer as JSON here
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Write the answer for people here: Markdown (`.md`) or HTML (`.html`)
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// A goodput target: above 0 and at most 100 percent.
fn percent(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{text}` is not a percentage"))?;
    if value > 0.0 && value <= 100.0 {
        Ok(value)
    } else {
        Err(format!(
            "{value}% is not a goodput: it must be above 0 and at most 100"
        ))
    }
}

/// Headroom: 0 percent or more (`20%` or `20`).
fn headroom(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{text}` is not a percentage"))?;
    if value.is_finite() && (0.0..=1000.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value}% must be from 0 to 1000"))
    }
}
