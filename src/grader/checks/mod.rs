//! The kinds of check, one file each; [`run`] is where they are dispatched from.

pub mod agent_svid;
pub mod alert;
pub mod clock_offset;
pub mod entry_pinned;
pub mod fetch;
pub mod log_contains;
pub mod no_stale_agents;
pub mod probe_error;
pub mod rotation;
pub mod rotation_stalled;
pub mod rule_loaded;
pub mod svid;
pub mod workload_intact;

use super::{CheckError, Finding, GradeOptions};
use crate::lab::Lab;
use crate::lab::spec::WorkloadSpec;
use crate::scenario::Check;

/// Runs `check`; errors talking to the lab become failed findings with the error as
/// evidence.
pub async fn run(lab: &Lab, check: &Check, options: GradeOptions) -> Finding {
    let outcome = dispatch(lab, check, options).await;
    outcome.unwrap_or_else(|error| {
        Finding::fail(vec![format!("could not check: {}", error_chain(&error))])
    })
}

async fn dispatch(lab: &Lab, check: &Check, options: GradeOptions) -> Result<Finding, CheckError> {
    let workload = |name: &str| lab.spec.workload(name).expect("validated workload name");
    match check {
        Check::Svid(c) => svid::check(lab, workload(&c.workload.value), options).await,
        Check::Rotation(c) => rotation::check(lab, workload(&c.workload.value), options).await,
        Check::EntryPinned(c) => {
            entry_pinned::check(lab, workload(&c.workload.value), &c.parents).await
        }
        Check::WorkloadIntact(c) => {
            let agent = c.agent.as_ref().map(|a| a.value.as_str());
            workload_intact::check(lab, workload(&c.workload.value), agent).await
        }
        Check::AgentSvid(c) => agent_svid::check(lab, &c.agent.value, options).await,
        Check::NoStaleAgents(c) => no_stale_agents::check(lab, &c.agent.value).await,
        Check::ClockOffset(c) => {
            clock_offset::check(lab, &c.component.value, c.tolerance.value).await
        }
        Check::FetchFails(c) => {
            fetch::fails_with(lab, workload(&c.workload.value), &c.contains).await
        }
        Check::ProbeError(c) => {
            probe_error::check(lab, workload(&c.workload.value), &c.contains, options).await
        }
        Check::RotationStalled(c) => {
            rotation_stalled::check(lab, &c.workload.value, c.for_at_least.value).await
        }
        Check::LogContains(c) => {
            log_contains::check(lab, &c.component.value, &c.contains, options).await
        }
        Check::AlertFiring(c) => alert::check(lab, c, alert::Wanted::Firing, options).await,
        Check::AlertClear(c) => alert::check(lab, c, alert::Wanted::Clear, options).await,
        Check::RuleLoaded(c) => rule_loaded::check(lab, c, options).await,
    }
}

/// An error with its causes, for evidence.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    crate::probe::watch::error_chain(error)
}

/// The workload spec a check names; validation guarantees it exists.
pub fn workload_spec<'a>(lab: &'a Lab, name: &str) -> &'a WorkloadSpec {
    lab.spec.workload(name).expect("validated workload name")
}
