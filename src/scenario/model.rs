//! The scenario file format: a lab, a fault, what a learner should see, hints, the
//! reference fix and the graded checks.
//!
//! Steps and checks are small building blocks named by a single key, so instructors write
//! new scenarios without Rust. References to components keep their position in the file
//! so that an unknown name is reported at its line and column.

use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::lab::LabSpec;

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A short name, such as `wrong-selector`.
    pub name: String,
    /// One line for `spirelab list`.
    pub summary: String,
    /// What the learner is told when the lab breaks.
    #[serde(default)]
    pub description: String,
    /// The lab the scenario needs; defaults to the standard lab.
    #[serde(default)]
    pub lab: LabSpec,
    /// The steps that break the lab.
    #[serde(rename = "break")]
    pub break_steps: Vec<Step>,
    /// What must be observable once it is broken.
    pub broken: Broken,
    /// Hints, from gentle to explicit.
    #[serde(default)]
    pub hints: Vec<String>,
    /// The reference fix.
    pub solve: Vec<Step>,
    /// The graded checks.
    pub grade: Vec<Check>,
}

/// What `break` confirms before handing the lab to the learner.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Broken {
    /// How long the symptoms may take to show.
    #[serde(with = "humantime_serde")]
    pub within: Duration,
    /// Checks that must all pass once broken.
    pub checks: Vec<Check>,
}

/// One step that changes the lab.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Change the registration entry of a workload.
    EntryUpdate(EntryUpdate),
    /// Put a workload's entry back as the lab defines it, removing any other entry that
    /// issues its SPIFFE ID.
    EntryRestore(WorkloadRef),
    /// Delete every entry that issues a workload's SPIFFE ID.
    EntryDelete(WorkloadRef),
    /// Restart a component's container.
    Restart(ComponentRef),
    /// Pause for a while.
    #[serde(with = "humantime_serde")]
    Wait(Duration),
}

/// Parameters of [`Step::EntryUpdate`]; unset fields keep their current value.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryUpdate {
    /// The workload whose entry changes.
    pub workload: Spanned<String>,
    /// New selectors, such as `unix:uid:1000`.
    #[serde(default)]
    pub selectors: Option<Vec<String>>,
    /// A new SPIFFE ID.
    #[serde(default)]
    pub spiffe_id: Option<String>,
    /// A new parent ID.
    #[serde(default)]
    pub parent_id: Option<String>,
}

/// A step or check about one workload.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadRef {
    /// The workload's name.
    pub workload: Spanned<String>,
}

/// A step about any component.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentRef {
    /// The component's name: `server`, `prometheus`, an agent or a workload.
    pub component: Spanned<String>,
}

/// One check, as used in `broken.checks` and in `grade`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// The workload fetches an SVID with its expected SPIFFE ID, chaining to the server's
    /// current bundle.
    Svid(Graded),
    /// The workload's SVID rotated after the fix.
    Rotation(Graded),
    /// Integrity: every entry issuing the workload's SPIFFE ID selects its uid and is
    /// parented to its agent.
    EntryPinned(Graded),
    /// Integrity: the probe still runs as the workload's uid.
    RunsAs(Graded),
    /// A fetch as the workload fails with an error containing `contains`.
    FetchFails(Symptom),
    /// The workload's probe reported an error containing `contains` after the break.
    ProbeError(Symptom),
}

/// Parameters of a graded check about one workload.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Graded {
    /// The workload.
    pub workload: Spanned<String>,
    /// Points for passing.
    #[serde(default = "one_point")]
    pub points: u32,
    /// A hint shown when the check fails.
    #[serde(default)]
    pub hint: Option<String>,
}

/// Parameters of a check that looks for a symptom.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Symptom {
    /// The workload.
    pub workload: Spanned<String>,
    /// Text the error must contain.
    pub contains: String,
    /// Points for passing.
    #[serde(default = "one_point")]
    pub points: u32,
    /// A hint shown when the check fails.
    #[serde(default)]
    pub hint: Option<String>,
}

fn one_point() -> u32 {
    1
}

impl Check {
    /// The check's kind, as written in scenario files.
    pub fn kind(&self) -> &'static str {
        match self {
            Check::Svid(_) => "svid",
            Check::Rotation(_) => "rotation",
            Check::EntryPinned(_) => "entry_pinned",
            Check::RunsAs(_) => "runs_as",
            Check::FetchFails(_) => "fetch_fails",
            Check::ProbeError(_) => "probe_error",
        }
    }

    /// The workload the check is about.
    pub fn workload(&self) -> &Spanned<String> {
        match self {
            Check::Svid(g) | Check::Rotation(g) | Check::EntryPinned(g) | Check::RunsAs(g) => {
                &g.workload
            }
            Check::FetchFails(s) | Check::ProbeError(s) => &s.workload,
        }
    }

    /// Points for passing.
    pub fn points(&self) -> u32 {
        match self {
            Check::Svid(g) | Check::Rotation(g) | Check::EntryPinned(g) | Check::RunsAs(g) => {
                g.points
            }
            Check::FetchFails(s) | Check::ProbeError(s) => s.points,
        }
    }

    /// The hint written for this check, if any.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Check::Svid(g) | Check::Rotation(g) | Check::EntryPinned(g) | Check::RunsAs(g) => {
                g.hint.as_deref()
            }
            Check::FetchFails(s) | Check::ProbeError(s) => s.hint.as_deref(),
        }
    }
}
