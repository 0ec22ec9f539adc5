//! Joining an agent again with a fresh token, as an operator does once the agent lost its
//! data directory and its single-use token is spent.

use super::{FaultError, config};
use crate::lab::Lab;
use crate::scenario::model::JoinTokenStep;

/// Generates a token for the agent's node alias, writes it into agent.conf and restarts
/// the agent; with `evict_stale`, then evicts the nodes its earlier tokens left behind.
pub async fn rejoin(lab: &Lab, step: &JoinTokenStep) -> Result<(), FaultError> {
    let agent = step.agent.value.as_str();
    let alias = lab.spec.node_alias_id(agent);
    let token = lab.server().generate_join_token(&alias).await?;
    config::set_keys(lab, agent, &[("join_token", &token)]).await?;
    if step.evict_stale {
        for node in lab.stale_agents(agent).await? {
            lab.server().evict_agent(&node.id.to_string()).await?;
        }
    }
    Ok(())
}
