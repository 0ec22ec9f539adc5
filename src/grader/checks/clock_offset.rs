//! A node's clock is within a tolerance of the true time, read through its supervisor.

use std::time::Duration;

use crate::grader::{CheckError, Finding};
use crate::lab::Lab;

/// Reads the agent's offset and compares it with `tolerance`.
pub async fn check(lab: &Lab, agent: &str, tolerance: Duration) -> Result<Finding, CheckError> {
    let clock = lab.clock(agent).await?;
    let evidence = vec![format!(
        "{agent} reads {} while the true time is {} (offset {:+}s)",
        clock.node_time, clock.true_time, clock.offset_seconds
    )];
    Ok(
        match clock.offset_seconds.abs() <= tolerance.as_secs_f64() {
            true => Finding::pass(evidence),
            false => Finding::fail(evidence),
        },
    )
}
