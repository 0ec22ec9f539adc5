//! Fetching an SVID as the workload would: `spirelab-probe fetch` run in the workload's
//! container under its uid, through its agent's socket.

use crate::grader::CheckError;
use crate::grader::Finding;
use crate::lab::Lab;
use crate::lab::LabError;
use crate::lab::paths::PROBE_BIN;
use crate::lab::spec::WorkloadSpec;
use crate::probe::fetch::FetchResult;

/// Fetches the workload's SVID from inside its container, as its uid and gid.
pub async fn fetch_as(lab: &Lab, workload: &WorkloadSpec) -> Result<FetchResult, LabError> {
    let user = format!("{0}:{0}", workload.uid);
    let container = lab.container(&workload.name);
    let output = lab
        .engine
        .exec(&container, &[PROBE_BIN, "fetch"], Some(&user))
        .await?;
    let line = output.stdout.lines().last().unwrap_or_default();
    Ok(
        serde_json::from_str(line).unwrap_or_else(|_| FetchResult::Failed {
            kind: crate::probe::ErrorKind::Other,
            error: format!("probe fetch printed no result: {}", output.combined()),
        }),
    )
}

/// Passes when a fetch as the workload fails with an error containing `text`.
pub async fn fails_with(
    lab: &Lab,
    workload: &WorkloadSpec,
    text: &str,
) -> Result<Finding, CheckError> {
    Ok(match fetch_as(lab, workload).await? {
        FetchResult::Failed { error, .. } if contains(&error, text) => {
            Finding::pass(vec![format!(
                "fetch as uid {} failed: {error}",
                workload.uid
            )])
        }
        FetchResult::Failed { error, .. } => Finding::fail(vec![format!(
            "fetch failed, but not with {text:?}: {error}"
        )]),
        FetchResult::Issued { svid, .. } => Finding::fail(vec![format!(
            "fetch succeeded: {} serial {}",
            svid.spiffe_id, svid.serial
        )]),
    })
}

/// Case-insensitive substring match, as error texts vary in case between layers.
pub fn contains(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}
