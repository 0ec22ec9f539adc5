//! Playing a scenario: break a running lab and confirm the symptoms, or run the whole
//! exercise end to end (up, break, confirm, grade before the fix, solve, grade, down).

use std::time::{Duration, Instant};

use serde::Serialize;
use time::OffsetDateTime;

use super::load::Loaded;
use super::model::WrongFix;
use crate::faults;
use crate::grader::{self, CheckResult, GradeOptions, GradeReport};
use crate::lab::wait::{self, Poll};
use crate::lab::{Lab, LabError, down, up};

/// What `break` saw once the fault was applied.
#[derive(Debug, Clone, Serialize)]
pub struct BreakReport {
    /// The scenario.
    pub scenario: String,
    /// When the fault was applied.
    #[serde(with = "time::serde::rfc3339")]
    pub broken_at: OffsetDateTime,
    /// True when every symptom was seen within the scenario's bound.
    pub confirmed: bool,
    /// Each symptom check's last result.
    pub symptoms: Vec<CheckResult>,
}

/// Applies the scenario's fault to `lab` and waits until its symptoms show.
pub async fn break_lab(lab: &Lab, loaded: &Loaded) -> Result<BreakReport, faults::FaultError> {
    let scenario = &loaded.scenario;
    let broken_at = OffsetDateTime::now_utc();
    faults::apply_all(lab, &scenario.break_steps).await?;
    let options = GradeOptions {
        since: Some(broken_at),
        wait: false,
    };
    let what = format!("{} symptoms to show", scenario.name);
    let confirm = || async {
        let report = grader::grade(lab, &scenario.name, &scenario.broken.checks, options).await;
        Ok(match report.passed {
            true => Poll::Ready(report.checks),
            false => Poll::Pending(format!(
                "{}/{} seen",
                passed_count(&report),
                report.checks.len()
            )),
        })
    };
    let symptoms = match wait::until(&what, scenario.broken.within, confirm).await {
        Ok(symptoms) => symptoms,
        Err(LabError::Timeout { .. }) => {
            grader::grade(lab, &scenario.name, &scenario.broken.checks, options)
                .await
                .checks
        }
        Err(error) => return Err(error.into()),
    };
    let confirmed = symptoms.iter().all(|c| c.passed);
    Ok(BreakReport {
        scenario: scenario.name.clone(),
        broken_at,
        confirmed,
        symptoms,
    })
}

fn passed_count(report: &GradeReport) -> usize {
    report.checks.iter().filter(|c| c.passed).count()
}

/// One phase of an end-to-end run.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    /// The phase's name.
    pub name: String,
    /// Whether it behaved as the scenario expects.
    pub ok: bool,
    /// What happened.
    pub detail: String,
    /// How long it took.
    #[serde(rename = "seconds", serialize_with = "crate::report::seconds")]
    pub duration: Duration,
}

/// The result of `spirelab run`.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The scenario's name.
    pub scenario: String,
    /// Where it was loaded from.
    pub origin: String,
    /// The lab it ran in.
    pub lab: String,
    /// True when every phase behaved as expected.
    pub passed: bool,
    /// Each phase, in order.
    pub phases: Vec<Phase>,
    /// The grade before the fix (expected to fail).
    pub grade_before_fix: Option<GradeReport>,
    /// The grade after the reference fix (expected to pass).
    pub grade_after_fix: Option<GradeReport>,
}

/// Runs `loaded` end to end in `lab`; the lab is removed at the end unless `keep`. With
/// `wrong_fixes`, each of the scenario's wrong fixes is then tried on a fresh lab.
pub async fn run(lab: &Lab, loaded: &Loaded, keep: bool, wrong_fixes: bool) -> RunReport {
    let mut report = RunReport {
        scenario: loaded.scenario.name.clone(),
        origin: loaded.origin.clone(),
        lab: lab.name.clone(),
        passed: false,
        phases: Vec::new(),
        grade_before_fix: None,
        grade_after_fix: None,
    };
    play(lab, loaded, &mut report).await;
    let started_here = report
        .phases
        .first()
        .is_some_and(|p| p.name == "up" && p.ok);
    if started_here && !keep {
        let started = Instant::now();
        let removed = down::down(lab).await;
        let ok = removed.is_ok();
        let detail = match removed {
            Ok(removed) => format!("removed {}", removed.summary()),
            Err(error) => format!("clean-up failed: {error}"),
        };
        report.phases.push(Phase {
            name: "down".into(),
            ok,
            detail,
            duration: started.elapsed(),
        });
    }
    if wrong_fixes {
        for fix in &loaded.scenario.wrong_fixes {
            report.phases.push(try_wrong_fix(lab, loaded, fix).await);
        }
    }
    report.passed = report.phases.iter().all(|p| p.ok) && report.grade_after_fix.is_some();
    report
}

/// Breaks a fresh lab, applies a wrong fix, and checks that the grade fails on the
/// checks the scenario names, each with a hint; the lab is removed afterwards.
pub async fn try_wrong_fix(lab: &Lab, loaded: &Loaded, fix: &WrongFix) -> Phase {
    let started = Instant::now();
    let outcome = judge_wrong_fix(lab, loaded, fix).await;
    let cleaned = down::down(lab).await;
    let outcome = outcome.and_then(|detail| cleaned.map(|_| detail).map_err(|e| e.to_string()));
    let ok = outcome.is_ok();
    let detail = outcome.unwrap_or_else(|error| error);
    Phase {
        name: format!("wrong fix: {}", fix.name),
        ok,
        detail,
        duration: started.elapsed(),
    }
}

async fn judge_wrong_fix(lab: &Lab, loaded: &Loaded, fix: &WrongFix) -> Result<String, String> {
    let scenario = &loaded.scenario;
    match up::up(lab).await {
        Ok(up::UpOutcome::Started { .. }) => {}
        Ok(up::UpOutcome::AlreadyUp) => {
            return Err(format!(
                "lab {} is in use; a wrong fix needs a fresh lab",
                lab.name
            ));
        }
        Err(error) => return Err(format!("up failed: {error}")),
    }
    let broken = break_lab(lab, loaded)
        .await
        .map_err(|e| format!("break failed: {e}"))?;
    faults::apply_all(lab, &fix.steps)
        .await
        .map_err(|e| format!("the wrong fix failed to apply: {e}"))?;
    let options = GradeOptions {
        since: Some(broken.broken_at),
        wait: fix.grade_waits,
    };
    let report = grader::grade(lab, &scenario.name, &scenario.grade, options).await;
    let caught: Vec<&CheckResult> = report.checks.iter().filter(|c| !c.passed).collect();
    let missed: Vec<&String> = fix
        .fails
        .iter()
        .filter(|kind| !caught.iter().any(|c| &c.check == *kind && c.hint.is_some()))
        .collect();
    let summary = caught
        .iter()
        .map(|c| format!("{} {}", c.check, c.subject))
        .collect::<Vec<_>>()
        .join(", ");
    match (report.passed, missed.is_empty()) {
        (false, true) => Ok(format!("grade failed as it should ({summary}), with hints")),
        (true, _) => Err("the grade passed after a wrong fix".into()),
        (false, false) => Err(format!(
            "expected {missed:?} to fail with a hint; failed: {summary}"
        )),
    }
}

/// The phases up to the final grade; stops at the first phase that misbehaves.
async fn play(lab: &Lab, loaded: &Loaded, report: &mut RunReport) {
    let scenario = &loaded.scenario;
    let started = Instant::now();
    let outcome = match up::up(lab).await {
        Ok(up::UpOutcome::Started { run }) => Ok(format!("lab {} started (run {run})", lab.name)),
        Ok(up::UpOutcome::AlreadyUp) => Err(format!(
            "lab {0} was already running; a run needs a fresh lab \
             (use --lab, or `spirelab down --lab {0}`)",
            lab.name
        )),
        Err(error) => Err(error.to_string()),
    };
    if !record(report, "up", started, outcome) {
        return;
    }

    let started = Instant::now();
    let broken = match break_lab(lab, loaded).await {
        Ok(broken) => broken,
        Err(error) => {
            record(report, "break", started, Err(error.to_string()));
            return;
        }
    };
    let detail = evidence_line(&broken.symptoms);
    let outcome = if broken.confirmed {
        Ok(detail)
    } else {
        Err(format!("symptoms not seen: {detail}"))
    };
    if !record(report, "break", started, outcome) {
        return;
    }

    if let Some(alerts) = &scenario.alerts {
        let started = Instant::now();
        let outcome = expect_alerts(lab, loaded, &alerts.checks(true), broken.broken_at).await;
        if !record(report, "alerts fire", started, outcome) {
            return;
        }
    }

    let options = GradeOptions {
        since: Some(broken.broken_at),
        wait: false,
    };
    let started = Instant::now();
    let before = grader::grade(lab, &scenario.name, &scenario.grade, options).await;
    let outcome = match before.passed {
        false => Ok(format!(
            "failed as expected, {}/{} points",
            before.score, before.max_score
        )),
        true => {
            Err("the grade passed before any fix: the checks cannot tell broken from fixed".into())
        }
    };
    report.grade_before_fix = Some(before);
    if !record(report, "grade before fix", started, outcome) {
        return;
    }

    let started = Instant::now();
    let solved = faults::apply_all(lab, &scenario.solve)
        .await
        .map(|()| "reference fix applied".into());
    if !record(report, "solve", started, solved.map_err(|e| e.to_string())) {
        return;
    }

    let options = GradeOptions {
        since: Some(broken.broken_at),
        wait: true,
    };
    let started = Instant::now();
    let after = grader::grade(lab, &scenario.name, &scenario.grade, options).await;
    let summary = format!("{}/{} points", after.score, after.max_score);
    let outcome = if after.passed {
        Ok(summary)
    } else {
        Err(format!("failed: {summary}"))
    };
    report.grade_after_fix = Some(after);
    if !record(report, "grade", started, outcome) {
        return;
    }

    if let Some(alerts) = &scenario.alerts {
        let started = Instant::now();
        let outcome = expect_alerts(lab, loaded, &alerts.checks(false), broken.broken_at).await;
        record(report, "alerts clear", started, outcome);
    }
}

/// Waits for each alert check in turn (each within its own bound) and says how long the
/// whole took.
async fn expect_alerts(
    lab: &Lab,
    loaded: &Loaded,
    checks: &[crate::scenario::Check],
    since: OffsetDateTime,
) -> Result<String, String> {
    let options = GradeOptions {
        since: Some(since),
        wait: true,
    };
    let report = grader::grade(lab, &loaded.scenario.name, checks, options).await;
    let line = evidence_line(&report.checks);
    let elapsed = (OffsetDateTime::now_utc() - since).whole_seconds();
    match report.passed {
        true => Ok(format!("{line} ({elapsed}s after the break)")),
        false => Err(line),
    }
}

fn record(
    report: &mut RunReport,
    name: &'static str,
    started: Instant,
    outcome: Result<String, String>,
) -> bool {
    let ok = outcome.is_ok();
    let detail = outcome.unwrap_or_else(|error| error);
    tracing::info!(phase = name, ok, "{detail}");
    report.phases.push(Phase {
        name: name.into(),
        ok,
        detail,
        duration: started.elapsed(),
    });
    ok
}

fn evidence_line(checks: &[CheckResult]) -> String {
    let lines: Vec<String> = checks
        .iter()
        .map(|c| format!("{} {}: {}", c.check, c.subject, c.evidence.join("; ")))
        .collect();
    lines.join(" | ")
}
