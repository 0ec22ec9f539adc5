//! `spirelab-probe`: runs inside each workload container of a spirelab lab.
//!
//! `watch` streams X509-SVID updates from the Workload API, prints one JSON line per
//! update or error, and serves metrics; `fetch` fetches once and prints the SVID and its
//! chain as JSON (exit 1 when no SVID was issued).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use spirelab::probe::fetch::{FetchResult, fetch};
use spirelab::probe::metrics::{ProbeMetrics, serve};
use spirelab::probe::watch::watch;

#[derive(Parser)]
#[command(
    version,
    about = "Watches a workload's X509-SVIDs through the SPIFFE Workload API"
)]
struct Cli {
    /// The Workload API endpoint, such as unix:///run/spire/sockets/agent.sock.
    #[arg(long, env = "SPIFFE_ENDPOINT_SOCKET", global = true)]
    socket: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Stream SVID updates forever, one JSON line each, and serve metrics.
    Watch {
        /// The workload's name, written into every record.
        #[arg(long)]
        name: String,
        /// Where to serve Prometheus metrics.
        #[arg(long, default_value = "0.0.0.0:9102")]
        metrics: SocketAddr,
    },
    /// Fetch the SVID once and print it with its chain as JSON.
    Fetch,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(socket) = cli.socket else {
        eprintln!("spirelab-probe: set --socket or SPIFFE_ENDPOINT_SOCKET");
        return ExitCode::from(2);
    };
    match cli.command {
        Command::Watch { name, metrics } => run_watch(&name, &socket, metrics).await,
        Command::Fetch => {
            let result = fetch(&socket).await;
            println!(
                "{}",
                serde_json::to_string(&result).expect("results always serialize")
            );
            match result {
                FetchResult::Issued { .. } => ExitCode::SUCCESS,
                FetchResult::Failed { .. } => ExitCode::FAILURE,
            }
        }
    }
}

async fn run_watch(name: &str, socket: &str, addr: SocketAddr) -> ExitCode {
    let metrics = Arc::new(ProbeMetrics::new(name));
    let server = tokio::spawn(serve(addr, metrics.clone()));
    tokio::select! {
        () = watch(name, socket, &metrics) => ExitCode::SUCCESS,
        served = server => {
            eprintln!("spirelab-probe: metrics endpoint on {addr} stopped: {served:?}");
            ExitCode::FAILURE
        }
        _ = tokio::signal::ctrl_c() => ExitCode::SUCCESS,
    }
}
