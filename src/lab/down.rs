//! Tearing a lab down: every container, network and volume labelled with the lab's name,
//! and nothing else.

use std::sync::Mutex;

use futures_util::future::try_join_all;
use tokio::task::JoinHandle;

use super::{Lab, LabError};
use crate::engine::Engine;

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

/// Removes everything labelled with lab `name`, workloads first so that no container
/// outlives the PID namespace it joined.
pub async fn remove_lab(engine: &Engine, name: &str) -> Result<Removed, LabError> {
    let containers = engine.list_containers(Some(name)).await?;
    let (dependent, rest): (Vec<_>, Vec<_>) = containers
        .into_iter()
        .partition(|c| c.component.starts_with("workload") || c.name.contains("grafana"));
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
