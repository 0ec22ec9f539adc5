//! Tearing a lab down: every container, network and volume labelled with the lab's name,
//! and nothing else. Containers that depend on another (workloads share their agent's PID
//! namespace) go first.

use std::sync::Mutex;

use futures_util::future::try_join_all;
use tokio::task::JoinHandle;

use super::{Lab, LabError, LabSpec};
use crate::engine::Engine;
use crate::engine::container::ContainerState;

/// What `down` removed.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Removed {
    /// Container names.
    pub containers: Vec<String>,
    /// Network IDs.
    pub networks: Vec<String>,
    /// Volume names.
    pub volumes: Vec<String>,
}

/// Removes everything of `lab`.
pub async fn down(lab: &Lab) -> Result<Removed, LabError> {
    remove_lab(&lab.engine, &lab.name).await
}

/// Removes everything labelled with lab `name`, dependents first so that no container
/// outlives the PID namespace it joined.
pub async fn remove_lab(engine: &Engine, name: &str) -> Result<Removed, LabError> {
    let containers = engine.list_containers(Some(name)).await?;
    let spec = super::spec_of(&containers);
    let joiners = match spec {
        Some(_) => Vec::new(),
        None => pid_joiners(engine, &containers).await?,
    };
    let (dependent, rest) = removal_order(containers, spec.as_ref(), &joiners);
    let first: Vec<&str> = dependent.iter().map(|c| c.name.as_str()).collect();
    tracing::debug!(
        lab = name,
        by_spec = spec.is_some(),
        ?first,
        "removing dependents first"
    );
    try_join_all(dependent.iter().map(|c| engine.remove_container(&c.name))).await?;
    try_join_all(rest.iter().map(|c| engine.remove_container(&c.name))).await?;

    let networks = engine.list_networks(Some(name)).await?;
    try_join_all(networks.iter().map(|n| engine.remove_network(n))).await?;
    let volumes = engine.list_volumes(Some(name)).await?;
    try_join_all(volumes.iter().map(|v| engine.remove_volume(v))).await?;

    let containers = dependent.into_iter().chain(rest).map(|c| c.name).collect();
    Ok(Removed {
        containers,
        networks,
        volumes,
    })
}

/// Splits a lab's containers into those to remove first and the rest. With the lab's
/// spec (from its server's labels) the first are its workloads and Grafana; without it
/// (the server container is gone) they are Grafana and the containers in `joiners`, those
/// that join another container's PID namespace.
pub fn removal_order(
    containers: Vec<ContainerState>,
    spec: Option<&LabSpec>,
    joiners: &[String],
) -> (Vec<ContainerState>, Vec<ContainerState>) {
    containers.into_iter().partition(|c| {
        let dependent = match spec {
            Some(spec) => spec.workload(&c.component).is_some(),
            None => joiners.contains(&c.name),
        };
        dependent || c.component == "grafana"
    })
}

/// The containers that join another container's PID namespace. The engine's container
/// list does not say, so each is inspected.
async fn pid_joiners(
    engine: &Engine,
    containers: &[ContainerState],
) -> Result<Vec<String>, LabError> {
    let mut joiners = Vec::new();
    for container in containers {
        let config = engine.container_config(&container.name).await?;
        if config.is_some_and(|c| c.pid_mode.starts_with("container:")) {
            joiners.push(container.name.clone());
        }
    }
    Ok(joiners)
}

impl Removed {
    /// "3 containers, 1 network, 5 volumes".
    pub fn summary(&self) -> String {
        let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let parts = [
            count(self.containers.len(), "container"),
            count(self.networks.len(), "network"),
            count(self.volumes.len(), "volume"),
        ];
        parts.join(", ")
    }
}

static PENDING: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

/// Keeps a clean-up started in the background so the program can wait for it to end.
pub fn track(task: JoinHandle<()>) {
    PENDING.lock().expect("clean-up list poisoned").push(task);
}

/// Waits for every clean-up started with [`track`].
pub async fn finish_pending() {
    let tasks: Vec<_> = std::mem::take(&mut *PENDING.lock().expect("clean-up list poisoned"));
    for task in tasks {
        let _ = task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(name: &str, component: &str) -> ContainerState {
        ContainerState {
            name: format!("spirelab-l-{name}"),
            component: component.into(),
            state: "running".into(),
            status: String::new(),
            labels: Default::default(),
        }
    }

    fn names(containers: &[ContainerState]) -> Vec<&str> {
        containers.iter().map(|c| c.component.as_str()).collect()
    }

    fn lab() -> Vec<ContainerState> {
        ["server", "agent-1", "api", "batch", "grafana", "prometheus"]
            .map(|c| container(c, c))
            .into()
    }

    #[test]
    fn workloads_named_anything_go_first_by_the_spec() {
        let mut spec = LabSpec::default();
        spec.workloads[0].name = "api".into();
        spec.workloads[1].name = "batch".into();
        let (first, rest) = removal_order(lab(), Some(&spec), &[]);
        assert_eq!(names(&first), ["api", "batch", "grafana"]);
        assert_eq!(names(&rest), ["server", "agent-1", "prometheus"]);
    }

    #[test]
    fn without_a_spec_pid_namespace_joiners_go_first() {
        let joiners = ["spirelab-l-api".to_string()];
        let (first, rest) = removal_order(lab(), None, &joiners);
        assert_eq!(names(&first), ["api", "grafana"]);
        assert_eq!(names(&rest), ["server", "agent-1", "batch", "prometheus"]);
    }
}
