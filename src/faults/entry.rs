//! Steps on registration entries: change a workload's entry, restore it, delete it.

use super::FaultError;
use crate::lab::Lab;
use crate::lab::spec::WorkloadSpec;
use serde_saphyr::Spanned;

use crate::scenario::model::{EntryCreate, EntryUpdate};
use crate::spire::{Entry, NewEntry};

fn workload<'a>(lab: &'a Lab, name: &str) -> &'a WorkloadSpec {
    lab.spec
        .workload(name)
        .expect("scenario validation checked workload names")
}

fn values(spanned: &[Spanned<String>]) -> Vec<String> {
    spanned.iter().map(|s| s.value.clone()).collect()
}

/// Creates an entry as written in the scenario.
pub async fn create(lab: &Lab, create: &EntryCreate) -> Result<(), FaultError> {
    let entry = NewEntry {
        spiffe_id: create.spiffe_id.value.clone(),
        parent_id: create.parent_id.as_ref().map(|p| p.value.clone()),
        selectors: values(&create.selectors),
        x509_svid_ttl: create.ttl.map(|ttl| ttl.as_secs()),
    };
    lab.server().create_entry(&entry).await?;
    Ok(())
}

/// Changes the fields `update` sets on the workload's entry.
pub async fn update(lab: &Lab, update: &EntryUpdate) -> Result<(), FaultError> {
    let workload = workload(lab, &update.workload.value);
    let current = first_entry(lab, workload).await?;
    let changed = NewEntry {
        spiffe_id: update
            .spiffe_id
            .as_ref()
            .map_or_else(|| current.spiffe_id.to_string(), |id| id.value.clone()),
        parent_id: Some(
            update
                .parent_id
                .as_ref()
                .map_or_else(|| current.parent_id.to_string(), |id| id.value.clone()),
        ),
        selectors: update
            .selectors
            .as_deref()
            .map_or_else(|| current.selector_strings(), values),
        x509_svid_ttl: u64::try_from(current.x509_svid_ttl)
            .ok()
            .filter(|ttl| *ttl > 0),
    };
    lab.server().update_entry(&current.id, &changed).await?;
    Ok(())
}

/// Puts the workload's entry back as the lab defines it: the first entry issuing its
/// SPIFFE ID is rewritten, any others are deleted, and one is created if none is left.
pub async fn restore(lab: &Lab, name: &str) -> Result<(), FaultError> {
    let workload = workload(lab, name);
    let wanted = lab.workload_entry(workload);
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

/// Deletes every entry that issues the workload's SPIFFE ID.
pub async fn delete(lab: &Lab, name: &str) -> Result<(), FaultError> {
    let spiffe_id = lab.spec.workload_id(workload(lab, name));
    let server = lab.server();
    for entry in server.entries_for(&spiffe_id).await? {
        server.delete_entry(&entry.id).await?;
    }
    Ok(())
}

async fn first_entry(lab: &Lab, workload: &WorkloadSpec) -> Result<Entry, FaultError> {
    let spiffe_id = lab.spec.workload_id(workload);
    let entries = lab.server().entries_for(&spiffe_id).await?;
    entries.into_iter().next().ok_or(FaultError::NoEntry {
        workload: workload.name.clone(),
        spiffe_id,
    })
}
