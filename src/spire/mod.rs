//! SPIRE's own command-line tools, run inside the lab's containers.
//!
//! spirelab changes and reads SPIRE only the way an operator would: through
//! `spire-server` and `spire-agent` commands executed in the components' containers. This
//! module knows those commands and their JSON output; it does not decide what to change.

pub mod entry;

use crate::engine::{Engine, EngineError};
use crate::lab::paths::{SOCKET, SPIRE_AGENT_BIN, SPIRE_SERVER_BIN};
pub use entry::{Entry, NewEntry};

/// Failures of SPIRE CLI calls.
#[derive(Debug, thiserror::Error)]
pub enum SpireError {
    /// The command ran and failed.
    #[error("`{command}` failed in {container}: {output}")]
    Command {
        /// The command line.
        command: String,
        /// The container it ran in.
        container: String,
        /// What it printed.
        output: String,
    },
    /// The command's JSON output did not have the expected shape.
    #[error("unexpected output from `{command}`")]
    Output {
        /// The command line.
        command: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The container could not be reached.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// The `spire-server` CLI in a lab's server container.
pub struct ServerCli<'a> {
    engine: &'a Engine,
    container: String,
}

impl<'a> ServerCli<'a> {
    /// The CLI of the server running in `container`.
    pub fn new(engine: &'a Engine, container: String) -> Self {
        ServerCli { engine, container }
    }

    /// Runs `spire-server ARGS` and returns its standard output, failing on a non-zero exit.
    pub async fn run(&self, args: &[&str]) -> Result<String, SpireError> {
        let mut cmd = vec![SPIRE_SERVER_BIN];
        cmd.extend_from_slice(args);
        let output = self.engine.exec(&self.container, &cmd, None).await?;
        if output.success() {
            Ok(output.stdout)
        } else {
            Err(SpireError::Command {
                command: format!("spire-server {}", args.join(" ")),
                container: self.container.clone(),
                output: output.combined(),
            })
        }
    }

    /// True when `spire-server healthcheck` passes.
    pub async fn healthy(&self) -> bool {
        self.run(&["healthcheck"]).await.is_ok()
    }

    /// The server's current X.509 trust bundle, PEM-encoded.
    pub async fn bundle_pem(&self) -> Result<String, SpireError> {
        self.run(&["bundle", "show", "-format", "pem"]).await
    }
}

/// The `spire-agent` CLI in an agent's or a workload's container.
pub struct AgentCli<'a> {
    engine: &'a Engine,
    container: String,
}

impl<'a> AgentCli<'a> {
    /// The CLI in `container`, talking to the agent's socket.
    pub fn new(engine: &'a Engine, container: String) -> Self {
        AgentCli { engine, container }
    }

    /// True when `spire-agent healthcheck` passes against the lab's socket path.
    pub async fn healthy(&self) -> Result<bool, EngineError> {
        let cmd = [SPIRE_AGENT_BIN, "healthcheck", "-socketPath", SOCKET];
        Ok(self
            .engine
            .exec(&self.container, &cmd, None)
            .await?
            .success())
    }
}
