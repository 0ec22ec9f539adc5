//! Shifting an agent's wall clock through its supervisor.

use super::FaultError;
use crate::lab::Lab;
use crate::lab::clock::parse_offset;
use crate::scenario::model::ClockStep;

/// Sets the agent's offset; validation already checked the offset parses.
pub async fn set(lab: &Lab, step: &ClockStep) -> Result<(), FaultError> {
    let seconds = parse_offset(&step.offset.value).expect("validated offset");
    lab.set_clock_offset(&step.component.value, seconds).await?;
    Ok(())
}
