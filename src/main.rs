//! Binary entry point: parse arguments, run the command, map the outcome to an exit code
//! (0 pass, 2 usage or harness error, 130 interrupted with a partial result).

use std::process::ExitCode;

use clap::Parser;
use llm_loadtest::{app, cli::Cli};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { app::EXIT_USAGE } else { 0 });
        }
    };
    app::init_logging();
    match app::execute(cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(app::EXIT_USAGE)
        }
    }
}
