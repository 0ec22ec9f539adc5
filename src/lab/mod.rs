//! A lab: one SPIRE server, agents attested with x509pop or join tokens, workloads running
//! the probe, and Prometheus, on a network of their own.
//!
//! This module owns the lab's shape ([`spec`]), the files it renders ([`render`], [`pki`]),
//! and its lifecycle ([`up`], [`down`], [`status`]). It names every Docker object it makes
//! after the lab ([`names`]), so several labs run side by side. It does not apply faults or grade.

pub mod agents;
pub mod clock;
pub mod components;
pub mod down;
pub mod grafana;
pub mod names;
pub mod paths;
pub mod pki;
pub mod render;
pub mod spec;
pub mod status;
pub mod up;
pub mod wait;

use std::time::Duration;

use crate::engine::container::ContainerState;
use crate::engine::{Engine, EngineError, labels};
use crate::images::ImageSet;
use crate::spire::SpireError;
pub use spec::{LabSpec, SpecError};

/// Failures bringing a lab up, inspecting it or tearing it down.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// The lab's name cannot be used in Docker object names.
    #[error("lab name {0:?} must be 1-20 lowercase letters, digits or '-'")]
    BadName(String),
    /// The lab's specification is inconsistent.
    #[error("invalid lab specification")]
    Spec(#[from] SpecError),
    /// The lab does not exist.
    #[error("lab {0} is not running; start it with `spirelab up --lab {0}`")]
    NotRunning(String),
    /// Some of the lab's containers exist and some do not.
    #[error(
        "lab {lab} is partly up ({missing}); start a stopped component with \
         `docker start spirelab-{lab}-<component>`, or remove the lab with \
         `spirelab down --lab {lab}`"
    )]
    PartlyUp {
        /// The lab.
        lab: String,
        /// The components that do not run, each with its state ("workload-1 exited").
        missing: String,
    },
    /// A container or volume the lab would create exists and is not the lab's (see
    /// [`names`]).
    #[error("{kind} {name} {}", taken_by(.owner))]
    NameTaken {
        /// `container` or `volume`.
        kind: &'static str,
        /// Its name.
        name: String,
        /// The lab it belongs to; `None` when spirelab did not make it.
        owner: Option<String>,
    },
    /// The server container carries no readable lab specification.
    #[error("lab {0} has no readable specification on its server container")]
    NoSpec(String),
    /// A condition did not come true in time.
    #[error("timed out after {waited:?} waiting for {what}{}", last_seen(.last))]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        waited: Duration,
        /// The last thing seen, as evidence.
        last: Option<String>,
    },
    /// A component did not start.
    #[error("{component} exited while starting; its log ends with:\n{log}")]
    ComponentExited {
        /// The component.
        component: String,
        /// The last lines of its log.
        log: String,
    },
    /// A clock offset was asked of something whose clock cannot be shifted.
    #[error("cannot shift {agent}'s clock in lab {lab}: {reason}")]
    ClockNotShiftable {
        /// The lab.
        lab: String,
        /// The component named.
        agent: String,
        /// Why not.
        reason: String,
    },
    /// A node's clock could not be read through its supervisor.
    #[error("failed to read {agent}'s clock: {output}")]
    Clock {
        /// The agent.
        agent: String,
        /// What `clockshift now` printed.
        output: String,
    },
    /// The x509pop certificates could not be generated.
    #[error("failed to generate x509pop certificates")]
    Pki(#[from] rcgen::Error),
    /// A Docker operation failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A SPIRE CLI call failed.
    #[error(transparent)]
    Spire(#[from] SpireError),
}

fn taken_by(owner: &Option<String>) -> String {
    match owner {
        Some(lab) => format!("belongs to lab {lab}; choose another lab name"),
        None => "exists and was not made by spirelab; remove it or choose another lab name".into(),
    }
}

fn last_seen(last: &Option<String>) -> String {
    last.as_ref()
        .map(|l| format!("; last seen: {l}"))
        .unwrap_or_default()
}

/// A handle on one lab: its name, its shape and the engine it runs on.
#[derive(Clone)]
pub struct Lab {
    /// The lab's name, part of every Docker object's name.
    pub name: String,
    /// The lab's shape.
    pub spec: LabSpec,
    /// The images its components run.
    pub images: ImageSet,
    /// The Docker engine.
    pub engine: Engine,
}

impl Lab {
    /// A handle on lab `name` with shape `spec`; nothing is created yet.
    pub fn new(
        name: &str,
        spec: LabSpec,
        images: ImageSet,
        engine: Engine,
    ) -> Result<Lab, LabError> {
        check_name(name)?;
        spec.validate()?;
        Ok(Lab {
            name: name.to_string(),
            spec,
            images,
            engine,
        })
    }

    /// Finds a running lab by name and reads its shape from its server container.
    pub async fn attach(name: &str, images: ImageSet, engine: Engine) -> Result<Lab, LabError> {
        check_name(name)?;
        let containers = engine.list_containers(Some(name)).await?;
        if !containers.iter().any(|c| c.component == "server") {
            return Err(LabError::NotRunning(name.to_string()));
        }
        let spec = spec_of(&containers).ok_or_else(|| LabError::NoSpec(name.to_string()))?;
        Ok(Lab {
            name: name.to_string(),
            spec,
            images,
            engine,
        })
    }

    /// The ID of the `up` run that made the lab, from its server's labels.
    pub async fn run_id(&self) -> Result<String, LabError> {
        let labels = self
            .engine
            .container_labels(&self.container("server"))
            .await?;
        labels
            .get(labels::RUN)
            .cloned()
            .ok_or_else(|| LabError::NotRunning(self.name.clone()))
    }

    /// The Docker name of a component's container.
    pub fn container(&self, component: &str) -> String {
        format!("spirelab-{}-{component}", self.name)
    }

    /// The lab's network.
    pub fn network(&self) -> String {
        format!("spirelab-{}", self.name)
    }

    /// A named volume of a component, such as its data or socket directory.
    pub fn volume(&self, component: &str, purpose: &str) -> String {
        format!("spirelab-{}-{component}-{purpose}", self.name)
    }
}

/// The lab's spec, read from the labels of its server container among `containers`.
pub fn spec_of(containers: &[ContainerState]) -> Option<LabSpec> {
    let server = containers.iter().find(|c| c.component == "server")?;
    let json = server.labels.get(labels::SPEC)?;
    serde_json::from_str(json).ok()
}

/// Checks that `name` can be part of Docker object names and file names. Names of two labs
/// can still produce the same object name; `up` rules that out ([`names`]).
pub fn check_name(name: &str) -> Result<(), LabError> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if (1..=20).contains(&name.len()) && name.chars().all(allowed) && !name.starts_with('-') {
        Ok(())
    } else {
        Err(LabError::BadName(name.to_string()))
    }
}
