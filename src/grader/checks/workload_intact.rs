//! Integrity: the graded workload is still the lab's own. Catches fixes that make the
//! grade pass by replacing what is graded: the container recreated under another uid or
//! another command, or the probe stopped.

use crate::grader::{CheckError, Finding};
use crate::lab::Lab;
use crate::lab::spec::WorkloadSpec;

/// Compares the running container and the probe's records with the lab's definition.
pub async fn check(lab: &Lab, workload: &WorkloadSpec) -> Result<Finding, CheckError> {
    let container = lab.container(&workload.name);
    let plan = lab.workload_plan("", workload);
    let (user, entrypoint) = lab.engine.container_identity(&container).await?;
    let running = lab.engine.list_containers(Some(&lab.name)).await?;
    let state = running
        .iter()
        .find(|c| c.name == container)
        .map(|c| c.state.clone());
    let probe_uid = lab
        .probe_records(&workload.name)
        .await?
        .last()
        .map(|r| r.uid);

    let mut problems = Vec::new();
    if state.as_deref() != Some("running") {
        problems.push(format!(
            "container {container} is {}",
            state.unwrap_or_else(|| "missing".into())
        ));
    }
    if Some(&user) != plan.user.as_ref() {
        problems.push(format!(
            "container runs as {user:?}, expected {:?}",
            plan.user.unwrap_or_default()
        ));
    }
    if Some(&entrypoint) != plan.entrypoint.as_ref() {
        problems.push(format!(
            "container runs {:?} instead of the probe",
            entrypoint.join(" ")
        ));
    }
    match probe_uid {
        Some(uid) if uid == workload.uid => {}
        Some(uid) => problems.push(format!(
            "probe reports uid {uid}, expected {}",
            workload.uid
        )),
        None => problems.push("the probe has written no records".into()),
    }
    Ok(match problems.is_empty() {
        true => Finding::pass(vec![format!(
            "probe runs as uid {} in {container}",
            workload.uid
        )]),
        false => Finding::fail(problems),
    })
}
