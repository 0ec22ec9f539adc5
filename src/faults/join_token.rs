//! Joining an agent again with a fresh token, as an operator does once the agent lost its
//! data directory and its single-use token is spent.

use std::time::Duration;

use super::{FaultError, config};
use crate::lab::agents::JOIN_TOKEN_PATH;
use crate::lab::wait::{self, Poll};
use crate::lab::{Lab, LabError};
use crate::scenario::model::JoinTokenStep;

/// How long the agent may take to attest with its new token once restarted.
const ATTEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Generates a token for the agent's node alias, writes it into agent.conf and restarts
/// the agent; with `evict_stale`, evicts the nodes its earlier tokens made and deletes
/// their alias entries. Returns once the agent has attested with the new token.
pub async fn rejoin(lab: &Lab, step: &JoinTokenStep) -> Result<(), FaultError> {
    let agent = step.agent.value.as_str();
    let previous = lab.current_node_id(agent).await?;
    let alias = lab.spec.node_alias_id(agent);
    let token = lab.server().generate_join_token(&alias).await?;
    config::set_keys(lab, agent, &[("join_token", &token)]).await?;
    let node = lab.spec.join_token_agent_id(&token);
    if step.evict_stale {
        evict_all_but(lab, agent, &node, previous).await?;
    }
    wait_attested(lab, agent, &node).await
}

/// Evicts every node of the agent except `keep` (including `previous`, the node of the
/// token its config held, made with or without its alias), and deletes the alias entries
/// that other join tokens made.
async fn evict_all_but(
    lab: &Lab,
    agent: &str,
    keep: &str,
    previous: Option<String>,
) -> Result<(), FaultError> {
    let server = lab.server();
    let listed: Vec<String> = server
        .agents()
        .await?
        .iter()
        .map(|n| n.id.to_string())
        .collect();
    let mut stale: Vec<String> = lab
        .stale_agents(agent)
        .await?
        .iter()
        .map(|n| n.id.to_string())
        .collect();
    stale.extend(previous.filter(|p| listed.contains(p) && p != keep));
    stale.dedup();
    for id in &stale {
        server.evict_agent(id).await?;
    }
    let alias = lab.spec.node_alias_id(agent);
    for entry in server.entries_for(&alias).await? {
        let parent = entry.parent_id.to_string();
        if entry.parent_id.path.starts_with(JOIN_TOKEN_PATH) && parent != keep {
            server.delete_entry(&entry.id).await?;
        }
    }
    Ok(())
}

/// Waits until the server lists `node` with a current SVID.
async fn wait_attested(lab: &Lab, agent: &str, node: &str) -> Result<(), FaultError> {
    let what = format!("{agent} to attest with its new token");
    let attested = || async {
        let nodes = lab.server().agents().await?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        Ok(match nodes.iter().find(|n| n.id.to_string() == node) {
            Some(n) if !n.banned && n.x509svid_expires_at > now => Poll::Ready(()),
            _ => Poll::Pending(format!("the server does not list {node} yet")),
        })
    };
    match wait::until(&what, ATTEST_TIMEOUT, attested).await {
        Ok(()) => Ok(()),
        Err(LabError::Timeout { .. }) => Err(FaultError::NotRejoined {
            agent: agent.to_string(),
            node: node.to_string(),
            waited: ATTEST_TIMEOUT,
        }),
        Err(other) => Err(other.into()),
    }
}
