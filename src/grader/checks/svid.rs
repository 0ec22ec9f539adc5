//! The workload holds an SVID with its expected SPIFFE ID, chaining to the server's
//! current bundle.

use std::time::Duration;

use time::OffsetDateTime;

use super::fetch::fetch_as;
use crate::grader::CheckError;
use crate::grader::{Finding, GradeOptions, chain};
use crate::lab::spec::WorkloadSpec;
use crate::lab::wait::{self, Poll};
use crate::lab::{Lab, LabError};
use crate::probe::fetch::FetchResult;

/// How long a fix may take to reach the workload: the agent syncs entries every 5 s.
const PROPAGATION: Duration = Duration::from_secs(30);

/// Fetches as the workload and verifies identity and chain; when waiting is allowed,
/// retries for a while so a fix made a moment ago has time to reach the agent.
pub async fn check(
    lab: &Lab,
    workload: &WorkloadSpec,
    options: GradeOptions,
) -> Result<Finding, CheckError> {
    if !options.wait {
        return check_once(lab, workload).await;
    }
    let what = format!("{} to receive its SVID", workload.name);
    let attempt = || async {
        Ok(match check_once(lab, workload).await {
            Ok(finding) if finding.passed => Poll::Ready(finding),
            Ok(finding) => Poll::Pending(finding.evidence.join("; ")),
            Err(error) => Poll::Pending(error.to_string()),
        })
    };
    match wait::until(&what, PROPAGATION, attempt).await {
        Ok(finding) => Ok(finding),
        Err(LabError::Timeout { .. }) => check_once(lab, workload).await,
        Err(error) => Err(error.into()),
    }
}

async fn check_once(lab: &Lab, workload: &WorkloadSpec) -> Result<Finding, CheckError> {
    let (_, expected) = lab.expected_identity(workload);
    let (svid, chain_pem) = match fetch_as(lab, workload).await? {
        FetchResult::Issued { svid, chain_pem } => (svid, chain_pem),
        FetchResult::Failed { error, .. } => {
            return Ok(Finding::fail(vec![format!(
                "fetch as uid {} failed: {error}",
                workload.uid
            )]));
        }
    };
    let until = crate::probe::show_time(svid.not_after);
    let seen = format!(
        "got {} serial {} valid until {until}",
        svid.spiffe_id, svid.serial
    );
    if svid.spiffe_id != expected {
        return Ok(Finding::fail(vec![
            seen,
            format!("expected SPIFFE ID {expected}"),
        ]));
    }
    let bundle = lab.server().bundle_pem().await?;
    Ok(
        match chain::verify(&chain_pem, &bundle, OffsetDateTime::now_utc()) {
            Ok(checked) => Finding::pass(vec![
                seen,
                format!("chain of {checked} verified against the server's bundle"),
            ]),
            Err(error) => Finding::fail(vec![seen, format!("chain does not verify: {error}")]),
        },
    )
}
