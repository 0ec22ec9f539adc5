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

    /// Generates a single-use join token whose agent also gets `spiffe_id` (SPIRE creates
    /// that entry, parented to the token's agent ID); returns the token.
    pub async fn generate_join_token(&self, spiffe_id: &str) -> Result<String, SpireError> {
        let args = ["token", "generate", "-spiffeID", spiffe_id, "-ttl", "600"];
        let output = self.run(&args).await?;
        match output.trim().strip_prefix("Token: ") {
            Some(token) if !token.is_empty() => Ok(token.to_string()),
            _ => Err(SpireError::Command {
                command: format!("spire-server {}", args.join(" ")),
                container: self.container.clone(),
                output: format!("expected \"Token: <token>\", got {output:?}"),
            }),
        }
    }

    /// Evicts the agent with SPIFFE ID `agent_id`: its node record is deleted, and it must
    /// attest again.
    pub async fn evict_agent(&self, agent_id: &str) -> Result<(), SpireError> {
        self.run(&["agent", "evict", "-spiffeID", agent_id])
            .await
            .map(drop)
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

/// An attested agent as `spire-server agent list -output json` prints it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct AgentInfo {
    /// The agent's SPIFFE ID.
    pub id: entry::IdParts,
    /// Serial number of its current SVID.
    #[serde(default)]
    pub x509svid_serial_number: String,
    /// When its current SVID expires, in Unix seconds.
    #[serde(default, deserialize_with = "int_or_string")]
    pub x509svid_expires_at: i64,
    /// Its selectors, such as `x509pop:subject:cn:agent-1`.
    #[serde(default)]
    pub selectors: Vec<entry::Selector>,
    /// Whether it is banned.
    #[serde(default)]
    pub banned: bool,
}

/// SPIRE's JSON output writes 64-bit integers as strings.
fn int_or_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    use serde::Deserialize;
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| serde::de::Error::custom("not an i64")),
        serde_json::Value::String(s) => s.parse().map_err(serde::de::Error::custom),
        _ => Err(serde::de::Error::custom("expected a number or a string")),
    }
}

#[derive(serde::Deserialize)]
struct AgentList {
    #[serde(default)]
    agents: Vec<AgentInfo>,
}

impl ServerCli<'_> {
    /// Every attested agent.
    pub async fn agents(&self) -> Result<Vec<AgentInfo>, SpireError> {
        let args = ["agent", "list", "-output", "json"];
        let text = self.run(&args).await?;
        let list: AgentList = serde_json::from_str(&text).map_err(|source| SpireError::Output {
            command: args.join(" "),
            source,
        })?;
        Ok(list.agents)
    }
}
