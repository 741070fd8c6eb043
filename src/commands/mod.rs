//! The subcommands, one file each, named after the subcommand: this module parses nothing
//! (that is `cli.rs`) and measures nothing (that is the library); it turns parsed arguments
//! into library calls and prints what a person needs. Here: dispatch, the one async
//! runtime, logging, standard output that ends quietly on a closed pipe, and exit codes:
//! 0 pass, 1 regression, SLO breach or points not measured (their server failed), 2 usage,
//! input or harness error, 130 interrupted.

mod baseline;
mod compare;
mod gpu;
mod history;
mod info;
mod merge;
mod recommend;
mod report;
mod retry;
mod run;
mod schema;
mod serve;
mod sim;
mod validate;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use tokio::runtime::Runtime;

use crate::cli::{BaselineCommand, Cli, Command, LogFormat};

/// `bytes` written atomically to `out` (and its path said, after `what`), or to standard
/// output without it.
fn emit(out: Option<&Path>, bytes: &[u8], what: &str) -> anyhow::Result<()> {
    match out {
        Some(path) => {
            llm_loadtest::report::output::write(path, bytes)?;
            sayln!("{what}: {}", path.display());
        }
        None => {
            say!("{}", String::from_utf8_lossy(bytes));
        }
    }
    Ok(())
}

/// The format asked for with `--format`, else the one of `--out`'s extension, else
/// Markdown.
fn output_format(args: &crate::cli::OutputArgs) -> llm_loadtest::report::output::Format {
    use llm_loadtest::report::output::Format;
    args.format
        .map(Format::from)
        .or_else(|| args.out.as_deref().and_then(Format::from_path))
        .unwrap_or(Format::Markdown)
}

/// Usage, input or harness error.
pub const EXIT_USAGE: u8 = 2;
/// Interrupted by Ctrl-C; a partial result was written.
pub const EXIT_INTERRUPTED: u8 = 130;

/// How a command ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// A regression (or whatever `--fail-on` names) or an SLO breach was found.
    Failed,
    /// Some inputs were invalid (`validate`).
    Invalid,
    Interrupted,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Failed => 1,
            Outcome::Invalid => EXIT_USAGE,
            Outcome::Interrupted => EXIT_INTERRUPTED,
        }
    }
}

/// Logs to stderr, as text or one JSON object per line; `LLM_LOADTEST_LOG` sets the filter
/// (default `warn`, `info` for `serve`, whose requests are logged). Every line of the
/// command carries its name and a request id (the JSON lines in their `spans`).
pub fn init_logging(format: LogFormat, command: &str) -> tracing::span::EnteredSpan {
    let default = if command == "serve" { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("LLM_LOADTEST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .flatten_event(true)
            .init(),
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    // At error level, so that whatever the filter, every line carries it.
    tracing::error_span!("command", command, request_id).entered()
}

/// Set once standard output's reader has gone.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes to standard output; `false` once its reader has gone (`| head`): the rest is
/// dropped quietly and the command goes on, its files still written.
pub fn print(text: std::fmt::Arguments) -> bool {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return false;
    }
    let mut out = std::io::stdout().lock();
    let written = out.write_fmt(text).and_then(|()| out.flush());
    if written.is_err() {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
    written.is_ok()
}

/// `print!` to standard output, quiet on a closed pipe.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::commands::print(format_args!($($arg)*))
    };
}

/// `println!` to standard output, quiet on a closed pipe.
macro_rules! sayln {
    ($($arg:tt)*) => {
        $crate::commands::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use {say, sayln};

/// Refuses an output that is one of the inputs or another output (`-o` the scenario file,
/// `--out` the result it renders): writing it would destroy what the command reads or
/// writes. Each path comes with the flag or argument that named it.
pub fn check_distinct(inputs: &[(&str, &Path)], outputs: &[(&str, &Path)]) -> anyhow::Result<()> {
    for (i, (flag, output)) in outputs.iter().enumerate() {
        for (other, path) in inputs.iter().chain(&outputs[..i]) {
            if same_file(output, path) {
                anyhow::bail!(
                    "{flag} {}: the same file as {other}; give another path",
                    output.display()
                );
            }
        }
    }
    Ok(())
}

/// Whether two paths name one file: the same inode when both exist, else the same
/// absolute path once their folders' links are resolved.
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => resolved(a) == resolved(b),
    }
}

/// `path` made absolute, with its folder's symbolic links resolved where it exists.
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let folder = absolute.parent().and_then(|p| p.canonicalize().ok());
    match (folder, absolute.file_name()) {
        (Some(folder), Some(name)) => folder.join(name),
        _ => absolute,
    }
}

/// The async runtime of every command. One thread: the client's work per chunk is a few
/// microseconds, and a single thread spares the cross-thread wake-ups (futex) that would
/// cost more than the work itself and take CPU from a server sharing the machine.
fn runtime() -> anyhow::Result<Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Runs a parsed command.
pub fn execute(cli: Cli) -> anyhow::Result<Outcome> {
    let runtime = runtime()?;
    match cli.command {
        Command::Schema => schema::execute(),
        Command::Validate { files } => Ok(validate::execute(&files)),
        Command::Baseline(BaselineCommand::Update {
            results,
            baselines,
            keep,
        }) => baseline::update(results, &baselines, keep),
        Command::Run(args) => run::execute(&args, &runtime),
        Command::Compare(args) => compare::execute(&args, &runtime),
        Command::Report(args) => report::execute(&args),
        Command::History(args) => history::execute(&args),
        Command::Recommend(args) => recommend::execute(&args, &runtime),
        Command::Info => info::execute(),
        Command::Gpu { watch } => gpu::execute(watch),
        Command::Merge(args) => merge::execute(&args),
        Command::Sim(args) => sim::execute(&args, &runtime),
        Command::Serve(args) => serve::execute(&args),
    }
}
