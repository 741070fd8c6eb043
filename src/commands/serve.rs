//! `llm-loadtest serve [--results DIR] [--port 8085] [--bind 127.0.0.1]`: the dashboard and
//! REST API (the library's `serve`) until Ctrl-C, which stops the runs in progress, each
//! keeping what it measured, before the command returns. `API_KEY` in the environment
//! protects the mutating endpoints (and the reads with `--auth-reads`).

use std::net::SocketAddr;

use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

use llm_loadtest::secret::Secret;
use llm_loadtest::serve::{serve, Config};

use super::{sayln, Outcome};
use crate::cli::ServeArgs;

/// The environment variable holding the dashboard's key.
const API_KEY_VAR: &str = "API_KEY";

pub fn execute(args: &ServeArgs, runtime: &Runtime) -> anyhow::Result<Outcome> {
    let api_key = std::env::var(API_KEY_VAR)
        .ok()
        .map(Secret::new)
        .filter(|k| !k.expose().is_empty());
    if !args.bind.is_loopback() && api_key.is_none() {
        anyhow::bail!(
            "--bind {}: serving beyond this machine needs {API_KEY_VAR} set (anyone who can reach it could start runs)",
            args.bind
        );
    }
    if args.auth_reads && api_key.is_none() {
        anyhow::bail!("--auth-reads: set {API_KEY_VAR} to the key reads must carry");
    }
    let config = Config {
        results: args.results.clone(),
        scenarios: args.scenarios.clone(),
        api_key,
        auth_reads: args.auth_reads,
        workers: usize::from(args.max_runs),
    };
    runtime.block_on(async {
        let address = SocketAddr::new(args.bind, args.port);
        let listener = tokio::net::TcpListener::bind(address).await.map_err(|e| {
            anyhow::anyhow!("--port {}: cannot listen on {address}: {e}", args.port)
        })?;
        let local = listener.local_addr()?;
        sayln!(
            "dashboard: http://{local}/ (results: {})",
            args.results.display()
        );
        tracing::info!(address = %local, "dashboard serving");
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            if super::run::stop_signal().await {
                eprintln!("stopping: runs in progress keep what they measured");
                stop.cancel();
            }
        });
        serve(listener, config, shutdown).await
    })?;
    Ok(Outcome::Success)
}
