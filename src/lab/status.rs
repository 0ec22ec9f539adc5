//! What a running lab looks like now: each component's state and, per workload, the SVID
//! its probe last saw.

use serde::Serialize;
use time::OffsetDateTime;

use super::grafana::GRAFANA_PORT;
use super::paths::PROMETHEUS_PORT;
use super::{Lab, LabError};
use crate::probe::{Event, Record};

/// A lab's state.
#[derive(Debug, Clone, Serialize)]
pub struct LabStatus {
    /// The lab's name.
    pub lab: String,
    /// Prometheus's address on this machine, when it runs.
    pub prometheus_url: Option<String>,
    /// Grafana's address on this machine, when it runs.
    pub grafana_url: Option<String>,
    /// Every component.
    pub components: Vec<ComponentStatus>,
    /// Every workload's SVID.
    pub workloads: Vec<WorkloadStatus>,
}

/// One component's container.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentStatus {
    /// The component's name.
    pub component: String,
    /// The container's name.
    pub container: String,
    /// Docker's state word, or `missing`.
    pub state: String,
    /// Docker's status text.
    pub status: String,
}

/// What a workload's probe last reported.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadStatus {
    /// The workload's name.
    pub workload: String,
    /// The SPIFFE ID of its current SVID.
    pub spiffe_id: Option<String>,
    /// The current SVID's serial.
    pub serial: Option<String>,
    /// When the current SVID expires.
    #[serde(with = "time::serde::rfc3339::option")]
    pub not_after: Option<OffsetDateTime>,
    /// When the probe last saw a new serial replace an old one.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_rotation: Option<OffsetDateTime>,
    /// How many rotations the probe has seen.
    pub rotations: usize,
    /// The last error, if it came after the last SVID.
    pub error: Option<String>,
}

/// Reads the state of `lab`.
pub async fn status(lab: &Lab) -> Result<LabStatus, LabError> {
    let containers = lab.engine.list_containers(Some(&lab.name)).await?;
    let components = lab
        .spec
        .component_names()
        .into_iter()
        .map(|component| {
            let found = containers.iter().find(|c| c.component == component);
            ComponentStatus {
                container: lab.container(&component),
                state: found.map_or("missing".into(), |c| c.state.clone()),
                status: found.map(|c| c.status.clone()).unwrap_or_default(),
                component,
            }
        })
        .collect();
    let mut workloads = Vec::new();
    for workload in &lab.spec.workloads {
        let records = lab.probe_records(&workload.name).await.unwrap_or_default();
        workloads.push(workload_status(&workload.name, &records));
    }
    Ok(LabStatus {
        lab: lab.name.clone(),
        prometheus_url: local_url(lab, "prometheus", PROMETHEUS_PORT).await,
        grafana_url: local_url(lab, "grafana", GRAFANA_PORT).await,
        components,
        workloads,
    })
}

/// The loopback URL a component's port is published at, if it runs.
async fn local_url(lab: &Lab, component: &str, port: u16) -> Option<String> {
    let published = lab
        .engine
        .published_port(&lab.container(component), port)
        .await;
    published
        .ok()
        .flatten()
        .map(|p| format!("http://127.0.0.1:{p}"))
}

/// Summarises a probe's records.
pub fn workload_status(workload: &str, records: &[Record]) -> WorkloadStatus {
    let svids: Vec<(&Record, _)> = records
        .iter()
        .filter_map(|r| r.svid().map(|s| (r, s)))
        .collect();
    let current = svids.last();
    let error = records.last().and_then(|r| match &r.event {
        Event::Error { error, .. } => Some(error.clone()),
        Event::Svid(_) => None,
    });
    WorkloadStatus {
        workload: workload.to_string(),
        spiffe_id: current.map(|(_, s)| s.spiffe_id.clone()),
        serial: current.map(|(_, s)| s.serial.clone()),
        not_after: current.map(|(_, s)| s.not_after),
        last_rotation: (svids.len() > 1)
            .then(|| current.map(|(r, _)| r.time))
            .flatten(),
        rotations: svids.len().saturating_sub(1),
        error,
    }
}
