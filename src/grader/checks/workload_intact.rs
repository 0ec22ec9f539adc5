//! Integrity: the graded workload is still the lab's own. Catches fixes that make the
//! grade pass by changing what is graded instead of what is broken: the container
//! recreated under another uid, image or command, with another environment, mounts or PID
//! namespace, or the probe stopped.
//!
//! "Intact" means the container runs and matches the lab's plan for the workload
//! ([`Lab::workload_plan`]) on image, user, command (entrypoint and arguments), environment
//! (the image's plus the plan's, nothing added, removed or changed), mounts (the expected
//! agent's socket volume at the socket directory and nothing else) and PID namespace (the
//! expected agent's), and that the probe's last record reports the workload's uid. The
//! expected agent is the workload's own unless the check names another, for scenarios whose
//! fix legitimately leaves the workload on another node.

use std::collections::BTreeMap;

use crate::engine::inspect::{ContainerConfig, MountedAt};
use crate::grader::{CheckError, Finding};
use crate::lab::Lab;
use crate::lab::spec::WorkloadSpec;

/// Compares the running container and the probe's records with the lab's plan, the
/// workload placed on `agent` (by default its own).
pub async fn check(
    lab: &Lab,
    workload: &WorkloadSpec,
    agent: Option<&str>,
) -> Result<Finding, CheckError> {
    let agent = agent.unwrap_or(&workload.agent);
    let container = lab.container(&workload.name);
    let Some(actual) = lab.engine.container_config(&container).await? else {
        return Ok(Finding::fail(vec![format!(
            "container {container} does not exist"
        )]));
    };
    let expected = expected(lab, workload, agent).await?;
    let pid_owner = match actual.pid_mode.strip_prefix("container:") {
        Some(target) => lab.engine.container_config(target).await?.map(|c| c.name),
        None => None,
    };
    let mut problems = expected.differences(&actual, pid_owner.as_deref());
    problems.extend(probe_problem(lab, workload).await?);
    Ok(match problems.is_empty() {
        true => Finding::pass(vec![format!(
            "{container} runs the probe as {} with the lab's image, command, environment \
             and mounts, in {agent}'s PID namespace",
            expected.user
        )]),
        false => Finding::fail(problems),
    })
}

async fn expected(lab: &Lab, workload: &WorkloadSpec, agent: &str) -> Result<Expected, CheckError> {
    let placed = WorkloadSpec {
        agent: agent.to_string(),
        ..workload.clone()
    };
    let plan = lab.workload_plan("", &placed);
    let agent_container = lab.container(agent);
    let agent_id = lab
        .engine
        .container_config(&agent_container)
        .await?
        .map(|c| c.id);
    let mut env = lab.engine.image_env(&plan.image).await?;
    env.extend(plan.env.iter().cloned());
    Ok(Expected {
        image: plan.image,
        user: plan.user.unwrap_or_default(),
        command: plan
            .entrypoint
            .into_iter()
            .chain(plan.cmd)
            .flatten()
            .collect(),
        env: env_map(&env),
        mounts: plan
            .mounts
            .into_iter()
            .map(|m| MountedAt {
                target: m.target,
                source: m.volume,
            })
            .collect(),
        pid_container: agent_container,
        pid_container_id: agent_id,
    })
}

async fn probe_problem(lab: &Lab, workload: &WorkloadSpec) -> Result<Option<String>, CheckError> {
    let last_uid = lab
        .probe_records(&workload.name)
        .await?
        .last()
        .map(|r| r.uid);
    Ok(match last_uid {
        Some(uid) if uid == workload.uid => None,
        Some(uid) => Some(format!(
            "the probe reports uid {uid}, expected {}",
            workload.uid
        )),
        None => Some("the probe has written no records".into()),
    })
}

/// What the workload's container should look like.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// The image reference.
    pub image: String,
    /// The user, such as `1001:1001`.
    pub user: String,
    /// Entrypoint and arguments.
    pub command: Vec<String>,
    /// Every environment variable: the image's, overridden by the plan's.
    pub env: BTreeMap<String, String>,
    /// Volume mounts.
    pub mounts: Vec<MountedAt>,
    /// The container whose PID namespace the workload joins.
    pub pid_container: String,
    /// That container's ID, as the engine records a `container:` PID mode.
    pub pid_container_id: Option<String>,
}

impl Expected {
    /// Every way `actual` differs, one line each; `pid_owner` is the name of the
    /// container whose PID namespace it joins, when known.
    pub fn differences(&self, actual: &ContainerConfig, pid_owner: Option<&str>) -> Vec<String> {
        let mut problems = Vec::new();
        if actual.state != "running" {
            problems.push(format!("container is {}, not running", actual.state));
        }
        if actual.image != self.image {
            problems.push(format!(
                "runs image {}, expected {}",
                actual.image, self.image
            ));
        }
        if actual.user != self.user {
            problems.push(format!(
                "runs as user {:?}, expected {:?}",
                actual.user, self.user
            ));
        }
        if actual.command != self.command {
            problems.push(format!(
                "runs `{}`, expected `{}`",
                actual.command.join(" "),
                self.command.join(" ")
            ));
        }
        problems.extend(env_differences(&self.env, &env_map(&actual.env)));
        problems.extend(mount_differences(&self.mounts, &actual.mounts));
        problems.extend(self.pid_difference(&actual.pid_mode, pid_owner));
        problems
    }

    fn pid_difference(&self, pid_mode: &str, owner: Option<&str>) -> Option<String> {
        let target = pid_mode.strip_prefix("container:");
        let by_name = target == Some(self.pid_container.as_str());
        let by_id = target.is_some() && target == self.pid_container_id.as_deref();
        if by_name || by_id {
            return None;
        }
        let joined = match (target, owner) {
            (None, _) => "has a PID namespace of its own".to_string(),
            (Some(_), Some(owner)) => format!("joins {owner}'s PID namespace"),
            (Some(target), None) => format!("joins the PID namespace of {target}, which is gone"),
        };
        Some(format!("{joined}, expected {}'s", self.pid_container))
    }
}

/// `KEY=value` lines as a map; a later line for a key replaces an earlier one, as Docker
/// does when a container's variable overrides the image's.
fn env_map(lines: &[String]) -> BTreeMap<String, String> {
    lines
        .iter()
        .map(|line| match line.split_once('=') {
            Some((key, value)) => (key.to_string(), value.to_string()),
            None => (line.clone(), String::new()),
        })
        .collect()
}

fn env_differences(
    expected: &BTreeMap<String, String>,
    actual: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (key, want) in expected {
        match actual.get(key) {
            Some(have) if have == want => {}
            Some(have) => problems.push(format!("env {key}={have}, expected {want}")),
            None => problems.push(format!("env {key} is not set, expected {want}")),
        }
    }
    for (key, have) in actual {
        if !expected.contains_key(key) {
            problems.push(format!("env {key}={have} is set; the lab does not set it"));
        }
    }
    problems
}

fn mount_differences(expected: &[MountedAt], actual: &[MountedAt]) -> Vec<String> {
    let mut problems = Vec::new();
    for want in expected {
        match actual.iter().find(|m| m.target == want.target) {
            Some(have) if have.source == want.source => {}
            Some(have) => problems.push(format!(
                "{} mounts {}, expected {}",
                want.target, have.source, want.source
            )),
            None => problems.push(format!(
                "nothing is mounted at {}, expected {}",
                want.target, want.source
            )),
        }
    }
    for have in actual {
        if !expected.iter().any(|m| m.target == have.target) {
            problems.push(format!(
                "{} mounts {}; the lab mounts nothing there",
                have.target, have.source
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOCKET: &str = "unix:///run/spire/sockets/agent.sock";

    fn expected() -> Expected {
        let env = [
            format!("SPIFFE_ENDPOINT_SOCKET={SOCKET}"),
            "PATH=/bin".into(),
        ];
        Expected {
            image: "spirelab/workload:0.1.0".into(),
            user: "1001:1001".into(),
            command: vec!["/usr/local/bin/spirelab-probe".into(), "watch".into()],
            env: env_map(&env),
            mounts: vec![mount("/run/spire/sockets", "spirelab-l-agent-1-socket")],
            pid_container: "spirelab-l-agent-1".into(),
            pid_container_id: Some("abc123".into()),
        }
    }

    fn mount(target: &str, source: &str) -> MountedAt {
        MountedAt {
            target: target.into(),
            source: source.into(),
        }
    }

    /// The container as the engine reports it right after `up`.
    fn as_planned() -> ContainerConfig {
        ContainerConfig {
            name: "spirelab-l-workload-1".into(),
            id: "def456".into(),
            state: "running".into(),
            image: "spirelab/workload:0.1.0".into(),
            user: "1001:1001".into(),
            command: vec!["/usr/local/bin/spirelab-probe".into(), "watch".into()],
            env: vec![
                format!("SPIFFE_ENDPOINT_SOCKET={SOCKET}"),
                "PATH=/bin".into(),
            ],
            mounts: vec![mount("/run/spire/sockets", "spirelab-l-agent-1-socket")],
            pid_mode: "container:abc123".into(),
        }
    }

    #[test]
    fn the_planned_container_is_intact_whether_pid_mode_names_the_agent_by_id_or_name() {
        assert_eq!(
            expected().differences(&as_planned(), None),
            Vec::<String>::new()
        );
        let by_name = ContainerConfig {
            pid_mode: "container:spirelab-l-agent-1".into(),
            ..as_planned()
        };
        assert!(expected().differences(&by_name, None).is_empty());
    }

    #[test]
    fn every_difference_is_reported() {
        let changed = ContainerConfig {
            state: "exited".into(),
            user: "1000:1000".into(),
            command: vec!["sleep".into(), "infinity".into()],
            env: vec![
                "SPIFFE_ENDPOINT_SOCKET=unix:///run/spire/sockets/api.sock".into(),
                "LD_PRELOAD=/x.so".into(),
            ],
            mounts: vec![
                mount("/run/spire/sockets", "spirelab-l-agent-2-socket"),
                mount("/host", "bind /"),
            ],
            pid_mode: "container:fff".into(),
            ..as_planned()
        };
        let problems = expected().differences(&changed, Some("spirelab-l-agent-2"));
        assert_eq!(
            problems,
            [
                "container is exited, not running",
                "runs as user \"1000:1000\", expected \"1001:1001\"",
                "runs `sleep infinity`, expected `/usr/local/bin/spirelab-probe watch`",
                "env PATH is not set, expected /bin",
                "env SPIFFE_ENDPOINT_SOCKET=unix:///run/spire/sockets/api.sock, expected \
                 unix:///run/spire/sockets/agent.sock",
                "env LD_PRELOAD=/x.so is set; the lab does not set it",
                "/run/spire/sockets mounts spirelab-l-agent-2-socket, expected \
                 spirelab-l-agent-1-socket",
                "/host mounts bind /; the lab mounts nothing there",
                "joins spirelab-l-agent-2's PID namespace, expected spirelab-l-agent-1's",
            ]
        );
    }

    #[test]
    fn a_missing_socket_mount_and_an_own_pid_namespace_are_reported() {
        let changed = ContainerConfig {
            mounts: Vec::new(),
            pid_mode: String::new(),
            ..as_planned()
        };
        assert_eq!(
            expected().differences(&changed, None),
            [
                "nothing is mounted at /run/spire/sockets, expected spirelab-l-agent-1-socket",
                "has a PID namespace of its own, expected spirelab-l-agent-1's",
            ]
        );
    }
}
