//! The server lists no node for the agent besides the one it runs as now. An agent that
//! lost its data directory and joined again with a new token leaves its old agent ID on
//! the server until an operator evicts it; whoever held that identity's key could still
//! use it until it expires, and `agent list` no longer says which node is real.

use crate::grader::{CheckError, Finding};
use crate::lab::Lab;
use crate::probe::svid::decimal_serial_as_hex;
use crate::spire::{AgentCli, AgentInfo};

/// Lists the agent's nodes on the server and fails on any but the one it runs as. An
/// agent that fails its own health check has not attested, so no node of its is current.
pub async fn check(lab: &Lab, agent: &str) -> Result<Finding, CheckError> {
    let healthy = AgentCli::new(&lab.engine, lab.container(agent))
        .healthy()
        .await
        .unwrap_or(false);
    let nodes = lab.agent_nodes(agent).await?;
    let mut stale = nodes.stale;
    let mut evidence = Vec::new();
    let current = match (healthy, nodes.current) {
        (true, Some(node)) => {
            evidence.push(format!("{agent} runs as {}", node.id));
            true
        }
        (false, Some(node)) => {
            evidence.push(format!(
                "{agent} fails `spire-agent healthcheck`: it has not attested as {} (or \
                 anything else)",
                node.id
            ));
            stale.insert(0, node);
            false
        }
        (_, None) => {
            evidence.push(format!("the server lists no node {agent} runs as"));
            false
        }
    };
    evidence.extend(stale.iter().map(describe));
    Ok(Finding {
        passed: current && stale.is_empty(),
        evidence,
    })
}

fn describe(node: &AgentInfo) -> String {
    let mut line = format!("{} is still listed", node.id);
    if !node.x509svid_serial_number.is_empty() {
        let serial = decimal_serial_as_hex(&node.x509svid_serial_number);
        line.push_str(&format!(" (SVID serial {serial})"));
    }
    if node.banned {
        line.push_str("; it is banned, which keeps its record: evict it instead");
    }
    line.push_str(&format!(
        "; remove it with `spire-server agent evict -spiffeID {}`",
        node.id
    ));
    line
}
