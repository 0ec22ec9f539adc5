//! Loading a Prometheus rules file into the lab's Prometheus, the way a learner does with
//! `spirelab rules load`: a scenario's reference answer to a monitoring exercise, or a wrong
//! answer the grade must catch.

use super::FaultError;
use crate::lab::Lab;
use crate::prometheus::rules;
use crate::scenario::model::RulesStep;

/// Checks, installs and reloads the step's file, and waits until its groups evaluate.
pub async fn load(lab: &Lab, step: &RulesStep) -> Result<(), FaultError> {
    let source = step
        .source
        .as_ref()
        .expect("scenario loading reads every rules file");
    let installed = rules::install(lab, source).await?;
    tracing::info!(lab = %lab.name, "{}", installed.summary());
    Ok(())
}
