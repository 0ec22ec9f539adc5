//! Which node the server lists is which of the lab's agents: an x509pop agent is known by
//! its certificate's common name, a join_token agent by the token in its config.

use super::paths::AGENT_CONF;
use super::spec::NodeAttestor;
use super::{Lab, LabError};
use crate::spire::{AgentInfo, Entry};

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
        Ok(self.agent_nodes(agent).await?.current)
    }

    /// Nodes the server still lists for the agent besides the one it runs as now.
    pub async fn stale_agents(&self, agent: &str) -> Result<Vec<AgentInfo>, LabError> {
        Ok(self.agent_nodes(agent).await?.stale)
    }

    /// The node the agent runs as and the stale ones, from one reading of the server's
    /// nodes and entries and of the join_token agents' configs.
    pub async fn agent_nodes(&self, agent: &str) -> Result<AgentNodes, LabError> {
        let server = self.server();
        let mut view = ServerView {
            nodes: server.agents().await?,
            entries: server.entries().await?,
            current: Vec::new(),
        };
        for other in &self.spec.agents {
            if let Some(id) = self.current_node_id(&other.name).await? {
                view.current.push((other.name.clone(), id));
            }
        }
        Ok(view.nodes_for(self, agent))
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
}

/// The node an agent runs as now, and the nodes the server still lists for it besides,
/// such as the agent ID of a join token it used before it lost its data directory.
#[derive(Debug, Clone, Default)]
pub struct AgentNodes {
    /// The node it runs as, if it has attested.
    pub current: Option<AgentInfo>,
    /// The others.
    pub stale: Vec<AgentInfo>,
}

/// What the server lists, and the node each join_token agent's config makes it.
struct ServerView {
    nodes: Vec<AgentInfo>,
    entries: Vec<Entry>,
    /// Each join_token agent with the agent ID of the token in its config.
    current: Vec<(String, String)>,
}

impl ServerView {
    fn nodes_for(&self, lab: &Lab, agent: &str) -> AgentNodes {
        let mut own = self.nodes_of(lab, agent);
        let current_id = self.current_id(agent);
        let current = match current_id {
            Some(id) => self.nodes.iter().find(|n| n.id.to_string() == id).cloned(),
            None => {
                own.sort_by_key(|n| (!n.banned, n.x509svid_expires_at));
                own.last().cloned()
            }
        };
        if lab.joins_with_tokens(agent) {
            own.extend(self.unclaimed_token_nodes(lab, agent));
        }
        let current_id = current.as_ref().map(|n| n.id.to_string());
        own.retain(|n| Some(n.id.to_string()) != current_id);
        AgentNodes {
            current,
            stale: own,
        }
    }

    fn current_id(&self, agent: &str) -> Option<&str> {
        let found = self.current.iter().find(|(name, _)| name == agent);
        found.map(|(_, id)| id.as_str())
    }

    /// Every node the server lists as this agent: for x509pop, nodes with its common name;
    /// for join tokens, nodes whose token was generated for its node alias.
    fn nodes_of(&self, lab: &Lab, agent: &str) -> Vec<AgentInfo> {
        let cn = format!("x509pop:subject:cn:{agent}");
        let token_ids = self.token_alias_parents(lab, agent);
        let joins = lab.joins_with_tokens(agent);
        let is_own = |n: &&AgentInfo| match joins {
            true => token_ids.contains(&n.id.to_string()),
            false => n.selectors.iter().any(|s| s.to_string() == cn),
        };
        self.nodes.iter().filter(is_own).cloned().collect()
    }

    /// Join_token nodes that neither `agent`'s token entries nor any other lab agent (its
    /// current token or its token entries) account for: one whose alias entry was deleted
    /// but which was never evicted.
    fn unclaimed_token_nodes(&self, lab: &Lab, agent: &str) -> Vec<AgentInfo> {
        let mut claimed = self.token_alias_parents(lab, agent);
        for other in lab.spec.agent_names().iter().filter(|a| *a != agent) {
            claimed.extend(self.current_id(other).map(str::to_string));
            claimed.extend(self.token_alias_parents(lab, other));
        }
        let unclaimed = |n: &&AgentInfo| {
            n.id.path.starts_with(JOIN_TOKEN_PATH) && !claimed.contains(&n.id.to_string())
        };
        self.nodes.iter().filter(unclaimed).cloned().collect()
    }

    /// The join_token agent IDs that entries issuing the agent's node alias are parented
    /// to: one per token generated with `-spiffeID <alias>`.
    fn token_alias_parents(&self, lab: &Lab, agent: &str) -> Vec<String> {
        let alias = lab.spec.node_alias_id(agent);
        self.entries
            .iter()
            .filter(|e| e.spiffe_id.to_string() == alias)
            .filter(|e| e.parent_id.path.starts_with(JOIN_TOKEN_PATH))
            .map(|e| e.parent_id.to_string())
            .collect()
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
