//! Integrity: the probe still runs as the workload's uid, so the fix changed the entry,
//! not the workload.

use crate::grader::Finding;
use crate::lab::spec::WorkloadSpec;
use crate::lab::{Lab, LabError};

/// Compares the uid in the probe's newest record with the workload's.
pub async fn check(lab: &Lab, workload: &WorkloadSpec) -> Result<Finding, LabError> {
    let records = lab.probe_records(&workload.name).await?;
    Ok(match records.last() {
        Some(record) if record.uid == workload.uid => {
            Finding::pass(vec![format!("probe runs as uid {}", record.uid)])
        }
        Some(record) => Finding::fail(vec![format!(
            "probe runs as uid {}, expected {}",
            record.uid, workload.uid
        )]),
        None => Finding::fail(vec!["the probe has written no records".into()]),
    })
}
