//! Playing a scenario: break a running lab and confirm the symptoms, or run the whole
//! exercise end to end (up, break, confirm, grade before the fix, solve, grade, down).

use std::time::{Duration, Instant};

use serde::Serialize;
use time::OffsetDateTime;

use super::alert_watch;
use super::load::Loaded;
use super::model::{Alerts, WrongFix};
use crate::faults;
use crate::grader::checks::alert::Wanted;
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
    let broken_at = apply_break(lab, loaded).await?;
    confirm_break(lab, loaded, broken_at).await
}

/// Applies the scenario's break steps; returns when they started, the moment symptoms and
/// alerts are measured from.
pub async fn apply_break(lab: &Lab, loaded: &Loaded) -> Result<OffsetDateTime, faults::FaultError> {
    let broken_at = OffsetDateTime::now_utc();
    faults::apply_all(lab, &loaded.scenario.break_steps).await?;
    Ok(broken_at)
}

/// Waits until the symptoms of a break applied at `broken_at` show, up to the scenario's
/// bound.
pub async fn confirm_break(
    lab: &Lab,
    loaded: &Loaded,
    broken_at: OffsetDateTime,
) -> Result<BreakReport, faults::FaultError> {
    let scenario = &loaded.scenario;
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
    let symptoms = match wait::until(&what, scenario.broken.within.value, confirm).await {
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
        let phase = Phase {
            name: "down".into(),
            ok,
            detail,
            duration: started.elapsed(),
        };
        push_phase(&mut report, phase);
    }
    // A lab this run did not start belongs to someone else: no wrong fix may touch it.
    if wrong_fixes && started_here {
        for fix in &loaded.scenario.wrong_fixes {
            let phase = try_wrong_fix(lab, loaded, fix).await;
            push_phase(&mut report, phase);
        }
    }
    report.passed = report.phases.iter().all(|p| p.ok) && report.grade_after_fix.is_some();
    report
}

/// Breaks a fresh lab, applies a wrong fix, and checks that the grade fails on the
/// checks the scenario names, each with a hint; the lab is removed afterwards.
pub async fn try_wrong_fix(lab: &Lab, loaded: &Loaded, fix: &WrongFix) -> Phase {
    let started = Instant::now();
    let outcome = match fresh_lab(lab).await {
        Ok(()) => {
            let judged = judge_wrong_fix(lab, loaded, fix).await;
            let cleaned = down::down(lab).await.map_err(|e| e.to_string());
            judged.and_then(|detail| cleaned.map(|_| detail))
        }
        Err(error) => Err(error),
    };
    let ok = outcome.is_ok();
    let detail = outcome.unwrap_or_else(|error| error);
    Phase {
        name: format!("wrong fix: {}", fix.name),
        ok,
        detail,
        duration: started.elapsed(),
    }
}

/// Starts a lab for a wrong fix; one that already runs is left alone.
async fn fresh_lab(lab: &Lab) -> Result<(), String> {
    match up::up(lab).await {
        Ok(up::UpOutcome::Started { .. }) => Ok(()),
        Ok(up::UpOutcome::AlreadyUp) => Err(format!(
            "lab {} is in use; a wrong fix needs a fresh lab",
            lab.name
        )),
        Err(error) => Err(format!(
            "up failed: {}",
            crate::grader::checks::error_chain(&error)
        )),
    }
}

async fn judge_wrong_fix(lab: &Lab, loaded: &Loaded, fix: &WrongFix) -> Result<String, String> {
    let scenario = &loaded.scenario;
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
        .map(|kind| &kind.value)
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
    if !phase_up(lab, report).await {
        return;
    }
    let Some(broken_at) = phase_break(lab, loaded, report).await else {
        return;
    };
    if !phase_grade_before_fix(lab, loaded, broken_at, report).await {
        return;
    }
    let Some(solved_at) = phase_solve(lab, loaded, report).await else {
        return;
    };
    phase_grade(lab, loaded, (broken_at, solved_at), report).await;
}

/// Starts a fresh lab; a lab that already runs is refused rather than reused.
async fn phase_up(lab: &Lab, report: &mut RunReport) -> bool {
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
    record(report, "up", started, outcome)
}

/// Applies the break, then confirms its symptoms while watching the expected alerts fire,
/// each within the scenario's bound from the moment the break steps were applied.
async fn phase_break(lab: &Lab, loaded: &Loaded, report: &mut RunReport) -> Option<OffsetDateTime> {
    let started = Instant::now();
    let broken_at = match apply_break(lab, loaded).await {
        Ok(broken_at) => broken_at,
        Err(error) => {
            record(report, "break", started, Err(error.to_string()));
            return None;
        }
    };
    let applying = started.elapsed();
    let confirm = timed(confirm_break(lab, loaded, broken_at));
    let alerts = loaded.scenario.alerts.as_ref();
    let fire = timed(watch_alerts(lab, alerts, Wanted::Firing, broken_at));
    let ((broken, confirm_done), (fired, fire_took)) = tokio::join!(confirm, fire);
    let outcome = match broken {
        Ok(broken) if broken.confirmed => Ok(evidence_line(&broken.symptoms)),
        Ok(broken) => Err(format!(
            "symptoms not seen: {}",
            evidence_line(&broken.symptoms)
        )),
        Err(error) => Err(error.to_string()),
    };
    if !record_took(report, "break", applying + confirm_done, outcome) {
        return None;
    }
    if let Some(fired) = fired
        && !record_took(report, "alerts fire", fire_took, fired)
    {
        return None;
    }
    Some(broken_at)
}

/// Grades the broken lab, which must fail: otherwise the checks cannot tell broken from fixed.
async fn phase_grade_before_fix(
    lab: &Lab,
    loaded: &Loaded,
    broken_at: OffsetDateTime,
    report: &mut RunReport,
) -> bool {
    let scenario = &loaded.scenario;
    let options = GradeOptions {
        since: Some(broken_at),
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
    record(report, "grade before fix", started, outcome)
}

/// Applies the reference fix; returns when it had been applied, the moment alerts must
/// clear from.
async fn phase_solve(lab: &Lab, loaded: &Loaded, report: &mut RunReport) -> Option<OffsetDateTime> {
    let started = Instant::now();
    let solved = faults::apply_all(lab, &loaded.scenario.solve)
        .await
        .map(|()| "reference fix applied".into());
    let solved_at = OffsetDateTime::now_utc();
    record(report, "solve", started, solved.map_err(|e| e.to_string())).then_some(solved_at)
}

/// Grades the fixed lab, waiting for due rotations, while watching the expected alerts
/// clear, each within the scenario's bound from the moment the fix had been applied.
async fn phase_grade(
    lab: &Lab,
    loaded: &Loaded,
    (broken_at, solved_at): (OffsetDateTime, OffsetDateTime),
    report: &mut RunReport,
) {
    let scenario = &loaded.scenario;
    let options = GradeOptions {
        since: Some(broken_at),
        wait: true,
    };
    let grade = timed(grader::grade(lab, &scenario.name, &scenario.grade, options));
    let alerts = scenario.alerts.as_ref();
    let clear = timed(watch_alerts(lab, alerts, Wanted::Clear, solved_at));
    let ((after, grade_took), (cleared, clear_took)) = tokio::join!(grade, clear);
    let summary = format!("{}/{} points", after.score, after.max_score);
    let outcome = match after.passed {
        true => Ok(summary),
        false => Err(format!("failed: {summary}")),
    };
    report.grade_after_fix = Some(after);
    if !record_took(report, "grade", grade_took, outcome) {
        return;
    }
    if let Some(cleared) = cleared {
        record_took(report, "alerts clear", clear_took, cleared);
    }
}

/// Watches the scenario's expected alerts reach `wanted` within their bound from `from`;
/// `None` when the scenario expects no alerts.
async fn watch_alerts(
    lab: &Lab,
    alerts: Option<&Alerts>,
    wanted: Wanted,
    from: OffsetDateTime,
) -> Option<Result<String, String>> {
    let alerts = alerts?;
    let (bound, event) = match wanted {
        Wanted::Firing => (alerts.fire_within.value, "the break"),
        Wanted::Clear => (alerts.clear_within.value, "the fix"),
    };
    let timings = alert_watch::watch(lab, &alerts.expected, wanted, from, bound).await;
    Some(alert_watch::verdict(&timings, wanted, event, bound))
}

/// Runs `work` and says how long it took.
async fn timed<T>(work: impl std::future::Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let value = work.await;
    (value, started.elapsed())
}

fn record(
    report: &mut RunReport,
    name: &'static str,
    started: Instant,
    outcome: Result<String, String>,
) -> bool {
    record_took(report, name, started.elapsed(), outcome)
}

fn record_took(
    report: &mut RunReport,
    name: &'static str,
    duration: Duration,
    outcome: Result<String, String>,
) -> bool {
    let ok = outcome.is_ok();
    let detail = outcome.unwrap_or_else(|error| error);
    tracing::info!(phase = name, ok, "{detail}");
    push_phase(
        report,
        Phase {
            name: name.into(),
            ok,
            detail,
            duration,
        },
    );
    ok
}

/// Adds a finished phase to the report and says so on stderr, so a long run shows how far
/// it got.
fn push_phase(report: &mut RunReport, phase: Phase) {
    wait::progress(&format!(
        "{}: {} {} ({:.1}s)",
        report.scenario,
        phase.name,
        if phase.ok { "pass" } else { "FAIL" },
        phase.duration.as_secs_f64()
    ));
    report.phases.push(phase);
}

fn evidence_line(checks: &[CheckResult]) -> String {
    let lines: Vec<String> = checks
        .iter()
        .map(|c| format!("{} {}: {}", c.check, c.subject, c.evidence.join("; ")))
        .collect();
    lines.join(" | ")
}
