//! Launching the server under test for one configuration: the command from its template
//! (no shell), in its own process group, output appended to a log file, ready once an HTTP
//! path answers 2xx; stopped with SIGTERM to the group, then SIGKILL after the grace
//! period. No server outlives the harness: the group is killed when a [`RunningServer`] is
//! dropped, [`kill_all`] kills every registered group (the second Ctrl-C), and the server
//! gets SIGTERM from the kernel if the harness dies (`PR_SET_PDEATHSIG`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::result::Failure;
use crate::scenario::{substitute, Api, PlaceholderError, ServerSpec};
use crate::secret::Secret;

/// Lines of the log kept with a failure.
const TAIL_LINES: usize = 20;
/// How often readiness and liveness are polled.
const POLL: Duration = Duration::from_millis(250);

/// How long a killed server's processes get to disappear.
const GROUP_EXIT: Duration = Duration::from_secs(10);

/// Process groups of the servers running now.
static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

fn registered(update: impl FnOnce(&mut Vec<i32>)) {
    update(&mut GROUPS.lock().unwrap_or_else(|p| p.into_inner()));
}

/// Kills every server process group the harness started (for an exit that cannot wait).
pub fn kill_all() {
    registered(|groups| {
        for &pgid in groups.iter() {
            // SAFETY: killpg only sends a signal; a stale group id fails with ESRCH.
            unsafe { libc::killpg(pgid, libc::SIGKILL) };
        }
        groups.clear();
    });
}

/// A server launch for one configuration, its templates resolved.
#[derive(Debug, Clone)]
pub struct Launch {
    /// What is executed: placeholders and environment references expanded.
    argv: Vec<String>,
    /// What is recorded: placeholders expanded, `${ENV}` references and the API key not.
    pub shown_argv: Vec<String>,
    env: Vec<(String, String)>,
    cwd: Option<PathBuf>,
    pub ready_url: reqwest::Url,
    ready_timeout: Duration,
    grace: Duration,
    pub log: PathBuf,
    /// Scrubbed from the log lines kept with a failure.
    api_key: Option<Secret>,
}

/// A server command that cannot be resolved for a configuration.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Placeholder(#[from] PlaceholderError),
    #[error("`{text}`: {message}")]
    Environment { text: String, message: String },
    #[error("the command is empty once its placeholders are replaced")]
    EmptyCommand,
    #[error("server.ready.path: {0}")]
    ReadyPath(String),
}

/// `${VAR}` and `${VAR:-default}` in `text` from the environment. A `$` not followed by
/// `{` stays as it is (`$2` of an awk program, a price): only the braced form is the
/// environment's, as the scenario's documentation says.
fn expand_env(text: &str) -> Result<String, LaunchError> {
    let error = |message: String| LaunchError::Environment {
        text: text.to_owned(),
        message,
    };
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map(|i| start + i + 1)
            .ok_or_else(|| error("unclosed `${`".into()))?;
        let expanded = shellexpand::env(&rest[start..end]).map_err(|e| error(e.to_string()))?;
        out.push_str(&expanded);
        rest = &rest[end..];
    }
    out.push_str(rest);
    Ok(out)
}

impl Launch {
    /// The launch of the configuration `values` of `spec` (with `port` as `{port}` when
    /// given), ready when `base_url` + the ready path (by default the health check of
    /// the dialect `api`) answers; output to `log`.
    pub fn new(
        spec: &ServerSpec,
        api: Api,
        values: &BTreeMap<String, Value>,
        port: Option<u16>,
        base_url: &reqwest::Url,
        log: PathBuf,
        api_key: Option<&Secret>,
    ) -> Result<Self, LaunchError> {
        let mut vars = values.clone();
        if let Some(port) = port {
            vars.insert("port".into(), Value::from(port));
        }
        let mut shown_argv = Vec::new();
        let mut argv = Vec::new();
        for template in &spec.command {
            let arg = substitute(template, &vars)?;
            if arg.is_empty() && !template.is_empty() {
                continue; // `{flag?--on}` with the flag off
            }
            argv.push(expand_env(&arg)?);
            shown_argv.push(api_key.map_or(arg.clone(), |k| k.scrub(&arg)));
        }
        if argv.is_empty() {
            return Err(LaunchError::EmptyCommand);
        }
        let env = spec
            .env
            .iter()
            .map(|(k, v)| Ok((k.clone(), expand_env(&substitute(v, &vars)?)?)))
            .collect::<Result<_, LaunchError>>()?;
        let cwd = match &spec.cwd {
            Some(c) => Some(PathBuf::from(expand_env(&substitute(c, &vars)?)?)),
            None => None,
        };
        let ready_path = spec.ready.path.as_deref().unwrap_or(api.health_path());
        let ready_url = base_url
            .join(ready_path.trim_start_matches('/'))
            .map_err(|e| LaunchError::ReadyPath(e.to_string()))?;
        Ok(Self {
            argv,
            shown_argv,
            env,
            cwd,
            ready_url,
            ready_timeout: Duration::from_secs_f64(spec.ready.timeout_s),
            grace: Duration::from_secs_f64(spec.stop.grace_s),
            log,
            api_key: api_key.cloned(),
        })
    }
}

/// A server program that cannot be started here.
#[derive(Debug, thiserror::Error)]
pub enum NotLaunchable {
    #[error("its server program `{0}` is not installed")]
    NotInstalled(String),
    #[error("its server program `{program}`: {message}")]
    Environment { program: String, message: String },
}

/// Whether the program of a server command can be started: a path that exists, or a name
/// found on `PATH` (`${VAR}` references expanded first).
pub fn launchable(program: &str) -> Result<(), NotLaunchable> {
    let expanded = shellexpand::env(program).map_err(|e| NotLaunchable::Environment {
        program: program.to_owned(),
        message: e.to_string(),
    })?;
    let found = if expanded.contains('/') {
        Path::new(expanded.as_ref()).exists()
    } else {
        std::env::var_os("PATH").is_some_and(|path| {
            std::env::split_paths(&path).any(|dir| dir.join(expanded.as_ref()).is_file())
        })
    };
    match found {
        true => Ok(()),
        false => Err(NotLaunchable::NotInstalled(expanded.into_owned())),
    }
}

/// The last lines of a log file.
pub fn log_tail(path: &Path) -> Vec<String> {
    let text = std::fs::read(path).unwrap_or_default();
    let start = text.len().saturating_sub(16 * 1024);
    let text = String::from_utf8_lossy(&text[start..]);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

/// Whether a log says the server ran out of memory (GPU or host).
fn mentions_out_of_memory(lines: &[String]) -> bool {
    lines.iter().any(|line| {
        let lower = line.to_ascii_lowercase();
        [
            "out of memory",
            "outofmemoryerror",
            "cannot allocate memory",
            "failed to allocate",
            "cudaerrormemoryallocation",
        ]
        .iter()
        .any(|needle| lower.contains(needle))
    })
}

/// A failure with the log's tail (any API key scrubbed), an out-of-memory message
/// surfaced first.
fn failure(launch: &Launch, what: String) -> Failure {
    let log_tail: Vec<String> = log_tail(&launch.log)
        .into_iter()
        .map(|line| {
            launch
                .api_key
                .as_ref()
                .map_or(line.clone(), |k| k.scrub(&line))
        })
        .collect();
    let reason = if mentions_out_of_memory(&log_tail) {
        format!("out of memory: {what}")
    } else {
        what
    };
    Failure { reason, log_tail }
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(9)) => "killed by SIGKILL (the kernel's OOM killer, or a person)".into(),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => status.to_string(),
    }
}

/// A launched server.
pub struct RunningServer {
    child: tokio::process::Child,
    pgid: i32,
    launch: Launch,
}

impl RunningServer {
    /// Starts the server and waits until it is ready; on failure nothing is left running.
    pub async fn start(launch: Launch, http: &reqwest::Client) -> Result<Self, Failure> {
        let plain = |reason: String| Failure {
            reason,
            log_tail: Vec::new(),
        };
        if let Some(dir) = launch.log.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| plain(format!("cannot create {}: {e}", dir.display())))?;
        }
        let log = std::fs::File::create(&launch.log)
            .map_err(|e| plain(format!("cannot write {}: {e}", launch.log.display())))?;
        let log_err = log
            .try_clone()
            .map_err(|e| plain(format!("cannot write {}: {e}", launch.log.display())))?;
        let mut command = tokio::process::Command::new(&launch.argv[0]);
        command
            .args(&launch.argv[1..])
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .process_group(0)
            .kill_on_drop(true);
        if let Some(cwd) = &launch.cwd {
            command.current_dir(cwd);
        }
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to send SIGTERM to
        // the server when the harness's thread that started it exits.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = command
            .spawn()
            .map_err(|e| plain(format!("cannot start `{}`: {e}", launch.argv[0])))?;
        let pgid = child.id().map_or(0, |id| id as i32);
        registered(|groups| groups.push(pgid));
        let mut server = Self {
            child,
            pgid,
            launch,
        };
        let deadline = Instant::now() + server.launch.ready_timeout;
        loop {
            if let Some(failure) = server.exited() {
                let what = format!("the server exited before it was ready ({})", failure.reason);
                return Err(self::failure(&server.launch, what));
            }
            let answer = http
                .get(server.launch.ready_url.clone())
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return Ok(server);
            }
            if Instant::now() >= deadline {
                let what = format!(
                    "the server was not ready within {} s ({} never answered 2xx)",
                    server.launch.ready_timeout.as_secs_f64(),
                    crate::secret::redacted(&server.launch.ready_url)
                );
                server.stop().await;
                return Err(failure(&server.launch, what));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Why the server is gone, when it is.
    pub fn exited(&mut self) -> Option<Failure> {
        let status = self.child.try_wait().ok().flatten()?;
        Some(failure(&self.launch, describe_exit(status)))
    }

    pub fn launch(&self) -> &Launch {
        &self.launch
    }

    fn signal(&self, signal: i32) {
        // SAFETY: killpg only sends a signal to the group this server leads.
        unsafe { libc::killpg(self.pgid, signal) };
    }

    /// SIGTERM to the server's group, SIGKILL after the grace period; waits for the exit.
    pub async fn stop(&mut self) {
        self.signal(libc::SIGTERM);
        if tokio::time::timeout(self.launch.grace, self.child.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                "the server ignored SIGTERM for {:?}; killing it",
                self.launch.grace
            );
        }
        // Whatever is left of the group (workers of a server that exited) goes too, and the
        // next configuration starts only once it is gone (its GPU memory and port free).
        self.signal(libc::SIGKILL);
        let _ = tokio::time::timeout(GROUP_EXIT, self.child.wait()).await;
        let deadline = Instant::now() + GROUP_EXIT;
        // SAFETY: signal 0 only asks whether the group still has a member.
        while unsafe { libc::killpg(self.pgid, 0) } == 0 && Instant::now() < deadline {
            tokio::time::sleep(POLL).await;
        }
        if unsafe { libc::killpg(self.pgid, 0) } == 0 {
            tracing::warn!(
                "server processes of group {} outlived SIGKILL for {GROUP_EXIT:?}",
                self.pgid
            );
        }
        let pgid = self.pgid;
        registered(|groups| groups.retain(|&g| g != pgid));
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let pgid = self.pgid;
        let mut was_running = false;
        registered(|groups| {
            was_running = groups.contains(&pgid);
            groups.retain(|&g| g != pgid);
        });
        if was_running {
            self.signal(libc::SIGKILL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_braced_references_are_the_environments() {
        std::env::set_var("LLM_LOADTEST_TEST_HOME", "/h");
        assert_eq!(
            expand_env("awk '{print $2}' ${LLM_LOADTEST_TEST_HOME}/x $HOME").unwrap(),
            "awk '{print $2}' /h/x $HOME"
        );
        assert_eq!(expand_env("${LLM_LOADTEST_TEST_UNSET:-d}").unwrap(), "d");
        assert!(expand_env("${LLM_LOADTEST_TEST_UNSET}").is_err());
        assert!(expand_env("${OPEN").is_err());
    }
}
