//! Human-readable tables.

use comfy_table::{ColumnConstraint, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

use super::{ImageRow, ScenarioRow};
use crate::grader::{CheckResult, GradeReport};
use crate::lab::status::LabStatus;
use crate::scenario::runner::{BreakReport, RunReport};

/// How wide tables are when stdout is not a terminal and `COLUMNS` does not say.
const WIDTH_WITHOUT_TERMINAL: u16 = 120;

/// A table whose cells are never wrapped: IDs and serials stay whole for copying.
fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    table
}

/// A table whose last column is free text (evidence, details), wrapped to the terminal's
/// width, else to `COLUMNS`, else to [`WIDTH_WITHOUT_TERMINAL`]; the other columns stay
/// whole.
fn prose_table(header: &[&str]) -> Table {
    let mut table = new_table(header);
    table.set_content_arrangement(ContentArrangement::Dynamic);
    if table.width().is_none() {
        let columns = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
        table.set_width(columns.unwrap_or(WIDTH_WITHOUT_TERMINAL));
    }
    for index in 0..header.len().saturating_sub(1) {
        if let Some(column) = table.column_mut(index) {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    table
}

fn mark(passed: bool) -> &'static str {
    if passed { "pass" } else { "FAIL" }
}

fn checks_table(checks: &[CheckResult]) -> Table {
    let mut table = prose_table(&["check", "subject", "result", "points", "evidence / hint"]);
    for check in checks {
        let mut detail = check.evidence.join("\n");
        if let Some(hint) = &check.hint {
            detail.push_str(&format!("\nhint: {hint}"));
        }
        let points = format!("{}/{}", check.points, check.max_points);
        table.add_row(vec![
            &check.check,
            &check.subject,
            mark(check.passed),
            &points,
            &detail,
        ]);
    }
    table
}

/// A grade: one row per check, then the score.
pub fn grade(report: &GradeReport) -> String {
    let verdict = if report.passed { "PASSED" } else { "FAILED" };
    format!(
        "{}\n{} on lab {}: {verdict}, {}/{} points",
        checks_table(&report.checks),
        report.scenario,
        report.lab,
        report.score,
        report.max_score
    )
}

/// An end-to-end run: one row per phase.
pub fn run(report: &RunReport) -> String {
    let mut table = prose_table(&["phase", "result", "time", "detail"]);
    for phase in &report.phases {
        let time = format!("{:.1}s", phase.duration.as_secs_f64());
        table.add_row(vec![
            phase.name.as_str(),
            mark(phase.ok),
            &time,
            &phase.detail,
        ]);
    }
    let verdict = if report.passed { "PASSED" } else { "FAILED" };
    let mut text = format!(
        "{table}\nscenario {} ({}): {verdict}",
        report.scenario, report.origin
    );
    if let Some(grade) = report.grade_after_fix.as_ref().filter(|g| !g.passed) {
        text = format!("{}\n{text}", checks_table(&grade.checks));
    }
    text
}

/// What `break` did, and the learner's task.
pub fn broken(lab: &str, report: &BreakReport, description: &str) -> String {
    let mut table = prose_table(&["symptom", "subject", "seen", "evidence"]);
    for symptom in &report.symptoms {
        let seen = if symptom.passed { "yes" } else { "NO" };
        table.add_row(vec![
            &symptom.check,
            &symptom.subject,
            seen,
            &symptom.evidence.join("\n"),
        ]);
    }
    if !report.confirmed {
        return format!(
            "{table}\n{}: NOT broken as described. The lab may carry an earlier fix or fault; \
             start from a fresh one: {} && {}",
            report.scenario,
            super::command(lab, "down"),
            super::command(lab, &format!("up --scenario {}", report.scenario)),
        );
    }
    format!(
        "{table}\n{}: broken as described\n\n{}\n\
         When you think it is fixed: {}   (stuck? {})",
        report.scenario,
        super::for_lab(lab, description.trim_end()),
        super::command(lab, "grade"),
        super::command(lab, "hint"),
    )
}

/// A lab's components and workloads.
pub fn status(status: &LabStatus) -> String {
    let mut components = new_table(&["component", "container", "state", "status"]);
    for c in &status.components {
        components.add_row(vec![&c.component, &c.container, &c.state, &c.status]);
    }
    let mut workloads = new_table(&[
        "workload",
        "SPIFFE ID",
        "serial",
        "not after",
        "last rotation",
        "rotations",
        "error",
    ]);
    for w in &status.workloads {
        let show = |t: Option<time::OffsetDateTime>| {
            t.map(crate::probe::show_time).unwrap_or_else(|| "-".into())
        };
        workloads.add_row(vec![
            w.workload.clone(),
            w.spiffe_id.clone().unwrap_or_else(|| "-".into()),
            w.serial.clone().unwrap_or_else(|| "-".into()),
            show(w.not_after),
            show(w.last_rotation),
            w.rotations.to_string(),
            w.error.clone().unwrap_or_default(),
        ]);
    }
    let prometheus = status.prometheus_url.as_deref().unwrap_or("not running");
    format!(
        "lab {}\n{components}\n{workloads}\nprometheus: {prometheus}",
        status.lab
    )
}

/// The scenario catalogue.
pub fn scenarios(rows: &[ScenarioRow]) -> String {
    let mut table = new_table(&["scenario", "summary", "from"]);
    for row in rows {
        table.add_row(vec![&row.name, &row.summary, &row.origin]);
    }
    table.to_string()
}

/// Each component's image.
pub fn images(rows: &[ImageRow]) -> String {
    let mut table = new_table(&["component", "image", "present", "source"]);
    for row in rows {
        let present = if row.present { "yes" } else { "no" };
        table.add_row(vec![&row.component, &row.image, present, &row.source]);
    }
    table.to_string()
}

/// Each node's clock, like `chronyc tracking` on a host.
pub fn clocks(clocks: &[crate::lab::clock::NodeClock]) -> String {
    let mut table = new_table(&["node", "node time", "true time", "offset"]);
    for clock in clocks {
        let offset = format!("{:+.1}s", clock.offset_seconds);
        table.add_row(vec![
            &clock.node,
            &clock.node_time,
            &clock.true_time,
            &offset,
        ]);
    }
    format!(
        "{table}\nthe server runs on the true time; SVIDs are backdated 10 s, \
         so offsets beyond that break TLS"
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn check(name: &str, passed: bool, evidence: &str, hint: Option<&str>) -> CheckResult {
        CheckResult {
            check: name.into(),
            subject: "workload-1".into(),
            passed,
            points: if passed { 2 } else { 0 },
            max_points: 2,
            evidence: vec![evidence.into()],
            hint: hint.map(str::to_string),
            duration: Duration::from_millis(1500),
        }
    }

    #[test]
    fn grade_table_shows_points_evidence_and_hints() {
        let report = GradeReport {
            scenario: "wrong-selector".into(),
            lab: "default".into(),
            score: 2,
            max_score: 4,
            passed: false,
            checks: vec![
                check(
                    "svid",
                    true,
                    "got spiffe://lab.test/workload-1 serial 1a",
                    None,
                ),
                check(
                    "entry_pinned",
                    false,
                    "entry selects [unix:gid:1001]",
                    Some("select the uid"),
                ),
            ],
        };
        insta::assert_snapshot!(grade(&report));
    }
}
