//! Integrity: the workload's identity is issued only on its own uid, under an accepted
//! parent (by default its own agent's node alias).
//!
//! Catches fixes that restore rotation by weakening identity: an entry without the uid
//! selector (matching every process on the node), or one parented elsewhere.

use crate::grader::CheckError;
use crate::grader::Finding;
use crate::lab::Lab;
use crate::lab::spec::WorkloadSpec;

/// Reads every entry issuing the workload's SPIFFE ID and checks selectors and parent.
pub async fn check(
    lab: &Lab,
    workload: &WorkloadSpec,
    parents: &[String],
) -> Result<Finding, CheckError> {
    let (uid, expected) = lab.expected_identity(workload);
    let entries = lab.server().entries_for(&expected).await?;
    if entries.is_empty() {
        return Ok(Finding::fail(vec![format!("no entry issues {expected}")]));
    }
    let uid_selector = format!("unix:uid:{uid}");
    let own_alias = [lab.spec.node_alias_id(&workload.agent)];
    let accepted = if parents.is_empty() {
        &own_alias[..]
    } else {
        parents
    };
    let mut evidence = Vec::new();
    let mut passed = true;
    for entry in &entries {
        let selectors = entry.selector_strings();
        let pinned = selectors.contains(&uid_selector);
        let parented = accepted.contains(&entry.parent_id.to_string());
        passed &= pinned && parented;
        let mut line = format!(
            "entry {} parent {} selectors [{}]",
            entry.id,
            entry.parent_id,
            selectors.join(", ")
        );
        if !pinned {
            line.push_str(&format!("; does not select {uid_selector}"));
        }
        if !parented {
            line.push_str(&format!(
                "; parent should be one of {}",
                accepted.join(", ")
            ));
        }
        evidence.push(line);
    }
    Ok(Finding { passed, evidence })
}
