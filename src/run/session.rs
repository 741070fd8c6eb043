//! A configuration's server for as long as its points run: launched by the harness when
//! the scenario has `server` (its log beside the result), the embedded simulator for an
//! embedded target, or nothing for a server already running. The session knows the base
//! URL the points use, watches a launched server during each point, and stops it at the
//! end, recording what was launched and why it failed, if it did.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::RunOptions;
use crate::result::{Failure, ServerRun};
use crate::scenario::{point_id, Plan, ServerSource, ServerSpec};
use crate::secret::Credential;
use crate::server::{Launch, RunningServer};
use crate::sim::{self, Faults, RunningSim};

/// How often a launched server is checked during a point.
const LIVENESS_POLL: Duration = Duration::from_millis(200);

/// Where launched servers' logs go: beside the result (`<stem>.servers/`), else under
/// `reports/server-logs/<scenario>/`.
pub(super) fn log_dir(plan: &Plan, options: &RunOptions) -> PathBuf {
    match &options.output {
        Some(output) => {
            let stem = output.file_stem().unwrap_or_default().to_string_lossy();
            output.with_file_name(format!("{stem}.servers"))
        }
        None => PathBuf::from("reports/server-logs").join(&plan.name),
    }
}

/// The log file of the configuration with server-side `values`, in `dir`.
fn log_file(dir: &Path, values: &BTreeMap<String, Value>) -> PathBuf {
    let name: String = if values.is_empty() {
        "server".to_owned()
    } else {
        // A file name: matrix values may hold paths.
        point_id(values)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._=,-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    dir.join(format!("{name}.log"))
}

/// A port nothing listens on now, for a launched server.
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A failure without a log to quote.
fn plain(reason: String) -> Failure {
    Failure {
        reason,
        log_tail: Vec::new(),
    }
}

/// Why a session could not open, and the record of the server that was tried, if any.
pub(super) struct OpenError {
    pub failure: Failure,
    pub server: Option<ServerRun>,
}

/// A session that did not open for `failure`, before any server was started.
fn not_started(failure: Failure) -> Box<OpenError> {
    Box::new(OpenError {
        failure,
        server: None,
    })
}

/// A session whose server, recorded in `server`, failed for `failure`.
fn failed(failure: Failure, mut server: ServerRun) -> Box<OpenError> {
    server.failure = Some(failure.clone());
    Box::new(OpenError {
        failure,
        server: Some(server),
    })
}

/// A configuration's server and its base URL.
pub(super) struct Session {
    server: Option<RunningServer>,
    sim: Option<RunningSim>,
    pub base_url: reqwest::Url,
    /// What was launched or started (none for a server already running).
    pub record: Option<ServerRun>,
}

impl Session {
    /// Starts the server of the configuration with server-side `values` (when the plan
    /// has one) and waits until it is ready.
    pub async fn open(
        plan: &Plan,
        log_dir: &Path,
        http: &reqwest::Client,
        values: &BTreeMap<String, Value>,
    ) -> Result<Self, Box<OpenError>> {
        let base_url = plan.target.base_url.clone();
        match &plan.server {
            ServerSource::External => Ok(Self {
                server: None,
                sim: None,
                base_url,
                record: None,
            }),
            ServerSource::Simulator { profile } => Self::simulate(profile, base_url, values),
            ServerSource::Launched(spec) => {
                let log = log_file(log_dir, values);
                Self::launch(plan, spec, log, http, values).await
            }
        }
    }

    /// The embedded simulator, configured by `values`, on a port of its own.
    fn simulate(
        profile: &str,
        mut base_url: reqwest::Url,
        values: &BTreeMap<String, Value>,
    ) -> Result<Self, Box<OpenError>> {
        let mut record = ServerRun {
            config: values.clone(),
            command: vec![format!("(embedded simulator, profile {profile})")],
            ..ServerRun::default()
        };
        let started = sim::engine_config(profile, values)
            .map_err(|e| e.to_string())
            .and_then(|config| {
                record.command.extend([
                    format!("chunked_prefill={}", config.chunked_prefill),
                    format!("max_num_batched_tokens={}", config.max_num_batched_tokens),
                    format!("tp={}", config.tp),
                ]);
                let server = sim::Server::Engine(config, Faults::default());
                RunningSim::start(server, 0).map_err(|e| e.to_string())
            });
        match started {
            Ok(running) => {
                let _ = base_url.set_port(Some(running.addr.port()));
                Ok(Self {
                    server: None,
                    sim: Some(running),
                    base_url,
                    record: Some(record),
                })
            }
            Err(e) => Err(failed(
                plain(format!("cannot start the simulator: {e}")),
                record,
            )),
        }
    }

    /// Launches the server of `spec` for `values` and waits until it is ready.
    async fn launch(
        plan: &Plan,
        spec: &ServerSpec,
        log: PathBuf,
        http: &reqwest::Client,
        values: &BTreeMap<String, Value>,
    ) -> Result<Self, Box<OpenError>> {
        let mut base_url = plan.target.base_url.clone();
        let port = free_port().map_err(|e| not_started(plain(format!("no free port: {e}"))))?;
        if plan.port_from_launch {
            let _ = base_url.set_port(Some(port));
        }
        let api_key = plan.target.credential.as_ref().map(Credential::secret);
        let launch = Launch::new(
            spec,
            plan.target.api,
            values,
            Some(port),
            &base_url,
            log.clone(),
            api_key,
        )
        .map_err(|e| not_started(plain(format!("server.command: {e}"))))?;
        let record = ServerRun {
            config: values.clone(),
            command: launch.shown_argv.clone(),
            log: log.display().to_string(),
            ..ServerRun::default()
        };
        tracing::info!("starting the server: {}", record.command.join(" "));
        match RunningServer::start(launch, http).await {
            Ok(server) => Ok(Self {
                server: Some(server),
                sim: None,
                base_url,
                record: Some(record),
            }),
            Err(failure) => Err(failed(failure, record)),
        }
    }

    /// The command line the server was started with (empty for a server already running).
    pub fn command(&self) -> Vec<String> {
        self.record
            .as_ref()
            .map(|r| r.command.clone())
            .unwrap_or_default()
    }

    /// Watches the launched server until `done`; when it dies, stops the point
    /// (`stop_point`) and says why.
    pub async fn watch(
        &mut self,
        done: &CancellationToken,
        stop_point: &CancellationToken,
    ) -> Option<Failure> {
        let server = self.server.as_mut()?;
        loop {
            if let Some(failure) = server.exited() {
                stop_point.cancel();
                return Some(failure);
            }
            tokio::select! {
                _ = tokio::time::sleep(LIVENESS_POLL) => {}
                _ = done.cancelled() => return server.exited(),
            }
        }
    }

    /// Stops the server; returns its record with `failure` when one was seen.
    pub async fn close(mut self, failure: Option<Failure>) -> Option<ServerRun> {
        if let Some(server) = &mut self.server {
            server.stop().await;
        }
        drop(self.sim.take());
        let mut record = self.record?;
        record.failure = failure;
        Some(record)
    }
}
