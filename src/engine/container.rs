//! Creating, starting, listing and removing containers.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, ContainerSummary, EndpointSettings, HostConfig, Mount, MountType,
    NetworkingConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters::{
    CreateContainerOptions, InspectContainerOptions, ListContainersOptions, RemoveContainerOptions,
    StopContainerOptions,
};

use super::{Engine, EngineError, is_not_found, labels};

/// A volume mounted into a container.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeMount {
    /// The volume's name.
    pub volume: String,
    /// Where it appears inside the container.
    pub target: String,
}

/// Everything needed to create one container of a lab.
#[derive(Debug, Clone, Default)]
pub struct ContainerPlan {
    /// The container's name, unique on the engine.
    pub name: String,
    /// The image to run.
    pub image: String,
    /// The entrypoint, replacing the image's.
    pub entrypoint: Option<Vec<String>>,
    /// The command, replacing the image's default when set.
    pub cmd: Option<Vec<String>>,
    /// Environment variables as `KEY=value`.
    pub env: Vec<String>,
    /// The user to run as, such as `1001` or `1001:1001`.
    pub user: Option<String>,
    /// Volumes to mount.
    pub mounts: Vec<VolumeMount>,
    /// Join another container's PID namespace (`container:NAME`).
    pub pid_mode: Option<String>,
    /// The network to attach to, and the short host name others reach it by.
    pub network: Option<(String, String)>,
    /// Container TCP ports to publish on 127.0.0.1 at a port the engine picks.
    pub publish: Vec<u16>,
    /// Restart the container when it exits (for workloads that share an agent's PID
    /// namespace and die with it).
    pub restart: bool,
    /// Labels, including spirelab's own (see [`labels`]).
    pub labels: HashMap<String, String>,
}

impl ContainerPlan {
    fn host_config(&self) -> HostConfig {
        let mounts = self.mounts.iter().map(|m| Mount {
            typ: Some(MountType::VOLUME),
            source: Some(m.volume.clone()),
            target: Some(m.target.clone()),
            ..Default::default()
        });
        let ports = self.publish.iter().map(|port| {
            let binding = PortBinding {
                host_ip: Some("127.0.0.1".into()),
                host_port: Some(String::new()),
            };
            (format!("{port}/tcp"), Some(vec![binding]))
        });
        HostConfig {
            mounts: Some(mounts.collect()),
            pid_mode: self.pid_mode.clone(),
            port_bindings: Some(ports.collect()),
            network_mode: self.network.as_ref().map(|(network, _)| network.clone()),
            init: Some(self.pid_mode.is_none()),
            restart_policy: self.restart.then_some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
                maximum_retry_count: None,
            }),
            ..Default::default()
        }
    }

    fn networking(&self) -> Option<NetworkingConfig> {
        let (network, alias) = self.network.as_ref()?;
        let endpoint = EndpointSettings {
            aliases: Some(vec![alias.clone()]),
            ..Default::default()
        };
        Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(network.clone(), endpoint)])),
        })
    }

    fn body(&self) -> ContainerCreateBody {
        let exposed = self.publish.iter().map(|port| format!("{port}/tcp"));
        ContainerCreateBody {
            image: Some(self.image.clone()),
            entrypoint: self.entrypoint.clone(),
            cmd: self.cmd.clone(),
            env: Some(self.env.clone()),
            user: self.user.clone(),
            hostname: self.network.as_ref().map(|(_, alias)| alias.clone()),
            labels: Some(self.labels.clone()),
            exposed_ports: Some(exposed.collect()),
            host_config: Some(self.host_config()),
            networking_config: self.networking(),
            ..Default::default()
        }
    }
}

/// The state of one container, as reports need it.
#[derive(Debug, Clone)]
pub struct ContainerState {
    /// The container's name, without the leading slash.
    pub name: String,
    /// The component label.
    pub component: String,
    /// Docker's state word: running, exited, paused, created, ...
    pub state: String,
    /// Docker's human status, such as "Up 3 minutes".
    pub status: String,
    /// All labels.
    pub labels: HashMap<String, String>,
}

impl Engine {
    /// Creates a container from `plan`; the image must already be present.
    pub async fn create_container(&self, plan: &ContainerPlan) -> Result<(), EngineError> {
        self.require_image(&plan.image).await?;
        let options = CreateContainerOptions {
            name: Some(plan.name.clone()),
            ..Default::default()
        };
        self.docker()
            .create_container(Some(options), plan.body())
            .await
            .map_err(EngineError::call("create container", &plan.name))?;
        Ok(())
    }

    /// Starts a created container.
    pub async fn start_container(&self, name: &str) -> Result<(), EngineError> {
        self.docker()
            .start_container(name, None)
            .await
            .map_err(|source| {
                if source.to_string().contains("port is already allocated") {
                    EngineError::PortInUse {
                        container: name.to_string(),
                        source,
                    }
                } else {
                    EngineError::call("start container", name)(source)
                }
            })
    }

    /// Stops a container, giving it `grace_secs` before it is killed.
    pub async fn stop_container(&self, name: &str, grace_secs: i32) -> Result<(), EngineError> {
        let options = StopContainerOptions {
            t: Some(grace_secs),
            signal: None,
        };
        self.docker()
            .stop_container(name, Some(options))
            .await
            .map_err(EngineError::call("stop container", name))
    }

    /// Restarts a container.
    pub async fn restart_container(&self, name: &str) -> Result<(), EngineError> {
        self.docker()
            .restart_container(name, None)
            .await
            .map_err(EngineError::call("restart container", name))
    }

    /// Removes a container and its anonymous volumes; a missing container is not an error.
    pub async fn remove_container(&self, name: &str) -> Result<(), EngineError> {
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            ..Default::default()
        };
        match self.docker().remove_container(name, Some(options)).await {
            Err(error) if !is_not_found(&error) => {
                Err(EngineError::call("remove container", name)(error))
            }
            _ => Ok(()),
        }
    }

    /// Every container spirelab made for `lab` (or for any lab), running or not.
    pub async fn list_containers(
        &self,
        lab: Option<&str>,
    ) -> Result<Vec<ContainerState>, EngineError> {
        let options = ListContainersOptions {
            all: true,
            filters: Some(labels::filter(lab)),
            ..Default::default()
        };
        let found =
            self.docker()
                .list_containers(Some(options))
                .await
                .map_err(EngineError::call(
                    "list containers of lab",
                    lab.unwrap_or("*"),
                ))?;
        Ok(found.into_iter().map(container_state).collect())
    }

    /// The host port that `container_port` of a running container is published on.
    pub async fn published_port(
        &self,
        name: &str,
        container_port: u16,
    ) -> Result<Option<u16>, EngineError> {
        let info = self
            .docker()
            .inspect_container(name, None::<InspectContainerOptions>)
            .await
            .map_err(EngineError::call("inspect container", name))?;
        let port = info
            .network_settings
            .and_then(|settings| settings.ports)
            .and_then(|ports| {
                ports
                    .get(&format!("{container_port}/tcp"))
                    .cloned()
                    .flatten()
            })
            .and_then(|bindings| bindings.into_iter().find_map(|b| b.host_port))
            .and_then(|port| port.parse().ok());
        Ok(port)
    }

    /// Fails with [`EngineError::MissingImage`] unless `image` is present locally.
    pub async fn require_image(&self, image: &str) -> Result<(), EngineError> {
        match self.docker().inspect_image(image).await {
            Ok(_) => Ok(()),
            Err(error) if is_not_found(&error) => Err(EngineError::MissingImage {
                image: image.to_string(),
                remedy: "run `spirelab images build`".into(),
            }),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 400, ..
            }) => Err(EngineError::BadImageReference {
                image: image.to_string(),
            }),
            Err(error) => Err(EngineError::call("inspect image", image)(error)),
        }
    }
}

fn container_state(summary: ContainerSummary) -> ContainerState {
    let labels = summary.labels.unwrap_or_default();
    let name = summary
        .names
        .unwrap_or_default()
        .into_iter()
        .next()
        .unwrap_or_default();
    ContainerState {
        name: name.trim_start_matches('/').to_string(),
        component: labels.get(labels::COMPONENT).cloned().unwrap_or_default(),
        state: summary.state.map(|s| s.to_string()).unwrap_or_default(),
        status: summary.status.unwrap_or_default(),
        labels,
    }
}

impl Engine {
    /// Freezes a container's processes.
    pub async fn pause_container(&self, name: &str) -> Result<(), EngineError> {
        self.docker()
            .pause_container(name)
            .await
            .map_err(EngineError::call("pause container", name))
    }

    /// Thaws a paused container.
    pub async fn unpause_container(&self, name: &str) -> Result<(), EngineError> {
        self.docker()
            .unpause_container(name)
            .await
            .map_err(EngineError::call("unpause container", name))
    }

    /// The labels a container was created with.
    pub async fn container_labels(
        &self,
        name: &str,
    ) -> Result<HashMap<String, String>, EngineError> {
        let info = self
            .docker()
            .inspect_container(name, None::<InspectContainerOptions>)
            .await
            .map_err(EngineError::call("inspect container", name))?;
        Ok(info.config.and_then(|c| c.labels).unwrap_or_default())
    }
}
