//! The server lists no node for the agent besides the one it runs as now. An agent that
//! lost its data directory and joined again with a new token leaves its old agent ID on
//! the server until an operator evicts it; whoever held that identity's key could still
//! use it until it expires, and `agent list` no longer says which node is real.

use crate::grader::{CheckError, Finding};
use crate::lab::Lab;
use crate::probe::svid::decimal_serial_as_hex;

/// Lists the agent's nodes on the server and fails on any but the current one.
pub async fn check(lab: &Lab, agent: &str) -> Result<Finding, CheckError> {
    let current = lab.attested_agent(agent).await?;
    let stale = lab.stale_agents(agent).await?;
    let mut evidence: Vec<String> = stale
        .iter()
        .map(|node| {
            format!(
                "{} is still listed (SVID serial {}); evict it with `spire-server agent \
                 evict -spiffeID {}`",
                node.id,
                decimal_serial_as_hex(&node.x509svid_serial_number),
                node.id
            )
        })
        .collect();
    match &current {
        Some(node) => evidence.insert(0, format!("{agent} runs as {}", node.id)),
        None => evidence.insert(0, format!("the server lists no current node for {agent}")),
    }
    Ok(Finding {
        passed: current.is_some() && stale.is_empty(),
        evidence,
    })
}
