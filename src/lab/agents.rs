//! Which node the server lists is which of the lab's agents: an x509pop agent is known by
//! its certificate's common name, a join_token agent by the token in its config.

use super::paths::AGENT_CONF;
use super::spec::NodeAttestor;
use super::{Lab, LabError};
use crate::spire::AgentInfo;

/// The path of the agent IDs that join tokens give, up to the token.
pub const JOIN_TOKEN_PATH: &str = "/spire/agent/join_token/";

impl Lab {
    /// The join token in the agent's `agent.conf`, read through Docker so a stopped or
    /// restarting agent can be asked too.
    pub async fn configured_join_token(&self, agent: &str) -> Result<Option<String>, LabError> {
        let bytes = self
            .engine
            .download_file(&self.container(agent), AGENT_CONF)
            .await?;
        Ok(join_token_in(&String::from_utf8_lossy(&bytes)))
    }

    /// The server's record of the node the agent runs as now, if it has attested: the
    /// node of the token in its config, or the newest x509pop node with its common name.
    pub async fn attested_agent(&self, agent: &str) -> Result<Option<AgentInfo>, LabError> {
        if let Some(id) = self.current_node_id(agent).await? {
            let nodes = self.server().agents().await?;
            return Ok(nodes.into_iter().find(|n| n.id.to_string() == id));
        }
        let mut nodes = self.nodes_of(agent).await?;
        nodes.sort_by_key(|n| (!n.banned, n.x509svid_expires_at));
        Ok(nodes.pop())
    }

    /// Nodes the server still lists for the agent besides the one it runs as now, such as
    /// the agent ID of a join token it used before it lost its data directory. For a
    /// join_token agent, join_token nodes no agent of the lab accounts for count too: one
    /// whose alias entry was deleted but which was never evicted.
    pub async fn stale_agents(&self, agent: &str) -> Result<Vec<AgentInfo>, LabError> {
        let current = self.attested_agent(agent).await?.map(|n| n.id.to_string());
        let mut stale: Vec<AgentInfo> = self.nodes_of(agent).await?;
        if self.joins_with_tokens(agent) {
            stale.extend(self.unclaimed_token_nodes(agent).await?);
        }
        stale.retain(|n| Some(n.id.to_string()) != current);
        stale.dedup_by(|a, b| a.id == b.id);
        Ok(stale)
    }

    /// Join_token nodes that neither `agent`'s token entries nor any other lab agent
    /// (its current token or its token entries) account for.
    async fn unclaimed_token_nodes(&self, agent: &str) -> Result<Vec<AgentInfo>, LabError> {
        let mut claimed = self.token_alias_parents(agent).await?;
        for other in self.spec.agent_names().iter().filter(|a| *a != agent) {
            claimed.extend(self.current_node_id(other).await?);
            claimed.extend(self.token_alias_parents(other).await?);
        }
        let nodes = self.server().agents().await?;
        Ok(nodes
            .into_iter()
            .filter(|n| n.id.path.starts_with(JOIN_TOKEN_PATH))
            .filter(|n| !claimed.contains(&n.id.to_string()))
            .collect())
    }

    /// The agent ID a join_token agent attests as with the token in its config.
    pub async fn current_node_id(&self, agent: &str) -> Result<Option<String>, LabError> {
        if !self.joins_with_tokens(agent) {
            return Ok(None);
        }
        let token = self.configured_join_token(agent).await?;
        Ok(token.map(|t| self.spec.join_token_agent_id(&t)))
    }

    /// Whether the lab attests `agent` with join tokens.
    pub fn joins_with_tokens(&self, agent: &str) -> bool {
        let attestor = self.spec.agent(agent).map(|a| a.node_attestor);
        attestor == Some(NodeAttestor::JoinToken)
    }

    /// Every node the server lists as this agent: for x509pop, nodes with its common name;
    /// for join tokens, nodes whose token was generated for its node alias.
    async fn nodes_of(&self, agent: &str) -> Result<Vec<AgentInfo>, LabError> {
        let server = self.server();
        let nodes = server.agents().await?;
        if !self.joins_with_tokens(agent) {
            let cn = format!("x509pop:subject:cn:{agent}");
            let has_cn = |n: &AgentInfo| n.selectors.iter().any(|s| s.to_string() == cn);
            return Ok(nodes.into_iter().filter(has_cn).collect());
        }
        let token_ids = self.token_alias_parents(agent).await?;
        Ok(nodes
            .into_iter()
            .filter(|n| token_ids.contains(&n.id.to_string()))
            .collect())
    }

    /// The join_token agent IDs that entries issuing the agent's node alias are parented
    /// to: one per token generated with `-spiffeID <alias>`.
    pub async fn token_alias_parents(&self, agent: &str) -> Result<Vec<String>, LabError> {
        let alias = self.spec.node_alias_id(agent);
        let entries = self.server().entries().await?;
        Ok(entries
            .into_iter()
            .filter(|e| e.spiffe_id.to_string() == alias)
            .filter(|e| e.parent_id.path.starts_with(JOIN_TOKEN_PATH))
            .map(|e| e.parent_id.to_string())
            .collect())
    }
}

/// The value of `join_token = "..."` in the `agent` block of an agent.conf.
pub fn join_token_in(conf: &str) -> Option<String> {
    let mut in_agent_block = false;
    for line in conf.lines() {
        let trimmed = line.trim();
        if line.trim_end() == "agent {" {
            in_agent_block = true;
        } else if line.starts_with('}') {
            in_agent_block = false;
        } else if in_agent_block {
            let value = trimmed
                .strip_prefix("join_token")
                .and_then(|rest| rest.trim_start().strip_prefix('='));
            if let Some(value) = value {
                return Some(value.trim().trim_matches('"').to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::LabSpec;
    use crate::lab::render::{Attestation, agent_conf};

    #[test]
    fn the_token_is_read_from_the_agent_block_only() {
        let conf = agent_conf(&LabSpec::default(), Attestation::JoinToken("abc-123"));
        assert_eq!(join_token_in(&conf).as_deref(), Some("abc-123"));

        let x509pop = agent_conf(&LabSpec::default(), Attestation::X509pop);
        assert_eq!(join_token_in(&x509pop), None);

        let elsewhere = "agent {\n    data_dir = \"/d\"\n}\nplugins {\n    join_token = \"x\"\n}\n";
        assert_eq!(join_token_in(elsewhere), None);
    }
}
