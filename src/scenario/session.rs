//! The exercise a lab is in: which scenario broke it, when, and how many hints the
//! learner has seen. Kept in a small file per lab under the user's state directory, so
//! `grade` and `hint` know the scenario without being told again.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The current exercise of one lab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// What `break` was given: a built-in name or an absolute file path.
    pub scenario: String,
    /// Where the scenario came from (`builtin:NAME` or the file path), for its errors and
    /// for files it names relative to itself.
    #[serde(default)]
    pub origin: String,
    /// The scenario's YAML as it was when the lab broke, so editing or deleting the file
    /// afterwards changes neither the grade nor the hints.
    #[serde(default)]
    pub text: String,
    /// When the fault was applied.
    #[serde(with = "time::serde::rfc3339")]
    pub broken_at: OffsetDateTime,
    /// How many hints `spirelab hint` has shown.
    pub hints_shown: usize,
}

/// Where lab `lab`'s session is kept.
pub fn path(lab: &str) -> PathBuf {
    labs_dir().join(format!("{lab}.json"))
}

fn labs_dir() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    base.join("spirelab").join("labs")
}

/// Held while a command changes a lab, so two commands never build, break or remove the
/// same lab at once; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct LabLock {
    _file: std::fs::File,
}

/// Why a lab could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another spirelab command holds the lab.
    #[error("lab {0} is being changed by another spirelab command; wait for it to finish")]
    Busy(String),
    /// The lock file could not be made.
    #[error("failed to lock lab {lab} with {path}")]
    File {
        /// The lab.
        lab: String,
        /// The lock file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Takes lab `lab`'s lock without waiting.
pub fn lock(lab: &str) -> Result<LabLock, LockError> {
    lock_in(&labs_dir(), lab)
}

fn lock_in(dir: &std::path::Path, lab: &str) -> Result<LabLock, LockError> {
    let path = dir.join(format!("{lab}.lock"));
    let file_error = |source| LockError::File {
        lab: lab.to_string(),
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(file_error)?;
    let file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(file_error)?;
    match file.try_lock() {
        Ok(()) => Ok(LabLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(LockError::Busy(lab.to_string())),
        Err(std::fs::TryLockError::Error(source)) => Err(file_error(source)),
    }
}

/// Saves the session of `lab`.
pub fn save(lab: &str, session: &Session) -> std::io::Result<()> {
    let path = path(lab);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(session).expect("sessions always serialize");
    std::fs::write(path, text)
}

/// The session of `lab`, if it has one.
pub fn load(lab: &str) -> Option<Session> {
    let text = std::fs::read_to_string(path(lab)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Forgets the exercise of `lab` (a new lab of the same name starts unbroken).
pub fn clear_exercise(lab: &str) {
    let _ = std::fs::remove_file(path(lab));
}

/// Forgets the session of `lab`, and the dashboard file written next to it.
pub fn clear(lab: &str) {
    let _ = std::fs::remove_file(path(lab));
    let _ = std::fs::remove_file(crate::lab::grafana::dashboard_path(lab));
}

impl Session {
    /// The scenario the lab was broken with, as it was then.
    pub fn scenario(&self) -> Result<super::load::Loaded, super::ScenarioError> {
        match self.text.is_empty() {
            true => super::resolve(&self.scenario),
            false => super::load::load(&self.origin, &self.text),
        }
    }
}

/// How a scenario argument is remembered: files by absolute path, names as they are.
pub fn remembered(name_or_path: &str) -> String {
    std::fs::canonicalize(name_or_path)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| name_or_path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lab_lock_refuses_a_second_holder_until_dropped() {
        let dir = std::env::temp_dir().join(format!("spirelab-lock-test-{}", std::process::id()));
        let first = lock_in(&dir, "lab").expect("first lock");
        assert!(matches!(lock_in(&dir, "lab"), Err(LockError::Busy(name)) if name == "lab"));
        drop(first);
        lock_in(&dir, "lab").expect("lock after release");
        std::fs::remove_dir_all(&dir).expect("remove the test's directory");
    }
}
