//! `llm-loadtest sim`: serves the embedded simulator until Ctrl-C: the engine model of a
//! profile (with injected faults), or the fixed-clock emitter that records its send times.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use tokio::runtime::Runtime;

use llm_loadtest::sim::{self, Faults, RunningSim, SpeedNoise};

use super::{sayln, Outcome};
use crate::cli::SimArgs;

pub fn execute(args: &SimArgs, runtime: &Runtime) -> anyhow::Result<Outcome> {
    let (server, about) = match args.emit_interval_ms {
        Some(interval) => emitter(args, interval)?,
        None => engine(args)?,
    };
    let running = RunningSim::start(server, args.port)
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    sayln!("simulator ({about}) on http://{}", running.addr);
    runtime
        .block_on(tokio::signal::ctrl_c())
        .context("cannot wait for Ctrl-C")?;
    drop(running);
    Ok(Outcome::Success)
}

/// The fixed-clock emitter of `sim --emit-interval-ms`.
fn emitter(args: &SimArgs, interval_ms: f64) -> anyhow::Result<(sim::Server, String)> {
    let ms = |flag: &str, v: f64| {
        Duration::try_from_secs_f64(v / 1000.0)
            .map_err(|_| anyhow::anyhow!("{flag}: expected milliseconds >= 0, got {v}"))
    };
    let config = sim::EmitterConfig {
        first_token: ms("--emit-first-token-ms", args.emit_first_token_ms)?,
        interval: ms("--emit-interval-ms", interval_ms)?,
        tokens_per_chunk: args.emit_tokens_per_chunk,
    };
    let about = format!(
        "emitter: first token after {} ms, then {} token(s) every {interval_ms} ms; send times at /truth",
        args.emit_first_token_ms, args.emit_tokens_per_chunk
    );
    Ok((
        sim::Server::Emitter(config, "llm-loadtest-emitter".into()),
        about,
    ))
}

/// The engine model of `sim --profile`.
fn engine(args: &SimArgs) -> anyhow::Result<(sim::Server, String)> {
    let mut values = BTreeMap::from([
        (
            "chunked_prefill".to_owned(),
            serde_json::Value::from(args.chunked_prefill),
        ),
        ("tp".to_owned(), serde_json::Value::from(args.tp)),
    ]);
    if let Some(budget) = args.max_num_batched_tokens {
        values.insert("max_num_batched_tokens".into(), budget.into());
    }
    let mut config = sim::engine_config(&args.profile, &values)?;
    config.speed = SpeedNoise {
        drift: args.drift_pct / 100.0,
        jitter: args.jitter_pct / 100.0,
        slowdown: args.slowdown_pct / 100.0,
        seed: rand::random(),
    };
    let faults = Faults {
        error_rate: args.error_rate,
        stall_rate: args.stall_rate,
        stall_ms: args.stall_ms,
        disconnect_rate: args.disconnect_rate,
        malformed_rate: args.malformed_rate,
        seed: 0,
    };
    for (flag, rate) in [
        ("--error-rate", faults.error_rate),
        ("--stall-rate", faults.stall_rate),
        ("--disconnect-rate", faults.disconnect_rate),
        ("--malformed-rate", faults.malformed_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            anyhow::bail!("{flag}: expected a fraction of requests from 0 to 1, got {rate}");
        }
    }
    let total =
        faults.error_rate + faults.stall_rate + faults.disconnect_rate + faults.malformed_rate;
    if total > 1.0 {
        anyhow::bail!("--error-rate, --stall-rate, --disconnect-rate and --malformed-rate must add up to at most 1");
    }
    let about = format!("{}: {}", args.profile, config.profile.about);
    Ok((sim::Server::Engine(config, faults), about))
}
