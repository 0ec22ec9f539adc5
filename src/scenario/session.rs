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
    /// When the fault was applied.
    #[serde(with = "time::serde::rfc3339")]
    pub broken_at: OffsetDateTime,
    /// How many hints `spirelab hint` has shown.
    pub hints_shown: usize,
}

/// Where lab `lab`'s session is kept.
pub fn path(lab: &str) -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    base.join("spirelab")
        .join("labs")
        .join(format!("{lab}.json"))
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

/// Forgets the session of `lab`, and the dashboard file written next to it.
pub fn clear(lab: &str) {
    let _ = std::fs::remove_file(path(lab));
    let _ = std::fs::remove_file(crate::lab::grafana::dashboard_path(lab));
}

/// How a scenario argument is remembered: files by absolute path, names as they are.
pub fn remembered(name_or_path: &str) -> String {
    std::fs::canonicalize(name_or_path)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| name_or_path.to_string())
}
