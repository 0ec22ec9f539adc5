//! Restarting a component's container, as an operator would after changing its config.

use super::FaultError;
use crate::lab::{Lab, LabError};

/// Restarts the container of `component`.
pub async fn restart(lab: &Lab, component: &str) -> Result<(), FaultError> {
    let container = lab.container(component);
    lab.engine
        .restart_container(&container)
        .await
        .map_err(LabError::from)?;
    Ok(())
}
