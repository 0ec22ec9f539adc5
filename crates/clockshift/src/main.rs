//! clockshift: runs a program with its wall clock (`CLOCK_REALTIME`) shifted by
//! an offset, leaving monotonic clocks and the host clock alone.
//!
//! The target's vDSO is hidden at every exec (ptrace plus an auxiliary-vector
//! rewrite), so its wall-clock reads become system calls; a seccomp filter
//! turns those into user notifications, which the supervisor answers with its
//! own time plus the offset. See README.md for the full story.

mod child;
mod clock;
mod error;
mod fdpass;
mod notify;
mod offset;
mod procmem;
mod seccomp;
mod trace;
mod vdso;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process;
use std::thread;

use clap::{Args, Parser, Subcommand};

use crate::clock::WallTime;
use crate::error::{Error, Result};
use crate::offset::{Offset, OffsetSource};

/// Prints one line to stderr, prefixed with `clockshift: `.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => { eprintln!("clockshift: {}", format_args!($($arg)*)) };
}

/// An error and its chain of causes, joined with `: `.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// Run a program with its wall clock shifted by an offset.
///
/// Offsets are signed durations: `+15m`, `-10m`, `+900s`, `+1h30m`, `0`
/// (units ms, s, m, h, d). The offset file, if given, overrides --offset while
/// it exists and is re-read when it changes.
#[derive(Parser, Debug)]
#[command(name = "clockshift", version, args_conflicts_with_subcommands = true)]
#[command(subcommand_negates_reqs = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    offset: OffsetArgs,

    /// The program to run and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "PROGRAM")]
    program: Vec<OsString>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the true and shifted wall time and the offset as one JSON line.
    Now(OffsetArgs),
}

#[derive(Args, Debug)]
struct OffsetArgs {
    /// Fixed offset, used while the offset file is absent.
    #[arg(
        long,
        value_name = "DURATION",
        allow_hyphen_values = true,
        default_value = "0"
    )]
    offset: Offset,

    /// File holding the offset; re-read when it changes.
    #[arg(long, value_name = "PATH")]
    offset_file: Option<PathBuf>,
}

impl OffsetArgs {
    fn source(self) -> Result<OffsetSource> {
        OffsetSource::open(self.offset, self.offset_file)
    }
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Now(args)) => now(args).map(|()| 0),
        None => supervise(cli.offset, cli.program),
    };
    match result {
        Ok(code) => process::exit(code),
        Err(e) => {
            log!("error: {}", error_chain(&e));
            process::exit(e.exit_code());
        }
    }
}

/// `clockshift now`: one JSON line with both times and the offset.
fn now(args: OffsetArgs) -> Result<()> {
    let offset = args.source()?.current();
    let truth = WallTime::read(libc::CLOCK_REALTIME).map_err(|source| Error::Sys {
        what: "reading the clock",
        source,
    })?;
    println!(
        r#"{{"true_time":"{}","node_time":"{}","offset_seconds":{}}}"#,
        truth.rfc3339(),
        truth.shifted(offset).rfc3339(),
        offset.seconds_json()
    );
    Ok(())
}

/// Runs `program` under supervision; returns the exit code to leave with.
fn supervise(offset: OffsetArgs, program: Vec<OsString>) -> Result<i32> {
    let mut offsets = offset.source()?;
    let command = child::Command::new(&program)?;
    let filter = seccomp::Filter::new();
    let signals = child::block_forwarded()?;
    let child = child::spawn(&command, &filter)?;
    let listener = seccomp::Listener::new(child.listener)?;
    let serve = move || {
        if let Err(e) = notify::serve(&listener, &mut offsets) {
            log!("error: {}", error_chain(&e));
            // Tracees die with us (PTRACE_O_EXITKILL) instead of hanging.
            process::exit(125);
        }
    };
    thread::Builder::new()
        .name("notify".into())
        .spawn(serve)
        .map_err(|source| Error::Sys {
            what: "starting the notification thread",
            source,
        })?;
    child::forward_signals(signals, child.pid)?;
    let status = trace::supervise(child.pid)?;
    Ok(child::exit_code(status))
}
