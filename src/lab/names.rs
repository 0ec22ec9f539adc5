//! The Docker names a lab's objects take, and the guard that keeps two labs apart.
//!
//! Objects are named `spirelab-<lab>-<component>` (volumes add `-<purpose>`), and both lab
//! and component names may contain '-', so lab `a-agent` with agent `1` would name its
//! container like lab `a`'s `agent-1`, and its volumes too. The engine refuses a second
//! container of a name, but it hands out an existing volume to whoever creates it again:
//! one lab would silently use another's agent data or Workload API socket. `up` therefore
//! checks first that no object it is about to create exists for another lab (or outside
//! spirelab), and fails before creating anything.

use super::{Lab, LabError};
use crate::engine::inspect::NamedObject;

impl Lab {
    /// The names of every container the lab can have, Grafana's included.
    pub fn container_names(&self) -> Vec<String> {
        let components = self.spec.component_names().into_iter();
        let names = components.chain(["grafana".to_string()]);
        names.map(|c| self.container(&c)).collect()
    }

    /// The names of every volume the lab creates: the server's data, and each agent's data
    /// and socket directory.
    pub fn volume_names(&self) -> Vec<String> {
        let agents =
            self.spec.agents.iter().flat_map(|agent| {
                ["data", "socket"].map(|purpose| self.volume(&agent.name, purpose))
            });
        std::iter::once(self.volume("server", "data"))
            .chain(agents)
            .collect()
    }

    /// Fails when a container or volume the lab would create exists and is not the lab's.
    pub async fn require_names_free(&self) -> Result<(), LabError> {
        let prefix = format!("spirelab-{}-", self.name);
        let containers = self.engine.containers_named(&prefix).await?;
        if let Some(taken) = taken(
            &self.name,
            "container",
            &self.container_names(),
            &containers,
        ) {
            return Err(taken);
        }
        let volumes = self.engine.volumes_named(&prefix).await?;
        match taken(&self.name, "volume", &self.volume_names(), &volumes) {
            Some(taken) => Err(taken),
            None => Ok(()),
        }
    }
}

/// The first of `wanted` that exists among `existing` and does not belong to lab `lab`.
pub fn taken(
    lab: &str,
    kind: &'static str,
    wanted: &[String],
    existing: &[NamedObject],
) -> Option<LabError> {
    let foreign = existing
        .iter()
        .filter(|object| object.lab.as_deref() != Some(lab))
        .find(|object| wanted.contains(&object.name))?;
    Some(LabError::NameTaken {
        kind,
        name: foreign.name.clone(),
        owner: foreign.lab.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(name: &str, lab: Option<&str>) -> NamedObject {
        NamedObject {
            name: name.into(),
            lab: lab.map(String::from),
        }
    }

    fn wanted() -> Vec<String> {
        [
            "spirelab-a-agent-server",
            "spirelab-a-agent-1",
            "spirelab-a-agent-2",
        ]
        .map(String::from)
        .into()
    }

    #[test]
    fn another_labs_container_of_the_same_name_is_reported_with_its_lab() {
        let existing = [
            object("spirelab-a-agent-1", Some("a")),
            object("spirelab-a-agent-1-extra", Some("a")),
        ];
        let error = taken("a-agent", "container", &wanted(), &existing).unwrap();
        assert_eq!(
            error.to_string(),
            "container spirelab-a-agent-1 belongs to lab a; choose another lab name"
        );
    }

    #[test]
    fn objects_spirelab_did_not_make_are_reported_too() {
        let existing = [object("spirelab-a-agent-2", None)];
        let error = taken("a-agent", "volume", &wanted(), &existing).unwrap();
        assert_eq!(
            error.to_string(),
            "volume spirelab-a-agent-2 exists and was not made by spirelab; remove it or \
             choose another lab name"
        );
    }

    #[test]
    fn the_labs_own_objects_and_unrelated_names_are_fine() {
        let existing = [
            object("spirelab-a-agent-1", Some("a-agent")),
            object("spirelab-a-agent-9", Some("a")),
        ];
        assert!(taken("a-agent", "container", &wanted(), &existing).is_none());
    }
}
