//! Recreating a component's container, changed (a missing mount, another socket path,
//! user or command, another agent, an emptied volume) or exactly as the lab defines it,
//! which is how such faults are fixed. Configs and keys are carried over from the old
//! container.

use super::FaultError;
use crate::engine::container::{ContainerPlan, VolumeMount};
use crate::engine::files::FileSpec;
use crate::engine::labels;
use crate::lab::Lab;
use crate::lab::paths::SOCKET_DIR;
use crate::scenario::model::Recreate;

/// Removes the component's container and creates it again with the step's changes. An
/// agent's workloads share its PID namespace, so they are removed first and recreated
/// after it.
pub async fn recreate(lab: &Lab, step: &Recreate) -> Result<(), FaultError> {
    let name = step.component.value.as_str();
    let container = lab.container(name);
    let run = lab
        .engine
        .container_labels(&container)
        .await?
        .remove(labels::RUN)
        .unwrap_or_default();
    let mut plan = lab.plan_for(name, &run).expect("validated component name");
    change(lab, &mut plan, step);
    let files = carried_files(lab, name).await?;
    let workloads: Vec<_> = lab
        .spec
        .workloads
        .iter()
        .filter(|w| w.agent == name)
        .collect();

    for workload in &workloads {
        let workload = lab.container(&workload.name);
        lab.engine.remove_container(&workload).await?;
    }
    lab.engine.remove_container(&container).await?;
    empty_volumes(lab, &plan, step, &run).await?;
    lab.start_component(&plan, &files).await?;
    for workload in workloads {
        lab.start_component(&lab.workload_plan(&run, workload), &[])
            .await?;
    }
    Ok(())
}

/// Replaces each volume the plan mounts at one of the step's `empty_mounts` with a new,
/// empty one of the same name; nothing else uses it while its container is removed.
async fn empty_volumes(
    lab: &Lab,
    plan: &ContainerPlan,
    step: &Recreate,
    run: &str,
) -> Result<(), FaultError> {
    let emptied = |m: &&VolumeMount| step.empty_mounts.iter().any(|p| p.value == m.target);
    for mount in plan.mounts.iter().filter(emptied) {
        lab.engine.remove_volume(&mount.volume).await?;
        lab.engine
            .ensure_volume(&mount.volume, &lab.name, run)
            .await?;
    }
    Ok(())
}

fn change(lab: &Lab, plan: &mut ContainerPlan, step: &Recreate) {
    for (key, value) in &step.env {
        plan.env
            .retain(|entry| !entry.starts_with(&format!("{key}=")));
        plan.env.push(format!("{key}={value}"));
    }
    if let Some(user) = &step.user {
        plan.user = Some(user.clone());
    }
    if let Some(command) = &step.command {
        plan.entrypoint = Some(command.clone());
        plan.cmd = None;
    }
    if let Some(agent) = &step.agent {
        plan.pid_mode = Some(format!("container:{}", lab.container(&agent.value)));
        plan.mounts.retain(|m| m.target != SOCKET_DIR);
        plan.mounts.push(VolumeMount {
            volume: lab.volume(&agent.value, "socket"),
            target: SOCKET_DIR.into(),
        });
    }
    plan.mounts
        .retain(|m| !step.without_mounts.contains(&m.target));
}

async fn carried_files(lab: &Lab, name: &str) -> Result<Vec<FileSpec>, FaultError> {
    let container = lab.container(name);
    let mut files = Vec::new();
    for path in lab.component_files(name) {
        let contents = lab.engine.download_file(&container, path).await?;
        let private = path.ends_with("key.pem");
        files.push(if private {
            FileSpec::private(path, contents)
        } else {
            FileSpec::public(path, contents)
        });
    }
    Ok(files)
}
