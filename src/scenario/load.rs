//! Reading a scenario: find it, parse it, and reject anything that cannot run, with the
//! file, line and column of the problem, before a single container starts.

use std::path::Path;

use serde_saphyr::Spanned;

use super::builtin;
use super::model::{Check, Scenario, Step};
use crate::lab::{LabSpec, SpecError};

/// A scenario that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Neither a built-in name nor a readable file.
    #[error("no scenario {0:?}: not a built-in name (see `spirelab list`) and no such file")]
    NotFound(String),
    /// The file exists but could not be read.
    #[error("failed to read scenario file {path}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The YAML does not have the scenario's shape.
    #[error("{origin}:{line}:{column}: {message}")]
    Syntax {
        /// The file or built-in name.
        origin: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A value is well-formed but does not fit the rest of the scenario.
    #[error("{origin}:{line}:{column}: {message}")]
    Invalid {
        /// The file or built-in name.
        origin: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What is wrong.
        message: String,
    },
    /// The `lab:` section describes a lab that cannot be built.
    #[error("{origin}: lab: {source}")]
    Lab {
        /// The file or built-in name.
        origin: String,
        /// What is wrong with it.
        #[source]
        source: SpecError,
    },
}

/// A scenario and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file path, or `builtin:NAME`.
    pub origin: String,
    /// The parsed, validated scenario.
    pub scenario: Scenario,
}

/// Finds `name_or_path` as a built-in scenario name or a file, and loads it.
pub fn resolve(name_or_path: &str) -> Result<Loaded, ScenarioError> {
    let path = Path::new(name_or_path);
    if path.is_file() {
        let read_error = |source| ScenarioError::Read {
            path: name_or_path.to_string(),
            source,
        };
        let text = std::fs::read_to_string(path).map_err(read_error)?;
        return load(name_or_path, &text);
    }
    match builtin::find(name_or_path) {
        Some(text) => load(&format!("builtin:{name_or_path}"), text),
        None => Err(ScenarioError::NotFound(name_or_path.to_string())),
    }
}

/// Parses and validates scenario `text` read from `origin`.
pub fn load(origin: &str, text: &str) -> Result<Loaded, ScenarioError> {
    let scenario: Scenario =
        serde_saphyr::from_str(text).map_err(|error| syntax(origin, &error))?;
    validate(origin, &scenario)?;
    Ok(Loaded {
        origin: origin.to_string(),
        scenario,
    })
}

fn syntax(origin: &str, error: &serde_saphyr::Error) -> ScenarioError {
    let (line, column) = error.location().map_or((0, 0), |l| (l.line(), l.column()));
    let message = first_line_without_position(&error.to_string());
    ScenarioError::Syntax {
        origin: origin.to_string(),
        line,
        column,
        message,
    }
}

/// serde-saphyr prefixes messages with their position and may add a snippet; keep the
/// message alone, since the position is printed in front of it already.
fn first_line_without_position(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default();
    match first.split_once(" at line ") {
        Some((message, _)) => message.trim().to_string(),
        None => first.trim().to_string(),
    }
}

fn validate(origin: &str, scenario: &Scenario) -> Result<(), ScenarioError> {
    let lab = &scenario.lab;
    lab.validate().map_err(|source| ScenarioError::Lab {
        origin: origin.to_string(),
        source,
    })?;
    let invalid = |at: &Spanned<String>, message: String| ScenarioError::Invalid {
        origin: origin.to_string(),
        line: at.referenced.line(),
        column: at.referenced.column(),
        message,
    };
    for step in scenario.break_steps.iter().chain(&scenario.solve) {
        validate_step(lab, step).map_err(|(at, message)| invalid(at, message))?;
    }
    for check in scenario.broken.checks.iter().chain(&scenario.grade) {
        known_workload(lab, check.workload()).map_err(|(at, message)| invalid(at, message))?;
    }
    if scenario.grade.is_empty() {
        return Err(ScenarioError::Lab {
            origin: origin.to_string(),
            source: SpecError::Empty,
        });
    }
    Ok(())
}

type Problem<'a> = (&'a Spanned<String>, String);

fn validate_step<'a>(lab: &LabSpec, step: &'a Step) -> Result<(), Problem<'a>> {
    match step {
        Step::EntryUpdate(update) => known_workload(lab, &update.workload),
        Step::EntryRestore(r) | Step::EntryDelete(r) => known_workload(lab, &r.workload),
        Step::Restart(c) => known_component(lab, &c.component),
        Step::Wait(_) => Ok(()),
    }
}

fn known_workload<'a>(lab: &LabSpec, name: &'a Spanned<String>) -> Result<(), Problem<'a>> {
    if lab.workload(&name.value).is_some() {
        return Ok(());
    }
    let known: Vec<&str> = lab.workloads.iter().map(|w| w.name.as_str()).collect();
    Err((
        name,
        format!(
            "unknown workload {:?}; the lab has {}",
            name.value,
            known.join(", ")
        ),
    ))
}

fn known_component<'a>(lab: &LabSpec, name: &'a Spanned<String>) -> Result<(), Problem<'a>> {
    let known = lab.component_names();
    if known.contains(&name.value) {
        return Ok(());
    }
    Err((
        name,
        format!(
            "unknown component {:?}; the lab has {}",
            name.value,
            known.join(", ")
        ),
    ))
}

/// Every check of a scenario, graded or not, for listing.
pub fn all_checks(scenario: &Scenario) -> impl Iterator<Item = &Check> {
    scenario.broken.checks.iter().chain(&scenario.grade)
}
