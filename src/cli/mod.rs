//! The `spirelab` command line: parses arguments, runs one command, and maps every error
//! to a documented exit code in one place ([`exit_code`]).

pub mod args;
mod commands;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::engine::EngineError;
use crate::faults::FaultError;
use crate::images::ImageError;
use crate::lab::LabError;
use crate::prometheus::rules::RulesError;
use crate::scenario::ScenarioError;
use args::Cli;

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The arguments do not make sense together.
    #[error("{0}")]
    Usage(String),
    /// A scenario file is unusable.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// An image could not be built.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// The lab failed.
    #[error(transparent)]
    Lab(#[from] LabError),
    /// A fault step failed.
    #[error(transparent)]
    Fault(#[from] FaultError),
    /// A rules file could not be loaded.
    #[error(transparent)]
    Rules(#[from] RulesError),
    /// The Docker engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Checks ran and did not pass; the report says which.
    #[error("{0}")]
    NotPassed(String),
    /// Another command is changing the lab, or its lock could not be taken.
    #[error(transparent)]
    Lock(#[from] crate::scenario::session::LockError),
    /// Ctrl-C, SIGTERM or SIGHUP; the text says what was left as it was.
    #[error("interrupted; {0}")]
    Interrupted(&'static str),
}

/// Exit codes, as documented in `spirelab --help` and the README.
pub fn exit_code(error: &Error) -> u8 {
    match error {
        Error::NotPassed(_) => 1,
        Error::Usage(_) | Error::Scenario(_) | Error::Lock(_) => 2,
        Error::Lab(LabError::BadName(_) | LabError::Spec(_) | LabError::NotRunning(_)) => 2,
        Error::Lab(LabError::ClockNotShiftable { .. }) => 2,
        Error::Lab(LabError::PartlyUp { .. } | LabError::NameTaken { .. }) => 2,
        Error::Engine(_) | Error::Image(_) => 3,
        Error::Lab(LabError::Engine(e)) | Error::Fault(FaultError::Lab(LabError::Engine(e))) => {
            engine_exit_code(e)
        }
        Error::Lab(_) | Error::Fault(_) => 4,
        Error::Rules(error) => rules_exit_code(error),
        Error::Interrupted(_) => 130,
    }
}

/// A learner's file that cannot be loaded is bad input; the rest is the lab failing.
fn rules_exit_code(error: &RulesError) -> u8 {
    match error {
        RulesError::Read { .. }
        | RulesError::Parse { .. }
        | RulesError::Shape { .. }
        | RulesError::Invalid { .. }
        | RulesError::Unhealthy { .. } => 2,
        RulesError::NoPromtool => 3,
        RulesError::Engine(e) => engine_exit_code(e),
        RulesError::Reload { .. } | RulesError::NotLoaded { .. } | RulesError::Prometheus(_) => 4,
    }
}

fn engine_exit_code(error: &EngineError) -> u8 {
    match error {
        EngineError::Unreachable(_)
        | EngineError::MissingImage { .. }
        | EngineError::BadImageReference { .. }
        | EngineError::PortInUse { .. } => 3,
        EngineError::Call { .. } | EngineError::ExecTimeout { .. } => 4,
    }
}

/// Runs spirelab with the process's arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let format = cli.format;
    let runtime = tokio::runtime::Runtime::new().expect("failed to start the async runtime");
    let result = runtime.block_on(async {
        let result = commands::run(cli).await;
        crate::lab::down::finish_pending().await;
        result
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let message = crate::probe::watch::error_chain(&error);
            eprintln!("spirelab: {message}");
            let code = exit_code(&error);
            // A check that did not pass has had its report printed already.
            if !matches!(error, Error::NotPassed(_)) {
                crate::report::Reporter::new(format).error(&message, code);
            }
            ExitCode::from(code)
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "spirelab=info",
        _ => "spirelab=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .init();
}
