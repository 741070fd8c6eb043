//! `llm-loadtest serve [--results DIR] [--port 8085] [--bind 127.0.0.1]`: the dashboard and
//! REST API (the library's `serve`) until Ctrl-C, which stops the runs in progress, each
//! keeping what it measured, before the command returns (a second Ctrl-C quits at once).
//! `API_KEY` in the environment protects the mutating endpoints (and the reads with
//! `--auth-reads`); a dashboard on a loopback address answers only to loopback host names.

use std::net::SocketAddr;

use tokio_util::sync::CancellationToken;

use llm_loadtest::secret::Secret;
use llm_loadtest::serve::{serve, Config};

use super::{sayln, Outcome};
use crate::cli::ServeArgs;

/// The environment variable holding the dashboard's key.
const API_KEY_VAR: &str = "API_KEY";

pub fn execute(args: &ServeArgs) -> anyhow::Result<Outcome> {
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
    // Pages are served on threads of their own, so that rendering one does not hold up
    // the others (runs are measured on theirs).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("llm-loadtest-serve")
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let address = SocketAddr::new(args.bind, args.port);
        let listener = tokio::net::TcpListener::bind(address).await.map_err(|e| {
            anyhow::anyhow!("--port {}: cannot listen on {address}: {e}", args.port)
        })?;
        let local = listener.local_addr()?;
        let config = Config {
            results: args.results.clone(),
            scenarios: args.scenarios.clone(),
            api_key,
            auth_reads: args.auth_reads,
            workers: usize::from(args.max_runs),
            allowed_hosts: allowed_hosts(args, local.port()),
        };
        sayln!(
            "dashboard: http://{local}/ (results: {})",
            args.results.display()
        );
        tracing::info!(address = %local, "dashboard serving");
        let shutdown = CancellationToken::new();
        // Runs stop keeping what they measured; a second Ctrl-C quits at once.
        let stopping = "stopping: runs in progress keep what they measured";
        tokio::spawn(super::run::stop_then_quit(shutdown.clone(), stopping));
        serve(listener, config, shutdown).await
    })?;
    Ok(Outcome::Success)
}

/// The `Host` values answered: `--allowed-host`, else a loopback dashboard's own names.
fn allowed_hosts(args: &ServeArgs, port: u16) -> Option<Vec<String>> {
    if !args.allowed_host.is_empty() {
        return Some(args.allowed_host.clone());
    }
    args.bind
        .is_loopback()
        .then(|| Config::loopback_hosts(port))
}
