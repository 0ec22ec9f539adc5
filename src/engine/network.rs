//! Networks and volumes: created per lab, labelled, removed with the lab.

use bollard::models::{NetworkCreateRequest, VolumeCreateRequest};
use bollard::query_parameters::{ListNetworksOptions, ListVolumesOptions, RemoveVolumeOptions};

use super::inspect::NamedObject;
use super::{Engine, EngineError, is_not_found, labels};

impl Engine {
    /// Creates a bridge network unless one of that name exists.
    pub async fn ensure_network(
        &self,
        name: &str,
        lab: &str,
        run: &str,
    ) -> Result<(), EngineError> {
        if self.docker().inspect_network(name, None).await.is_ok() {
            return Ok(());
        }
        let request = NetworkCreateRequest {
            name: name.to_string(),
            driver: Some("bridge".into()),
            labels: Some(labels::for_lab(lab, run)),
            ..Default::default()
        };
        self.docker()
            .create_network(request)
            .await
            .map_err(EngineError::call("create network", name))?;
        Ok(())
    }

    /// Creates a volume unless one of that name exists, and returns the volume with the lab
    /// its labels name: an existing volume keeps its own labels.
    pub async fn ensure_volume(
        &self,
        name: &str,
        lab: &str,
        run: &str,
    ) -> Result<NamedObject, EngineError> {
        let request = VolumeCreateRequest {
            name: Some(name.to_string()),
            labels: Some(labels::for_lab(lab, run)),
            ..Default::default()
        };
        let volume = self
            .docker()
            .create_volume(request)
            .await
            .map_err(EngineError::call("create volume", name))?;
        Ok(NamedObject {
            lab: labels::lab_of(&volume.labels),
            name: volume.name,
        })
    }

    /// IDs of every network spirelab made for `lab` (or any lab); IDs, because two
    /// concurrent creations can leave two networks with one name.
    pub async fn list_networks(&self, lab: Option<&str>) -> Result<Vec<String>, EngineError> {
        let options = ListNetworksOptions {
            filters: Some(labels::filter(lab)),
        };
        let networks =
            self.docker()
                .list_networks(Some(options))
                .await
                .map_err(EngineError::call(
                    "list networks of lab",
                    lab.unwrap_or("*"),
                ))?;
        Ok(networks.into_iter().filter_map(|n| n.id).collect())
    }

    /// Names of every volume spirelab made for `lab` (or any lab).
    pub async fn list_volumes(&self, lab: Option<&str>) -> Result<Vec<String>, EngineError> {
        let options = ListVolumesOptions {
            filters: Some(labels::filter(lab)),
        };
        let volumes = self
            .docker()
            .list_volumes(Some(options))
            .await
            .map_err(EngineError::call("list volumes of lab", lab.unwrap_or("*")))?;
        Ok(volumes
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.name)
            .collect())
    }

    /// Removes a network; a missing one is not an error.
    pub async fn remove_network(&self, name: &str) -> Result<(), EngineError> {
        match self.docker().remove_network(name).await {
            Err(error) if !is_not_found(&error) => {
                Err(EngineError::call("remove network", name)(error))
            }
            _ => Ok(()),
        }
    }

    /// Removes a volume; a missing one is not an error.
    pub async fn remove_volume(&self, name: &str) -> Result<(), EngineError> {
        let options = RemoveVolumeOptions { force: true };
        match self.docker().remove_volume(name, Some(options)).await {
            Err(error) if !is_not_found(&error) => {
                Err(EngineError::call("remove volume", name)(error))
            }
            _ => Ok(()),
        }
    }
}

impl Engine {
    /// Takes a container off a network.
    pub async fn disconnect_network(
        &self,
        network: &str,
        container: &str,
    ) -> Result<(), EngineError> {
        let request = bollard::models::NetworkDisconnectRequest {
            container: container.to_string(),
            force: Some(true),
        };
        self.docker()
            .disconnect_network(network, request)
            .await
            .map_err(EngineError::call(
                "disconnect from the lab network",
                container,
            ))
    }

    /// Puts a container back on a network under its short host name.
    pub async fn connect_network(
        &self,
        network: &str,
        container: &str,
        alias: &str,
    ) -> Result<(), EngineError> {
        let endpoint = bollard::models::EndpointSettings {
            aliases: Some(vec![alias.to_string()]),
            ..Default::default()
        };
        let request = bollard::models::NetworkConnectRequest {
            container: container.to_string(),
            endpoint_config: Some(endpoint),
        };
        self.docker()
            .connect_network(network, request)
            .await
            .map_err(EngineError::call("connect to the lab network", container))
    }
}
