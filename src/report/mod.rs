//! Results on stdout, as a table for people, JSON for programs or JUnit for CI.
//!
//! This is the only module that writes to stdout. Notices meant for the person at the
//! terminal (not results) go to stderr through [`Reporter::notice`], so JSON and JUnit on
//! stdout stay parseable; progress and logs go to stderr through `tracing`.

mod junit;
mod table;

use std::io::Write;

use serde::Serialize;

use crate::grader::GradeReport;
use crate::lab::down::Removed;
use crate::lab::status::LabStatus;
use crate::scenario::runner::{BreakReport, RunReport};

/// Serializes a duration as seconds with millisecond precision, for JSON reports.
pub fn seconds<S: serde::Serializer>(
    duration: &std::time::Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64((duration.as_secs_f64() * 1000.0).round() / 1000.0)
}

/// The lab every command uses unless `--lab` or `SPIRELAB_LAB` names another.
pub const DEFAULT_LAB: &str = "default";

/// The command line a learner types next on `lab`: `spirelab grade`, or
/// `spirelab --lab demo grade` for a lab other than the default.
pub fn command(lab: &str, args: &str) -> String {
    match lab {
        DEFAULT_LAB => format!("spirelab {args}"),
        _ => format!("spirelab --lab {lab} {args}"),
    }
}

#[cfg(test)]
mod lab_text_tests {
    use super::*;

    #[test]
    fn hints_name_the_labs_containers_and_commands() {
        let hint = "`docker logs spirelab-<lab>-agent-1`, then `spirelab clock set agent-1 0`";
        assert_eq!(
            for_lab("adv1", hint),
            "`docker logs spirelab-adv1-agent-1`, then `spirelab --lab adv1 clock set agent-1 0`"
        );
        assert_eq!(
            for_lab(DEFAULT_LAB, hint),
            "`docker logs spirelab-default-agent-1`, then `spirelab clock set agent-1 0`"
        );
    }
}

/// Scenario text (hints, descriptions) as it applies to `lab`: `<lab>` in container names
/// becomes the lab's name, and spirelab commands gain `--lab` when it is not the default.
pub fn for_lab(lab: &str, text: &str) -> String {
    let named = text.replace("<lab>", lab);
    match lab {
        DEFAULT_LAB => named,
        _ => named.replace("`spirelab ", &format!("`spirelab --lab {lab} ")),
    }
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned tables for reading in a terminal.
    Table,
    /// One JSON document.
    Json,
    /// JUnit XML (grade and run only), for CI test reports.
    Junit,
}

/// A scenario in `spirelab list`.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioRow {
    /// The scenario's name.
    pub name: String,
    /// Its one-line summary.
    pub summary: String,
    /// A built-in name or a file path.
    pub origin: String,
}

/// An image in `spirelab images list`.
#[derive(Debug, Clone, Serialize)]
pub struct ImageRow {
    /// The component kind.
    pub component: String,
    /// The image reference.
    pub image: String,
    /// Whether it is present on the engine.
    pub present: bool,
    /// Where the reference came from.
    pub source: String,
}

/// Writes results to stdout in one format.
pub struct Reporter {
    format: Format,
}

impl Reporter {
    /// A reporter printing in `format`.
    pub fn new(format: Format) -> Self {
        Reporter { format }
    }

    fn emit(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = out.write_all(b"\n");
        }
    }

    fn json(&self, value: &impl Serialize) {
        self.emit(&serde_json::to_string_pretty(value).expect("reports always serialize"));
    }

    /// A grade.
    pub fn grade(&self, report: &GradeReport) {
        match self.format {
            Format::Table => self.emit(&table::grade(report)),
            Format::Json => self.json(report),
            Format::Junit => self.emit(&junit::grade(report)),
        }
    }

    /// True when results are printed one by one as they come (tables); false when they
    /// must be gathered into one document (JSON, JUnit).
    pub fn streams(&self) -> bool {
        self.format == Format::Table
    }

    /// Several end-to-end runs as one JSON array or one JUnit report.
    pub fn runs(&self, reports: &[RunReport]) {
        match self.format {
            Format::Table => reports.iter().for_each(|r| self.run(r)),
            Format::Json => self.json(&reports),
            Format::Junit => self.emit(&junit::runs(reports)),
        }
    }

    /// An end-to-end run.
    pub fn run(&self, report: &RunReport) {
        match self.format {
            Format::Table => self.emit(&table::run(report)),
            Format::Json => self.json(report),
            Format::Junit => self.emit(&junit::run(report)),
        }
    }

    /// What `break` confirmed, with the task for the learner.
    pub fn broken(&self, lab: &str, report: &BreakReport, description: &str) {
        match self.format {
            Format::Table => self.emit(&table::broken(lab, report, description)),
            _ => self.json(report),
        }
    }

    /// A lab's state.
    pub fn status(&self, status: &LabStatus) {
        match self.format {
            Format::Table => self.emit(&table::status(status)),
            _ => self.json(status),
        }
    }

    /// What `down` removed.
    pub fn removed(&self, lab: &str, removed: &Removed) {
        match self.format {
            Format::Table => self.emit(&format!("lab {lab}: removed {}", removed.summary())),
            _ => self.json(removed),
        }
    }

    /// The scenario catalogue.
    pub fn scenarios(&self, rows: &[ScenarioRow]) {
        match self.format {
            Format::Table => self.emit(&table::scenarios(rows)),
            _ => self.json(&rows),
        }
    }

    /// The images each component uses.
    pub fn images(&self, rows: &[ImageRow]) {
        match self.format {
            Format::Table => self.emit(&table::images(rows)),
            _ => self.json(&rows),
        }
    }

    /// Each node's clock.
    pub fn clocks(&self, clocks: &[crate::lab::clock::NodeClock]) {
        match self.format {
            Format::Table => self.emit(&table::clocks(clocks)),
            _ => self.json(&clocks),
        }
    }

    /// A one-line result, or `{"message": ...}` in JSON.
    pub fn message(&self, text: &str) {
        match self.format {
            Format::Table => self.emit(text),
            _ => self.json(&serde_json::json!({ "message": text })),
        }
    }

    /// A failed command, for programs reading stdout: `{"error": ..., "exit_code": ...}` in
    /// JSON, a one-case failing suite in JUnit; nothing in a table (stderr has said it).
    pub fn error(&self, message: &str, exit_code: u8) {
        match self.format {
            Format::Table => {}
            Format::Json => self.json(&serde_json::json!({
                "error": message,
                "exit_code": exit_code,
            })),
            Format::Junit => self.emit(&junit::error(message, exit_code)),
        }
    }

    /// A line for the person at the terminal, on stderr, whatever the format.
    pub fn notice(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{text}");
    }
}
