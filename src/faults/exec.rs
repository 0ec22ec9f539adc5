//! Running a command in a component, for faults no other step expresses.

use super::FaultError;
use crate::lab::Lab;
use crate::scenario::model::Exec;

/// Runs the step's command; a non-zero exit fails the step.
pub async fn exec(lab: &Lab, step: &Exec) -> Result<(), FaultError> {
    let component = &step.component.value;
    let command: Vec<&str> = step.command.iter().map(String::as_str).collect();
    let output = lab
        .engine
        .exec(&lab.container(component), &command, step.user.as_deref())
        .await?;
    if output.success() {
        return Ok(());
    }
    Err(FaultError::Exec {
        component: component.clone(),
        command: step.command.join(" "),
        code: output.exit_code,
        output: output.combined(),
    })
}
