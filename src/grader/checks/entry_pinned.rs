//! Integrity: the workload's identity is issued only on its own uid, under an accepted
//! parent (by default its own agent's node alias), and that node alias still stands for
//! that one agent.
//!
//! Catches fixes that restore rotation by weakening identity: an entry without the uid
//! selector (matching every process on the node), one parented elsewhere, or a node alias
//! widened so other agents hold it too (a selector every agent has, such as the x509pop CA
//! fingerprint, or a second alias entry selecting another agent). It also fails a node
//! alias that does not match its own agent (a mistyped CN or serial number): it stands for
//! whatever node may one day present those selectors, and the evidence puts its selectors
//! next to the ones the agent was attested with.

use crate::grader::CheckError;
use crate::grader::Finding;
use crate::lab::Lab;
use crate::lab::agents::JOIN_TOKEN_PATH;
use crate::lab::spec::NodeAttestor;
use crate::lab::spec::WorkloadSpec;
use crate::spire::{AgentInfo, Entry};

/// Reads every entry issuing the workload's SPIFFE ID and checks selectors and parent,
/// then the node alias entries of the lab's agents those entries are parented to.
pub async fn check(
    lab: &Lab,
    workload: &WorkloadSpec,
    parents: &[String],
) -> Result<Finding, CheckError> {
    let (uid, expected) = lab.expected_identity(workload);
    let server = lab.server();
    let all = server.entries().await?;
    let issuing = |id: &str| -> Vec<&Entry> {
        all.iter()
            .filter(|e| e.spiffe_id.to_string() == id)
            .collect()
    };
    let entries = issuing(&expected);
    if entries.is_empty() {
        return Ok(Finding::fail(vec![format!("no entry issues {expected}")]));
    }
    let own_alias = [lab.spec.node_alias_id(&workload.agent)];
    let accepted = if parents.is_empty() {
        &own_alias[..]
    } else {
        parents
    };
    let mut finding = review_entries(&entries, &format!("unix:uid:{uid}"), accepted);

    let agents = server.agents().await?;
    for agent in &lab.spec.agents {
        let alias = lab.spec.node_alias_id(&agent.name);
        if entries.iter().any(|e| e.parent_id.to_string() == alias) {
            let current = lab.current_node_id(&agent.name).await?;
            let target = AliasTarget {
                alias: &alias,
                agent: &agent.name,
                server_id: &lab.spec.server_id(),
                joins_with_tokens: agent.node_attestor == NodeAttestor::JoinToken,
                current_node: current.as_deref(),
                other_nodes: &other_nodes(lab, &agent.name).await?,
            };
            let review = target.review(&issuing(&alias), &agents);
            finding.passed &= review.passed;
            finding.evidence.extend(review.evidence);
        }
    }
    Ok(finding)
}

/// The node IDs the lab's other agents run as now.
async fn other_nodes(lab: &Lab, agent: &str) -> Result<Vec<String>, CheckError> {
    let mut ids = Vec::new();
    for other in lab.spec.agent_names().iter().filter(|a| *a != agent) {
        if let Some(node) = lab.attested_agent(other).await? {
            ids.push(node.id.to_string());
        }
    }
    Ok(ids)
}

/// Every entry issuing the workload's ID must select `uid_selector` and have an
/// `accepted` parent.
fn review_entries(entries: &[&Entry], uid_selector: &str, accepted: &[String]) -> Finding {
    let mut evidence = Vec::new();
    let mut passed = true;
    for entry in entries {
        let selectors = entry.selector_strings();
        let pinned = selectors.iter().any(|s| s == uid_selector);
        let parented = accepted.contains(&entry.parent_id.to_string());
        let powers = extra_powers(entry);
        passed &= pinned && parented && powers.is_empty();
        let mut line = format!(
            "entry {} parent {} selectors [{}]",
            entry.id,
            entry.parent_id,
            selectors.join(", ")
        );
        if !pinned {
            line.push_str(&format!("; does not select {uid_selector}"));
        }
        if !parented {
            line.push_str(&format!(
                "; parent should be one of {}",
                accepted.join(", ")
            ));
        }
        for power in powers {
            line.push_str(&format!("; {power}"));
        }
        evidence.push(line);
    }
    Finding { passed, evidence }
}

/// What an entry grants beyond the workload's plain identity: none of the lab's workload
/// entries is admin, downstream or carries DNS names, so a fix that adds any of these hands
/// the workload more than it had.
fn extra_powers(entry: &Entry) -> Vec<String> {
    let mut powers = Vec::new();
    if entry.admin {
        powers.push("is an admin entry (its holder may manage every registration)".into());
    }
    if entry.downstream {
        powers.push("is a downstream entry (its holder may mint SVIDs)".into());
    }
    if !entry.dns_names.is_empty() {
        powers.push(format!("adds DNS names [{}]", entry.dns_names.join(", ")));
    }
    powers
}

/// A lab agent's node alias, as the review of the entries issuing it needs it.
struct AliasTarget<'a> {
    /// The alias's SPIFFE ID, such as `spiffe://lab.test/node/agent-1`.
    alias: &'a str,
    /// The agent it stands for, also its x509pop certificate's common name.
    agent: &'a str,
    /// The server's SPIFFE ID, the parent of node alias entries.
    server_id: &'a str,
    /// The agent attests with join tokens: `spire-server token generate -spiffeID <alias>`
    /// parents its alias entries to each token's agent ID.
    joins_with_tokens: bool,
    /// The agent ID the token in a join_token agent's config gives.
    current_node: Option<&'a str>,
    /// The node IDs the lab's other agents run as now.
    other_nodes: &'a [String],
}

impl AliasTarget<'_> {
    /// Each entry issuing the alias must be a node alias entry (parented to the server)
    /// that selects something only this agent's certificate has (its subject CN or its
    /// serial number), that the agent matches (when the server lists it), and that no other
    /// attested agent matches. SPIRE hands a node alias to every agent holding all of the
    /// entry's selectors, and an entry issuing the alias under another parent hands it to
    /// whatever holds that parent.
    fn review(&self, entries: &[&Entry], agents: &[AgentInfo]) -> Finding {
        let attested = self.attested(agents);
        let mut finding = Finding::pass(Vec::new());
        for entry in entries {
            let (ok, line) = self.review_entry(entry, &attested);
            finding.passed &= ok;
            finding.evidence.push(line);
        }
        finding
    }

    /// The agents the server lists (and has not banned), split by whether their
    /// certificate names this alias's agent.
    fn attested<'b>(&self, agents: &'b [AgentInfo]) -> Attested<'b> {
        let cn = format!("x509pop:subject:cn:{}", self.agent);
        let (own, others): (Vec<&AgentInfo>, Vec<&AgentInfo>) = agents
            .iter()
            .filter(|a| !a.banned)
            .partition(|a| selector_strings(a).contains(&cn));
        let mut unique = vec![cn];
        for agent in &own {
            let serials = selector_strings(agent).into_iter();
            unique.extend(serials.filter(|s| s.starts_with("x509pop:serialnumber:")));
        }
        Attested {
            own,
            others,
            unique,
        }
    }

    fn review_entry(&self, entry: &Entry, attested: &Attested<'_>) -> (bool, String) {
        let selectors = entry.selector_strings();
        let mut line = format!(
            "node alias entry {} {} selectors [{}]",
            entry.id,
            self.alias,
            selectors.join(", ")
        );
        if self.joins_with_tokens {
            return self.review_token_entry(entry, line);
        }
        if entry.parent_id.to_string() != self.server_id {
            line.push_str(&format!(
                "; issued under {}, which hands {}'s node alias to whatever holds that \
                 parent; node aliases are parented to {}",
                entry.parent_id, self.agent, self.server_id
            ));
            return (false, line);
        }
        let (ok, problems) = self.review_selectors(&selectors, attested);
        line.push_str(&problems);
        (ok, line)
    }

    /// Whether an alias entry's selectors stand for this agent alone, and the evidence
    /// when they do not.
    fn review_selectors(&self, selectors: &[String], attested: &Attested<'_>) -> (bool, String) {
        let Attested {
            own,
            others,
            unique,
        } = attested;
        let pinned = selectors.iter().any(|s| unique.contains(s));
        let matched: Vec<String> = others
            .iter()
            .filter(|a| holds_all(a, selectors))
            .map(|a| agent_name(a))
            .collect();
        let covers_own = own.is_empty() || own.iter().any(|a| holds_all(a, selectors));
        let mut text = String::new();
        if !pinned {
            text.push_str(&format!(
                "; selects nothing only {}'s certificate has (such as {})",
                self.agent, unique[0]
            ));
        }
        if !matched.is_empty() {
            text.push_str(&format!("; also matches {}", matched.join(", ")));
        }
        if !covers_own && matched.is_empty() {
            text.push_str(&self.matching_no_agent(own));
        }
        if own.is_empty() {
            let agent = self.agent;
            text.push_str(&format!(
                "; {agent} is not attested, so only its certificate's CN is known"
            ));
        }
        (pinned && matched.is_empty() && covers_own, text)
    }

    /// Evidence for an alias entry no agent matches: the selectors its agent was attested
    /// with, to read next to the entry's.
    fn matching_no_agent(&self, own: &[&AgentInfo]) -> String {
        let mut text = "; matches no attested agent".to_string();
        for agent in own {
            text.push_str(&format!(
                "; {} is {}, attested with [{}]",
                self.agent,
                agent.id,
                selector_strings(agent).join(", ")
            ));
        }
        text
    }
}

/// The attested agents as the review of one node alias sees them.
struct Attested<'a> {
    /// Agents whose certificate's CN is the alias's agent.
    own: Vec<&'a AgentInfo>,
    /// Every other attested agent.
    others: Vec<&'a AgentInfo>,
    /// Selectors only the alias's agent has: its CN, then its certificates' serial numbers.
    unique: Vec<String>,
}

impl AliasTarget<'_> {
    /// A join_token agent's alias entry must be the one its current token made: an entry
    /// under another token hands the alias to whoever attests with that token (one still
    /// unused, or one whose node was left on the server), and the agent has no selectors
    /// for an entry parented to the server to match.
    fn review_token_entry(&self, entry: &Entry, mut line: String) -> (bool, String) {
        let parent = entry.parent_id.to_string();
        let problem = if Some(parent.as_str()) == self.current_node {
            line.push_str(&format!("; made with the token {} runs with", self.agent));
            return (true, line);
        } else if self.other_nodes.contains(&parent) {
            format!("issued under {parent}, which another agent of the lab runs as")
        } else if entry.parent_id.path.starts_with(JOIN_TOKEN_PATH) {
            format!(
                "issued under {parent}, a token {} does not run with; whoever attests with \
                 it gets the alias: delete this entry",
                self.agent
            )
        } else {
            format!(
                "{} attests with join tokens, which give it no selectors: its alias comes \
                 from `spire-server token generate -spiffeID {}`",
                self.agent, self.alias
            )
        };
        line.push_str(&format!("; {problem}"));
        (false, line)
    }
}

fn selector_strings(agent: &AgentInfo) -> Vec<String> {
    agent.selectors.iter().map(ToString::to_string).collect()
}

/// True when the agent holds every one of `selectors`, which is when SPIRE gives it the
/// node alias of an entry selecting them.
fn holds_all(agent: &AgentInfo, selectors: &[String]) -> bool {
    let held = selector_strings(agent);
    selectors.iter().all(|s| held.contains(s))
}

/// An agent's certificate common name, or its SPIFFE ID when it has none.
fn agent_name(agent: &AgentInfo) -> String {
    let cn = agent.selectors.iter().find_map(|s| {
        (s.kind == "x509pop")
            .then(|| s.value.strip_prefix("subject:cn:"))
            .flatten()
    });
    match cn {
        Some(cn) => format!("{cn} ({})", agent.id),
        None => agent.id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spire::entry::{IdParts, Selector};

    const SERVER: &str = "spiffe://lab.test/spire/server";
    const ALIAS: &str = "spiffe://lab.test/node/agent-1";
    const CA: &str = "ca:fingerprint:b05cafe1";

    fn id(path: &str) -> IdParts {
        IdParts {
            trust_domain: "lab.test".into(),
            path: path.into(),
        }
    }

    fn selector(text: &str) -> Selector {
        let (kind, value) = text.split_once(':').unwrap();
        Selector {
            kind: kind.into(),
            value: value.into(),
        }
    }

    fn entry(entry_id: &str, spiffe_id: &str, parent: &str, selectors: &[&str]) -> Entry {
        Entry {
            id: entry_id.into(),
            spiffe_id: id(spiffe_id),
            parent_id: id(parent),
            selectors: selectors.iter().map(|s| selector(s)).collect(),
            x509_svid_ttl: 0,
            admin: false,
            downstream: false,
            dns_names: Vec::new(),
        }
    }

    #[test]
    fn a_workload_entry_made_admin_or_given_dns_names_fails() {
        let plain = || entry("e1", "/workload-1", "/node/agent-1", &["unix:uid:1001"]);
        let accepted = [ALIAS.to_string()];
        assert!(review_entries(&[&plain()], "unix:uid:1001", &accepted).passed);

        let mut widened = plain();
        widened.admin = true;
        widened.dns_names = vec!["*.example.com".into()];
        let finding = review_entries(&[&widened], "unix:uid:1001", &accepted);
        assert!(!finding.passed);
        let line = &finding.evidence[0];
        assert!(line.contains("is an admin entry"), "{line}");
        assert!(line.contains("adds DNS names [*.example.com]"), "{line}");
    }

    /// An attested agent with the selectors SPIRE 1.13's x509pop attestor gives it.
    fn agent(name: &str, serial: &str) -> AgentInfo {
        let selectors = [
            format!("x509pop:{CA}"),
            format!("x509pop:serialnumber:{serial}"),
            format!("x509pop:subject:cn:{name}"),
        ];
        AgentInfo {
            id: id(&format!("/spire/agent/x509pop/{serial}")),
            x509svid_serial_number: "1".into(),
            x509svid_expires_at: 0,
            selectors: selectors.iter().map(|s| selector(s)).collect(),
            banned: false,
        }
    }

    fn review(entries: &[Entry]) -> Finding {
        let agents = [agent("agent-1", "aa"), agent("agent-2", "bb")];
        let target = AliasTarget {
            alias: ALIAS,
            agent: "agent-1",
            server_id: SERVER,
            joins_with_tokens: false,
            current_node: None,
            other_nodes: &[],
        };
        target.review(&entries.iter().collect::<Vec<_>>(), &agents)
    }

    #[test]
    fn a_join_token_alias_passes_only_under_the_token_the_agent_runs_with() {
        let token_entry = |token: &str| {
            let node = format!("/spire/agent/join_token/{token}");
            let selector = format!("spiffe_id:spiffe://lab.test{node}");
            entry("e1", "/node/agent-1", &node, &[selector.as_str()])
        };
        let mut target = AliasTarget {
            alias: ALIAS,
            agent: "agent-1",
            server_id: SERVER,
            joins_with_tokens: true,
            current_node: Some("spiffe://lab.test/spire/agent/join_token/t-1"),
            other_nodes: &[],
        };
        let finding = target.review(&[&token_entry("t-1")], &[]);
        assert!(finding.passed, "{:?}", finding.evidence);

        let spare = target.review(&[&token_entry("t-1"), &token_entry("t-2")], &[]);
        assert!(!spare.passed);
        assert!(
            spare.evidence[1].ends_with(
                "a token agent-1 does not run with; whoever attests with it gets the alias: \
                 delete this entry"
            ),
            "{:?}",
            spare.evidence
        );

        let agent_2_node = ["spiffe://lab.test/spire/agent/join_token/t-2".to_string()];
        target.other_nodes = &agent_2_node;
        let finding = target.review(&[&token_entry("t-2")], &[]);
        assert!(finding.evidence[0].contains("which another agent of the lab runs as"));

        let by_cn = entry(
            "e2",
            "/node/agent-1",
            "/spire/server",
            &["x509pop:subject:cn:agent-1"],
        );
        let finding = target.review(&[&by_cn], &[]);
        assert!(!finding.passed);
        assert!(
            finding.evidence[0].contains("attests with join tokens"),
            "{:?}",
            finding.evidence
        );
    }

    #[test]
    fn the_labs_own_node_alias_passes() {
        let own = entry(
            "e1",
            "/node/agent-1",
            "/spire/server",
            &["x509pop:subject:cn:agent-1"],
        );
        let finding = review(&[own]);
        assert!(finding.passed, "{:?}", finding.evidence);
        let by_serial = entry(
            "e1",
            "/node/agent-1",
            "/spire/server",
            &["x509pop:serialnumber:aa"],
        );
        assert!(review(&[by_serial]).passed);
    }

    #[test]
    fn an_alias_widened_to_the_ca_fingerprint_fails_with_evidence() {
        let widened = entry(
            "e1",
            "/node/agent-1",
            "/spire/server",
            &["x509pop:ca:fingerprint:b05cafe1"],
        );
        let finding = review(&[widened]);
        assert!(!finding.passed);
        assert_eq!(
            finding.evidence,
            [format!(
                "node alias entry e1 {ALIAS} selectors [x509pop:{CA}]; selects nothing only \
                 agent-1's certificate has (such as x509pop:subject:cn:agent-1); also matches \
                 agent-2 (spiffe://lab.test/spire/agent/x509pop/bb)"
            )]
        );
    }

    /// F-06: the node alias selects a mistyped CN, so it matches no agent at all.
    #[test]
    fn an_alias_with_a_mistyped_cn_fails_next_to_the_agents_selectors() {
        let typo = entry(
            "e1",
            "/node/agent-1",
            "/spire/server",
            &["x509pop:subject:cn:agnet-1"],
        );
        let finding = review(&[typo]);
        assert!(!finding.passed);
        assert_eq!(
            finding.evidence,
            [format!(
                "node alias entry e1 {ALIAS} selectors [x509pop:subject:cn:agnet-1]; selects \
                 nothing only agent-1's certificate has (such as x509pop:subject:cn:agent-1); \
                 matches no attested agent; agent-1 is spiffe://lab.test/spire/agent/x509pop/aa, \
                 attested with [x509pop:{CA}, x509pop:serialnumber:aa, \
                 x509pop:subject:cn:agent-1]"
            )]
        );
    }

    /// F-06 with the CN right and the serial number mistyped: the entry names agent-1, but
    /// agent-1 does not hold all of its selectors.
    #[test]
    fn an_alias_with_the_cn_and_a_mistyped_serial_fails() {
        let typo = entry(
            "e1",
            "/node/agent-1",
            "/spire/server",
            &["x509pop:subject:cn:agent-1", "x509pop:serialnumber:ab"],
        );
        let finding = review(&[typo]);
        assert!(!finding.passed);
        let line = &finding.evidence[0];
        assert!(
            line.contains("; matches no attested agent; agent-1 is "),
            "{line}"
        );
        assert!(!line.contains("selects nothing only"), "{line}");
    }

    #[test]
    fn an_alias_of_an_agent_that_is_not_attested_is_judged_by_its_cn() {
        let own = entry(
            "e1",
            "/node/agent-1",
            "/spire/server",
            &["x509pop:subject:cn:agent-1"],
        );
        let agents = [agent("agent-2", "bb")];
        let target = AliasTarget {
            alias: ALIAS,
            agent: "agent-1",
            server_id: SERVER,
            joins_with_tokens: false,
            current_node: None,
            other_nodes: &[],
        };
        let finding = target.review(&[&own], &agents);
        assert!(finding.passed, "{:?}", finding.evidence);
        assert!(
            finding.evidence[0]
                .ends_with("agent-1 is not attested, so only its certificate's CN is known")
        );
    }

    #[test]
    fn a_second_alias_entry_for_another_agent_fails() {
        let own = entry(
            "e1",
            "/node/agent-1",
            "/spire/server",
            &["x509pop:subject:cn:agent-1"],
        );
        let other = entry(
            "e2",
            "/node/agent-1",
            "/spire/server",
            &["x509pop:subject:cn:agent-2"],
        );
        let finding = review(&[own, other]);
        assert!(!finding.passed);
        assert!(
            finding.evidence[1]
                .ends_with("also matches agent-2 (spiffe://lab.test/spire/agent/x509pop/bb)")
        );
    }

    #[test]
    fn an_alias_issued_under_another_parent_fails() {
        let nested = entry(
            "e1",
            "/node/agent-1",
            "/spire/agent/x509pop/bb",
            &["unix:uid:0"],
        );
        let finding = review(&[nested]);
        assert!(!finding.passed);
        assert!(
            finding.evidence[0].contains("issued under spiffe://lab.test/spire/agent/x509pop/bb")
        );
    }

    #[test]
    fn a_workload_entry_must_select_its_uid_under_an_accepted_parent() {
        let good = entry("w1", "/workload-1", "/node/agent-1", &["unix:uid:1001"]);
        let group = entry("w2", "/workload-1", "/node/agent-1", &["unix:gid:1001"]);
        let accepted = [ALIAS.to_string()];
        assert!(review_entries(&[&good], "unix:uid:1001", &accepted).passed);
        let finding = review_entries(&[&good, &group], "unix:uid:1001", &accepted);
        assert!(!finding.passed);
        assert!(finding.evidence[1].ends_with("does not select unix:uid:1001"));
    }
}
