//! Steps on registration entries: create one, or change, restore or delete a workload's
//! entry or an agent's node alias entry.
//!
//! Values that exist only on a running lab (an agent's own SPIFFE ID, which ends in its
//! certificate's fingerprint, and the selectors it was attested with) are read from the
//! server when the step runs.

use super::FaultError;
use crate::lab::Lab;
use crate::lab::spec::WorkloadSpec;
use serde_saphyr::Spanned;

use crate::scenario::model::{AgentSelectors, EntryCreate, EntryTarget, EntryUpdate};
use crate::spire::{AgentInfo, Entry, NewEntry};

fn values(spanned: &[Spanned<String>]) -> Vec<String> {
    spanned.iter().map(|s| s.value.clone()).collect()
}

/// The SPIFFE ID the target's entry issues.
fn target_id(lab: &Lab, target: &EntryTarget) -> String {
    match target {
        EntryTarget::Workload(name) => lab.spec.workload_id(workload(lab, &name.value)),
        EntryTarget::Alias(agent) => lab.spec.node_alias_id(&agent.value),
    }
}

/// The target's entry as the lab defines it.
fn lab_entry(lab: &Lab, target: &EntryTarget) -> NewEntry {
    match target {
        EntryTarget::Workload(name) => lab.workload_entry(workload(lab, &name.value)),
        EntryTarget::Alias(agent) => lab.node_alias_entry(&agent.value),
    }
}

fn workload<'a>(lab: &'a Lab, name: &str) -> &'a WorkloadSpec {
    lab.spec
        .workload(name)
        .expect("scenario validation checked workload names")
}

/// Creates an entry as written in the scenario.
pub async fn create(lab: &Lab, create: &EntryCreate) -> Result<(), FaultError> {
    let parent_agent = create.parent_agent.as_ref();
    let from_agent = create.agent_selectors.as_ref();
    let entry = NewEntry {
        spiffe_id: create.spiffe_id.value.clone(),
        parent_id: parent(lab, create.parent_id.as_ref(), parent_agent).await?,
        selectors: selectors(lab, Some(&create.selectors), from_agent)
            .await?
            .unwrap_or_default(),
        x509_svid_ttl: create.ttl.map(|ttl| ttl.as_secs()),
    };
    lab.server().create_entry(&entry).await?;
    Ok(())
}

/// Changes the fields `update` sets on the first entry issuing the target's SPIFFE ID.
pub async fn update(lab: &Lab, update: &EntryUpdate) -> Result<(), FaultError> {
    let current = first_entry(lab, &update.target).await?;
    let parent_id = parent(lab, update.parent_id.as_ref(), update.parent_agent.as_ref()).await?;
    let from_agent = update.agent_selectors.as_ref();
    let selectors = selectors(lab, update.selectors.as_deref(), from_agent).await?;
    let changed = NewEntry {
        spiffe_id: update
            .spiffe_id
            .as_ref()
            .map_or_else(|| current.spiffe_id.to_string(), |id| id.value.clone()),
        parent_id: Some(parent_id.unwrap_or_else(|| current.parent_id.to_string())),
        selectors: selectors.unwrap_or_else(|| current.selector_strings()),
        x509_svid_ttl: u64::try_from(current.x509_svid_ttl)
            .ok()
            .filter(|ttl| *ttl > 0),
    };
    lab.server().update_entry(&current.id, &changed).await?;
    Ok(())
}

/// Puts the target's entry back as the lab defines it: the first entry issuing its
/// SPIFFE ID is rewritten, any others are deleted, and one is created if none is left.
pub async fn restore(lab: &Lab, target: &EntryTarget) -> Result<(), FaultError> {
    let wanted = lab_entry(lab, target);
    let server = lab.server();
    let entries = server.entries_for(&wanted.spiffe_id).await?;
    match entries.split_first() {
        None => server.create_entry(&wanted).await?,
        Some((first, others)) => {
            server.update_entry(&first.id, &wanted).await?;
            for other in others {
                server.delete_entry(&other.id).await?;
            }
        }
    }
    Ok(())
}

/// Deletes every entry that issues the target's SPIFFE ID.
pub async fn delete(lab: &Lab, target: &EntryTarget) -> Result<(), FaultError> {
    let spiffe_id = target_id(lab, target);
    let server = lab.server();
    for entry in server.entries_for(&spiffe_id).await? {
        server.delete_entry(&entry.id).await?;
    }
    Ok(())
}

async fn first_entry(lab: &Lab, target: &EntryTarget) -> Result<Entry, FaultError> {
    let spiffe_id = target_id(lab, target);
    let entries = lab.server().entries_for(&spiffe_id).await?;
    let what = match target {
        EntryTarget::Workload(name) => format!("the SPIFFE ID of workload {}", name.value),
        EntryTarget::Alias(agent) => format!("the node alias of agent {}", agent.value),
    };
    entries
        .into_iter()
        .next()
        .ok_or(FaultError::NoEntry { spiffe_id, what })
}

/// The parent a step asks for: an ID as written, or an agent's own SPIFFE ID; `None` when
/// it asks for neither.
async fn parent(
    lab: &Lab,
    id: Option<&Spanned<String>>,
    agent: Option<&Spanned<String>>,
) -> Result<Option<String>, FaultError> {
    if let Some(agent) = agent {
        return Ok(Some(attested(lab, &agent.value).await?.id.to_string()));
    }
    Ok(id.map(|id| id.value.clone()))
}

/// The selectors a step asks for: those written, then the agent's that start with the
/// prefix; `None` when it asks for neither.
async fn selectors(
    lab: &Lab,
    written: Option<&[Spanned<String>]>,
    from_agent: Option<&AgentSelectors>,
) -> Result<Option<Vec<String>>, FaultError> {
    let Some(from_agent) = from_agent else {
        return Ok(written.map(values));
    };
    let agent = attested(lab, &from_agent.agent.value).await?;
    let held: Vec<String> = agent.selectors.iter().map(ToString::to_string).collect();
    let taken: Vec<String> = held
        .iter()
        .filter(|s| s.starts_with(&from_agent.prefix))
        .cloned()
        .collect();
    if taken.is_empty() {
        return Err(FaultError::NoAgentSelector {
            agent: from_agent.agent.value.clone(),
            prefix: from_agent.prefix.clone(),
            held: held.join(", "),
        });
    }
    let mut all = written.map(values).unwrap_or_default();
    all.extend(taken);
    Ok(Some(all))
}

/// The lab agent `name` as the server lists it now.
async fn attested(lab: &Lab, name: &str) -> Result<AgentInfo, FaultError> {
    let agent = lab.attested_agent(name).await?;
    agent.ok_or_else(|| FaultError::NotAttested {
        agent: name.to_string(),
    })
}
