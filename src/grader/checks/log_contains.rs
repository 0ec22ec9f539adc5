//! A symptom in a component's log since the break, such as an agent's TLS errors.

use super::fetch::contains;
use crate::grader::{CheckError, Finding, GradeOptions};
use crate::lab::Lab;

/// The longest log line quoted as evidence.
const QUOTE: usize = 300;

/// Looks for a log line containing `text` written since `options.since`.
pub async fn check(
    lab: &Lab,
    component: &str,
    text: &str,
    options: GradeOptions,
) -> Result<Finding, CheckError> {
    let since = options.since.map(|t| t.unix_timestamp());
    let log = lab.engine.logs(&lab.container(component), since).await?;
    Ok(match log.lines().find(|line| contains(line, text)) {
        Some(line) => Finding::pass(vec![line.chars().take(QUOTE).collect()]),
        None => Finding::fail(vec![format!(
            "no line of {component}'s log contains {text:?}"
        )]),
    })
}
