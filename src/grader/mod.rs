//! Grading: runs a scenario's checks against a live lab and collects evidence.
//!
//! Each kind of check lives in its own file under [`checks`]. A check never changes the
//! lab; it reads the probe's records, runs a fetch as the workload, or asks the SPIRE
//! server, and says what it saw.

pub mod chain;
pub mod checks;

use std::time::{Duration, Instant};

use serde::Serialize;
use time::OffsetDateTime;

use crate::lab::Lab;
use crate::lab::spec::WorkloadSpec;
use crate::scenario::Check;

/// What one check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// The check's kind, as written in the scenario.
    pub check: String,
    /// What it is about: a workload, an agent, a component or an alert.
    pub subject: String,
    /// Whether it passed.
    pub passed: bool,
    /// Points earned.
    pub points: u32,
    /// Points available.
    pub max_points: u32,
    /// What was seen: serials, times, error lines.
    pub evidence: Vec<String>,
    /// What to try next, for a failed check.
    pub hint: Option<String>,
    /// How long the check took.
    #[serde(rename = "seconds", serialize_with = "crate::report::seconds")]
    pub duration: Duration,
}

/// A scenario's grade.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GradeReport {
    /// The scenario's name.
    pub scenario: String,
    /// The lab graded.
    pub lab: String,
    /// Points earned.
    pub score: u32,
    /// Points available.
    pub max_score: u32,
    /// True when every check passed.
    pub passed: bool,
    /// Each check's result.
    pub checks: Vec<CheckResult>,
}

/// Options for a grading run.
#[derive(Debug, Clone, Copy)]
pub struct GradeOptions {
    /// When the fault was applied; symptoms count only after it.
    pub since: Option<OffsetDateTime>,
    /// Wait for rotations that are not due yet, instead of judging on what was seen.
    pub wait: bool,
}

/// The outcome of a check before points and hints are attached.
pub struct Finding {
    /// Whether it passed.
    pub passed: bool,
    /// What was seen.
    pub evidence: Vec<String>,
}

impl Finding {
    /// A pass with its evidence.
    pub fn pass(evidence: Vec<String>) -> Self {
        Finding {
            passed: true,
            evidence,
        }
    }

    /// A failure with its evidence.
    pub fn fail(evidence: Vec<String>) -> Self {
        Finding {
            passed: false,
            evidence,
        }
    }
}

/// Runs `checks` against `lab`, in order.
pub async fn grade(
    lab: &Lab,
    scenario: &str,
    checks: &[Check],
    options: GradeOptions,
) -> GradeReport {
    let mut results = Vec::new();
    for check in checks {
        results.push(run_check(lab, check, options).await);
    }
    let score = results
        .iter()
        .fold(0u32, |sum, r| sum.saturating_add(r.points));
    let max_score = results
        .iter()
        .fold(0u32, |sum, r| sum.saturating_add(r.max_points));
    let passed = results.iter().all(|r| r.passed);
    GradeReport {
        scenario: scenario.to_string(),
        lab: lab.name.clone(),
        score,
        max_score,
        passed,
        checks: results,
    }
}

/// Runs one check and scores it.
pub async fn run_check(lab: &Lab, check: &Check, options: GradeOptions) -> CheckResult {
    let started = Instant::now();
    let (points, hint) = check.scoring();
    let finding = checks::run(lab, check, options).await;
    CheckResult {
        check: check.kind().to_string(),
        subject: check.subject_text(),
        passed: finding.passed,
        points: if finding.passed { points } else { 0 },
        max_points: points,
        hint: (!finding.passed)
            .then(|| hint.map(|h| crate::report::for_lab(&lab.name, h)))
            .flatten(),
        evidence: finding.evidence,
        duration: started.elapsed(),
    }
}

/// Failures that keep a check from judging; they fail the check, with the error as
/// evidence.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The lab could not be read.
    #[error(transparent)]
    Lab(#[from] crate::lab::LabError),
    /// A SPIRE CLI call failed.
    #[error(transparent)]
    Spire(#[from] crate::spire::SpireError),
    /// Prometheus could not be queried.
    #[error(transparent)]
    Prometheus(#[from] crate::prometheus::PrometheusError),
}

impl From<crate::engine::EngineError> for CheckError {
    fn from(error: crate::engine::EngineError) -> Self {
        CheckError::Lab(error.into())
    }
}

/// Shared helpers for checks.
impl Lab {
    /// The uid and expected SPIFFE ID of a workload, as checks compare against.
    pub fn expected_identity(&self, workload: &WorkloadSpec) -> (u32, String) {
        (workload.uid, self.spec.workload_id(workload))
    }
}
