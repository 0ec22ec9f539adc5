//! A symptom: the workload's probe has seen no new SVID for a while.

use std::time::Duration;

use time::OffsetDateTime;

use crate::grader::{CheckError, Finding};
use crate::lab::Lab;
use crate::probe::show_time;

/// Passes when the newest SVID the probe saw arrived at least `stalled_for` ago.
pub async fn check(
    lab: &Lab,
    workload: &str,
    stalled_for: Duration,
) -> Result<Finding, CheckError> {
    let records = lab.probe_records(workload).await?;
    let newest = records
        .iter()
        .rev()
        .find(|r| r.svid().is_some())
        .map(|r| r.time);
    let now = OffsetDateTime::now_utc();
    Ok(match newest {
        Some(time) if now - time >= stalled_for => Finding::pass(vec![format!(
            "no new SVID since {} ({}s ago)",
            show_time(time),
            (now - time).whole_seconds()
        )]),
        Some(time) => Finding::fail(vec![format!("a new SVID arrived at {}", show_time(time))]),
        None => Finding::pass(vec!["the probe has never received an SVID".into()]),
    })
}
