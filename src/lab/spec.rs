//! What a lab is made of: trust domain, TTLs, agents and workloads.
//!
//! A scenario file's `lab:` section is a [`LabSpec`]; every field has a default, so an
//! empty section gives the standard lab of one server, two agents and two workloads.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The shape of a lab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LabSpec {
    /// The SPIFFE trust domain, such as `lab.test`.
    pub trust_domain: String,
    /// X509-SVID lifetime for workloads and agents.
    #[serde(with = "humantime_serde")]
    pub svid_ttl: Duration,
    /// Lifetime of the server's signing CA; at least six times `svid_ttl`.
    #[serde(with = "humantime_serde")]
    pub ca_ttl: Duration,
    /// The agents, each attested with x509pop.
    pub agents: Vec<AgentSpec>,
    /// The workloads, each watching the Workload API through one agent.
    pub workloads: Vec<WorkloadSpec>,
    /// Run agents under clockshift so their clocks can be shifted; off only to measure
    /// what the supervisor costs.
    pub clock_supervisor: bool,
}

/// One SPIRE agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    /// The agent's name, also its host name and its certificate's common name.
    pub name: String,
}

/// One workload: a container running the probe as a given uid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// The workload's name, also its host name.
    pub name: String,
    /// The agent whose socket it uses.
    pub agent: String,
    /// The uid its processes run as; its registration entry selects `unix:uid:<uid>`.
    pub uid: u32,
}

impl Default for LabSpec {
    fn default() -> Self {
        let agent = |name: &str| AgentSpec { name: name.into() };
        let workload = |name: &str, agent: &str, uid| WorkloadSpec {
            name: name.into(),
            agent: agent.into(),
            uid,
        };
        LabSpec {
            trust_domain: "lab.test".into(),
            svid_ttl: Duration::from_secs(60),
            ca_ttl: Duration::from_secs(3600),
            agents: vec![agent("agent-1"), agent("agent-2")],
            clock_supervisor: true,
            workloads: vec![
                workload("workload-1", "agent-1", 1001),
                workload("workload-2", "agent-2", 1002),
            ],
        }
    }
}

/// A lab specification that cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    /// Two components share a name.
    #[error("component name {0:?} is used twice")]
    DuplicateName(String),
    /// A name is not a valid host name.
    #[error("component name {0:?} must be 1-30 lowercase letters, digits or '-'")]
    BadName(String),
    /// A workload names an agent that the lab does not have.
    #[error(
        "workload {workload} uses agent {agent}, which the lab does not have (agents: {known})"
    )]
    UnknownAgent {
        /// The workload.
        workload: String,
        /// The agent it names.
        agent: String,
        /// The agents the lab has.
        known: String,
    },
    /// TTLs SPIRE would reject or warn about.
    #[error("ca_ttl ({ca}) must be at least six times svid_ttl ({svid})")]
    CaTooShort {
        /// The CA TTL as written.
        ca: String,
        /// The SVID TTL as written.
        svid: String,
    },
    /// An SVID TTL too short to observe rotation.
    #[error("svid_ttl must be at least 10s, got {0}")]
    SvidTooShort(String),
    /// A trust domain SPIRE would reject.
    #[error("trust_domain {0:?} must be lowercase letters, digits, '.', '-' or '_'")]
    BadTrustDomain(String),
    /// A TTL too long for SPIRE's duration format.
    #[error("{0} is too long; keep svid_ttl under 7 days and ca_ttl under 10 years")]
    TtlTooLong(&'static str),
    /// A lab with nothing in it.
    #[error("a lab needs at least one agent and one workload")]
    Empty,
}

impl LabSpec {
    /// Checks the spec for anything that would fail later, once containers exist.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.agents.is_empty() || self.workloads.is_empty() {
            return Err(SpecError::Empty);
        }
        let td_chars = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c);
        if self.trust_domain.is_empty() || !self.trust_domain.chars().all(td_chars) {
            return Err(SpecError::BadTrustDomain(self.trust_domain.clone()));
        }
        self.validate_names()?;
        self.validate_ttls()?;
        for workload in &self.workloads {
            if self.agent(&workload.agent).is_none() {
                return Err(SpecError::UnknownAgent {
                    workload: workload.name.clone(),
                    agent: workload.agent.clone(),
                    known: self.agent_names().join(", "),
                });
            }
        }
        Ok(())
    }

    fn validate_names(&self) -> Result<(), SpecError> {
        let mut seen = vec!["server", "prometheus", "grafana"];
        let names = self
            .agents
            .iter()
            .map(|a| &a.name)
            .chain(self.workloads.iter().map(|w| &w.name));
        for name in names {
            if !is_host_name(name) {
                return Err(SpecError::BadName(name.clone()));
            }
            if seen.contains(&name.as_str()) {
                return Err(SpecError::DuplicateName(name.clone()));
            }
            seen.push(name);
        }
        Ok(())
    }

    fn validate_ttls(&self) -> Result<(), SpecError> {
        let show = |d: Duration| humantime::format_duration(d).to_string();
        if self.svid_ttl > Duration::from_secs(7 * 86_400) {
            return Err(SpecError::TtlTooLong("svid_ttl"));
        }
        if self.ca_ttl > Duration::from_secs(3650 * 86_400) {
            return Err(SpecError::TtlTooLong("ca_ttl"));
        }
        if self.svid_ttl < Duration::from_secs(10) {
            return Err(SpecError::SvidTooShort(show(self.svid_ttl)));
        }
        if self.ca_ttl < self.svid_ttl * 6 {
            return Err(SpecError::CaTooShort {
                ca: show(self.ca_ttl),
                svid: show(self.svid_ttl),
            });
        }
        Ok(())
    }

    /// The agent called `name`.
    pub fn agent(&self, name: &str) -> Option<&AgentSpec> {
        self.agents.iter().find(|a| a.name == name)
    }

    /// The workload called `name`.
    pub fn workload(&self, name: &str) -> Option<&WorkloadSpec> {
        self.workloads.iter().find(|w| w.name == name)
    }

    /// The names of all agents.
    pub fn agent_names(&self) -> Vec<String> {
        self.agents.iter().map(|a| a.name.clone()).collect()
    }

    /// Every component's name: the server, Prometheus, agents and workloads.
    pub fn component_names(&self) -> Vec<String> {
        let fixed = ["server", "prometheus"].map(String::from);
        let agents = self.agents.iter().map(|a| a.name.clone());
        let workloads = self.workloads.iter().map(|w| w.name.clone());
        fixed.into_iter().chain(agents).chain(workloads).collect()
    }

    /// The SPIFFE ID a workload is registered under.
    pub fn workload_id(&self, workload: &WorkloadSpec) -> String {
        format!("spiffe://{}/{}", self.trust_domain, workload.name)
    }

    /// The node alias entry's SPIFFE ID for an agent: workloads are parented to it.
    pub fn node_alias_id(&self, agent: &str) -> String {
        format!("spiffe://{}/node/{agent}", self.trust_domain)
    }

    /// The server's own SPIFFE ID, the parent of node alias entries.
    pub fn server_id(&self) -> String {
        format!("spiffe://{}/spire/server", self.trust_domain)
    }
}

fn is_host_name(name: &str) -> bool {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    (1..=30).contains(&name.len()) && name.chars().all(allowed) && !name.starts_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_lab_is_valid() {
        assert_eq!(LabSpec::default().validate(), Ok(()));
    }

    #[test]
    fn workload_on_unknown_agent_is_rejected() {
        let mut spec = LabSpec::default();
        spec.workloads[0].agent = "agent-9".into();
        let error = spec.validate().unwrap_err();
        assert_eq!(
            error.to_string(),
            "workload workload-1 uses agent agent-9, which the lab does not have \
             (agents: agent-1, agent-2)"
        );
    }

    #[test]
    fn short_ca_ttl_is_rejected() {
        let spec = LabSpec {
            ca_ttl: Duration::from_secs(300),
            ..LabSpec::default()
        };
        assert!(matches!(spec.validate(), Err(SpecError::CaTooShort { .. })));
    }

    #[test]
    fn reserved_and_duplicate_names_are_rejected() {
        let mut spec = LabSpec::default();
        spec.agents[1].name = "server".into();
        assert_eq!(
            spec.validate(),
            Err(SpecError::DuplicateName("server".into()))
        );
        spec.agents[1].name = "Agent_2".into();
        assert_eq!(spec.validate(), Err(SpecError::BadName("Agent_2".into())));
    }
}
