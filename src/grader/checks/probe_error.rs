//! A symptom in the probe's own log: an error containing some text after the break.

use super::fetch::contains;
use crate::grader::CheckError;
use crate::grader::{Finding, GradeOptions};
use crate::lab::Lab;
use crate::lab::spec::WorkloadSpec;
use crate::probe::{Event, show_time};

/// Looks for a probe error containing `text` written after `options.since`.
pub async fn check(
    lab: &Lab,
    workload: &WorkloadSpec,
    text: &str,
    options: GradeOptions,
) -> Result<Finding, CheckError> {
    let records = lab.probe_records(&workload.name).await?;
    let after_break = records
        .iter()
        .filter(|r| options.since.is_none_or(|since| r.time >= since));
    let matching = after_break.filter_map(|r| match &r.event {
        Event::Error { error, .. } if contains(error, text) => {
            Some(format!("{}: {error}", show_time(r.time)))
        }
        _ => None,
    });
    let found: Vec<String> = matching.take(1).collect();
    Ok(match found.is_empty() {
        false => Finding::pass(found),
        true => Finding::fail(vec![format!(
            "the probe reported no error containing {text:?}"
        )]),
    })
}
