//! Waiting until a check passes, so a scenario can order steps on real conditions.

use super::FaultError;
use crate::grader::{self, GradeOptions};
use crate::lab::wait::{self, Poll};
use crate::lab::{Lab, LabError};
use crate::scenario::model::WaitFor;

/// Polls the step's check until it passes or its bound runs out.
pub async fn wait_for(lab: &Lab, step: &WaitFor) -> Result<(), FaultError> {
    let check = &step.check;
    let label = format!("{} {}", check.kind(), check.subject_text());
    let options = GradeOptions {
        since: None,
        wait: false,
    };
    let poll = || async {
        let result = grader::run_check(lab, check, options).await;
        Ok(match result.passed {
            true => Poll::Ready(()),
            false => Poll::Pending(result.evidence.join("; ")),
        })
    };
    match wait::until(&label, step.within.value, poll).await {
        Ok(()) => Ok(()),
        Err(LabError::Timeout { last, .. }) => Err(FaultError::WaitFor {
            check: label,
            within: step.within.value,
            evidence: last.unwrap_or_default(),
        }),
        Err(error) => Err(error.into()),
    }
}
