//! Reading back how a container, an image or a name on the engine is configured: what
//! integrity checks compare with a lab's plan, and what `up` and `down` need to know
//! about objects that already exist.

use std::collections::HashMap;

use bollard::query_parameters::ListVolumesOptions;
use bollard::query_parameters::{InspectContainerOptions, ListContainersOptions};

use super::{Engine, EngineError, is_not_found, labels};

/// A container's configuration as the engine reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerConfig {
    /// The container's name, without the leading slash.
    pub name: String,
    /// The container's ID.
    pub id: String,
    /// Docker's state word: running, exited, paused, restarting, ...
    pub state: String,
    /// The image reference it was created from, such as `spirelab/workload:0.1.0`.
    pub image: String,
    /// The configured user, such as `1001:1001`; empty for the image's default.
    pub user: String,
    /// Entrypoint followed by command: the process the container runs.
    pub command: Vec<String>,
    /// Environment variables as `KEY=value`, the image's included.
    pub env: Vec<String>,
    /// What is mounted where.
    pub mounts: Vec<MountedAt>,
    /// The PID namespace setting, such as `container:<id>`; empty for its own.
    pub pid_mode: String,
}

/// One mount of a container.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MountedAt {
    /// The path inside the container.
    pub target: String,
    /// A volume's name, or `bind <host path>` (or another type and its source).
    pub source: String,
}

/// An object on the engine and the lab its spirelab labels name, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedObject {
    /// Its name.
    pub name: String,
    /// The value of its lab label; `None` when spirelab did not make it.
    pub lab: Option<String>,
}

impl Engine {
    /// The configuration of container `name`; `None` when there is no such container.
    pub async fn container_config(
        &self,
        name: &str,
    ) -> Result<Option<ContainerConfig>, EngineError> {
        let info = match self
            .docker()
            .inspect_container(name, None::<InspectContainerOptions>)
            .await
        {
            Ok(info) => info,
            Err(error) if is_not_found(&error) => return Ok(None),
            Err(error) => return Err(EngineError::call("inspect container", name)(error)),
        };
        let config = info.config.unwrap_or_default();
        let mounts = info.mounts.unwrap_or_default().into_iter().map(|m| {
            let kind = m.typ.unwrap_or_default();
            let source = match (kind.as_str(), m.name) {
                ("volume", Some(volume)) => volume,
                _ => format!("{kind} {}", m.source.unwrap_or_default()),
            };
            MountedAt {
                target: m.destination.unwrap_or_default(),
                source,
            }
        });
        let command = config.entrypoint.into_iter().flatten();
        Ok(Some(ContainerConfig {
            name: info.name.unwrap_or_default().trim_start_matches('/').into(),
            id: info.id.unwrap_or_default(),
            state: info
                .state
                .and_then(|s| s.status)
                .map(|s| s.to_string())
                .unwrap_or_default(),
            image: config.image.unwrap_or_default(),
            user: config.user.unwrap_or_default(),
            command: command.chain(config.cmd.into_iter().flatten()).collect(),
            env: config.env.unwrap_or_default(),
            mounts: mounts.collect(),
            pid_mode: info
                .host_config
                .and_then(|h| h.pid_mode)
                .unwrap_or_default(),
        }))
    }

    /// The environment an image gives its containers, as `KEY=value`.
    pub async fn image_env(&self, image: &str) -> Result<Vec<String>, EngineError> {
        let info = self
            .docker()
            .inspect_image(image)
            .await
            .map_err(EngineError::call("inspect image", image))?;
        Ok(info.config.and_then(|c| c.env).unwrap_or_default())
    }

    /// Every container whose name starts with `prefix`, whoever made it.
    pub async fn containers_named(&self, prefix: &str) -> Result<Vec<NamedObject>, EngineError> {
        let options = ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([("name".into(), vec![prefix.to_string()])])),
            ..Default::default()
        };
        let found = self
            .docker()
            .list_containers(Some(options))
            .await
            .map_err(EngineError::call("list containers named", prefix))?;
        let objects = found.into_iter().flat_map(|c| {
            let lab = c.labels.as_ref().and_then(labels::lab_of);
            let names = c.names.unwrap_or_default().into_iter();
            names.map(move |name| NamedObject {
                name: name.trim_start_matches('/').to_string(),
                lab: lab.clone(),
            })
        });
        Ok(objects.filter(|o| o.name.starts_with(prefix)).collect())
    }

    /// Every volume whose name starts with `prefix`, whoever made it.
    pub async fn volumes_named(&self, prefix: &str) -> Result<Vec<NamedObject>, EngineError> {
        let options = ListVolumesOptions {
            filters: Some(HashMap::from([("name".into(), vec![prefix.to_string()])])),
        };
        let found = self
            .docker()
            .list_volumes(Some(options))
            .await
            .map_err(EngineError::call("list volumes named", prefix))?;
        let volumes = found.volumes.unwrap_or_default().into_iter();
        let objects = volumes.map(|v| NamedObject {
            lab: labels::lab_of(&v.labels),
            name: v.name,
        });
        Ok(objects.filter(|o| o.name.starts_with(prefix)).collect())
    }
}
