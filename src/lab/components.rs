//! What each component's container looks like: image, command, user, mounts, network.
//!
//! `up` creates containers from these plans, and fault steps that recreate a container
//! start from the same plan and change one thing.

use std::collections::HashMap;

use super::Lab;
use super::LabError;
use super::clock::{CLOCKSHIFT_BIN, OFFSET_FILE};
use super::paths::*;
use super::spec::{NodeAttestor, WorkloadSpec};
use crate::engine::container::{ContainerPlan, VolumeMount};
use crate::engine::files::FileSpec;
use crate::engine::labels;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl Lab {
    fn labels(&self, run: &str, component: &str) -> HashMap<String, String> {
        let mut labels = labels::for_lab(&self.name, run);
        labels.insert(labels::COMPONENT.into(), component.into());
        labels
    }

    fn plan(&self, run: &str, component: &str, image: &str) -> ContainerPlan {
        ContainerPlan {
            name: self.container(component),
            image: image.to_string(),
            network: Some((self.network(), component.to_string())),
            labels: self.labels(run, component),
            ..Default::default()
        }
    }

    /// The SPIRE server; its labels carry the lab's spec so later commands can find it.
    pub fn server_plan(&self, run: &str) -> ContainerPlan {
        let mut plan = self.plan(run, "server", &self.images.server.image);
        plan.entrypoint = Some(strings(&[SPIRE_SERVER_BIN, "run", "-config", SERVER_CONF]));
        plan.user = Some("0".into());
        plan.mounts = vec![VolumeMount {
            volume: self.volume("server", "data"),
            target: SERVER_DATA.into(),
        }];
        let spec = serde_json::to_string(&self.spec).expect("specs always serialize");
        plan.labels.insert(labels::SPEC.into(), spec);
        plan
    }

    /// A SPIRE agent under the clock supervisor, running as root so the unix attestor can
    /// inspect callers, and restarted if it exits (as it does when its SVID expires).
    pub fn agent_plan(&self, run: &str, agent: &str) -> ContainerPlan {
        let mut plan = self.plan(run, agent, &self.images.agent.image);
        let agent_cmd = [SPIRE_AGENT_BIN, "run", "-config", AGENT_CONF];
        let supervisor = [CLOCKSHIFT_BIN, "--offset-file", OFFSET_FILE, "--"];
        let entrypoint: Vec<&str> = match self.spec.clock_supervisor {
            true => supervisor.iter().chain(&agent_cmd).copied().collect(),
            false => agent_cmd.to_vec(),
        };
        plan.entrypoint = Some(strings(&entrypoint));
        plan.user = Some("0".into());
        plan.restart = true;
        plan.mounts = vec![
            VolumeMount {
                volume: self.volume(agent, "data"),
                target: AGENT_DATA.into(),
            },
            VolumeMount {
                volume: self.volume(agent, "socket"),
                target: SOCKET_DIR.into(),
            },
        ];
        plan
    }

    /// A workload: the probe, as the workload's uid, in its agent's PID namespace (so the
    /// agent can attest it) with the agent's socket directory mounted.
    pub fn workload_plan(&self, run: &str, workload: &WorkloadSpec) -> ContainerPlan {
        let mut plan = self.plan(run, &workload.name, &self.images.workload.image);
        plan.entrypoint = Some(strings(&[PROBE_BIN, "watch", "--name", &workload.name]));
        plan.env = vec![format!("SPIFFE_ENDPOINT_SOCKET=unix://{SOCKET}")];
        plan.user = Some(format!("{0}:{0}", workload.uid));
        plan.pid_mode = Some(format!("container:{}", self.container(&workload.agent)));
        plan.mounts = vec![VolumeMount {
            volume: self.volume(&workload.agent, "socket"),
            target: SOCKET_DIR.into(),
        }];
        plan.restart = true;
        plan
    }

    /// Prometheus, published on a loopback port the engine picks.
    pub fn prometheus_plan(&self, run: &str) -> ContainerPlan {
        let mut plan = self.plan(run, "prometheus", &self.images.prometheus.image);
        plan.entrypoint = Some(strings(&[
            PROMETHEUS_BIN,
            &format!("--config.file={PROMETHEUS_CONF}"),
            "--storage.tsdb.path=/prometheus",
            &format!("--web.listen-address=0.0.0.0:{PROMETHEUS_PORT}"),
            "--web.enable-lifecycle",
        ]));
        plan.user = Some("0".into());
        plan.publish = vec![PROMETHEUS_PORT];
        plan
    }
}

impl Lab {
    /// The lab's plan for component `name`, labelled with `run`; `None` for a name the lab
    /// does not have.
    pub fn plan_for(&self, name: &str, run: &str) -> Option<ContainerPlan> {
        match name {
            "server" => Some(self.server_plan(run)),
            "prometheus" => Some(self.prometheus_plan(run)),
            _ if self.spec.agent(name).is_some() => Some(self.agent_plan(run, name)),
            _ => self.spec.workload(name).map(|w| self.workload_plan(run, w)),
        }
    }

    /// The files a component's container holds that are not in its image: configs, keys,
    /// the trust bundle. A recreated container gets them back.
    pub fn component_files(&self, name: &str) -> &'static [&'static str] {
        match name {
            "server" => &[SERVER_CONF, X509POP_CA],
            // TODO: rule files a learner installed in PROMETHEUS_RULES_DIR are not carried
            // over when Prometheus is recreated; no scenario recreates it yet.
            "prometheus" => &[PROMETHEUS_CONF, PROMETHEUS_RULES, PROMETHEUS_RULES_README],
            _ => match self.spec.agent(name).map(|a| a.node_attestor) {
                Some(NodeAttestor::X509pop) => &[AGENT_CONF, AGENT_CERT, AGENT_KEY, AGENT_BUNDLE],
                Some(NodeAttestor::JoinToken) => &[AGENT_CONF, AGENT_BUNDLE],
                None => &[],
            },
        }
    }

    /// Creates a container from `plan`, copies `files` into it and starts it.
    pub async fn start_component(
        &self,
        plan: &ContainerPlan,
        files: &[FileSpec],
    ) -> Result<(), LabError> {
        tracing::info!(lab = %self.name, container = %plan.name, "starting");
        self.engine.create_container(plan).await?;
        if !files.is_empty() {
            self.engine.upload_files(&plan.name, files).await?;
        }
        self.engine.start_container(&plan.name).await?;
        Ok(())
    }
}
