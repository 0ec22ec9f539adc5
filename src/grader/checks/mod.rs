//! The kinds of check, one file each; [`run`] is where they are dispatched from.

pub mod entry_pinned;
pub mod fetch;
pub mod probe_error;
pub mod rotation;
pub mod runs_as;
pub mod svid;

use super::{Finding, GradeOptions};
use crate::lab::Lab;
use crate::lab::spec::WorkloadSpec;
use crate::scenario::Check;

/// Runs `check` about `workload`; errors talking to the lab become failed findings with
/// the error as evidence.
pub async fn run(
    lab: &Lab,
    workload: &WorkloadSpec,
    check: &Check,
    options: GradeOptions,
) -> Finding {
    let outcome = match check {
        Check::Svid(_) => svid::check(lab, workload, options).await,
        Check::Rotation(_) => rotation::check(lab, workload, options).await,
        Check::EntryPinned(_) => entry_pinned::check(lab, workload).await,
        Check::RunsAs(_) => runs_as::check(lab, workload).await,
        Check::FetchFails(symptom) => fetch::fails_with(lab, workload, &symptom.contains).await,
        Check::ProbeError(symptom) => {
            probe_error::check(lab, workload, &symptom.contains, options).await
        }
    };
    outcome.unwrap_or_else(|error| {
        Finding::fail(vec![format!("could not check: {}", error_chain(&error))])
    })
}

/// An error with its causes, for evidence.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    crate::probe::watch::error_chain(error)
}
