//! Binary entry point: parse arguments, run the command, map the outcome to an exit code
//! (0 pass, 1 regression or SLO breach, 2 usage or harness error, 130 interrupted with a
//! partial result). The command line (`cli`) and the subcommands (`commands`) belong to
//! the binary; the library below them knows no flag.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use cli::{Cli, LogFormat};

fn main() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) if e.use_stderr() => {
            eprintln!("{}", one_line(&e.render().to_string()));
            return ExitCode::from(commands::EXIT_USAGE);
        }
        Err(e) => {
            // --help and --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    let json = cli.log_format == LogFormat::Json;
    let _command = commands::init_logging(cli.log_format, matches.subcommand_name().unwrap_or(""));
    // Thousands of concurrent streams (and a simulator serving them) need as many sockets:
    // the soft limit on open files goes up to the hard one.
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::warn!("cannot raise the open-file limit: {e}");
    }
    match commands::execute(cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) if json => {
            tracing::error!(error = format!("{e:#}"), "command failed");
            ExitCode::from(commands::EXIT_USAGE)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(commands::EXIT_USAGE)
        }
    }
}

/// A clap usage error on one line: the message and what it names, without the usage block.
fn one_line(rendered: &str) -> String {
    let lines: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:"))
        .filter(|l| !l.is_empty() && !l.starts_with("tip:"))
        .collect();
    format!("{} (see --help)", lines.join(" "))
}
