//! Fault steps: the building blocks that break a lab and fix it again.
//!
//! Each kind of step lives in its own file; [`apply`] is the one place they are
//! dispatched from. Steps change the lab only through Docker and SPIRE's CLIs, the same
//! way a learner could, and never grade anything.

pub mod entry;
pub mod restart;

use crate::lab::{Lab, LabError};
use crate::scenario::Step;
use crate::spire::SpireError;

/// Failures applying a step.
#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    /// The workload has no registration entry to change.
    #[error("workload {workload} has no registration entry for {spiffe_id}")]
    NoEntry {
        /// The workload.
        workload: String,
        /// Its SPIFFE ID.
        spiffe_id: String,
    },
    /// A SPIRE CLI call failed.
    #[error("failed to change registration entries")]
    Spire(#[from] SpireError),
    /// A lab operation failed.
    #[error(transparent)]
    Lab(#[from] LabError),
}

/// Applies one step to `lab`.
pub async fn apply(lab: &Lab, step: &Step) -> Result<(), FaultError> {
    tracing::info!(lab = %lab.name, ?step, "applying step");
    match step {
        Step::EntryUpdate(update) => entry::update(lab, update).await,
        Step::EntryRestore(target) => entry::restore(lab, &target.workload.value).await,
        Step::EntryDelete(target) => entry::delete(lab, &target.workload.value).await,
        Step::Restart(target) => restart::restart(lab, &target.component.value).await,
        Step::Wait(duration) => {
            tokio::time::sleep(*duration).await;
            Ok(())
        }
    }
}

/// Applies `steps` in order, stopping at the first failure.
pub async fn apply_all(lab: &Lab, steps: &[Step]) -> Result<(), FaultError> {
    for step in steps {
        apply(lab, step).await?;
    }
    Ok(())
}
