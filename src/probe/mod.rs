//! The workload probe: a small program in each workload container that watches the
//! Workload API and writes one JSON line per SVID update or error.
//!
//! The record format ([`Record`]) is shared by the probe, which writes it, and the grader
//! and `spirelab status`, which read it back from the container's log. The watcher
//! ([`watch`]), the one-shot fetch ([`fetch`]) and the metrics endpoint ([`metrics`]) run
//! only inside workload containers.

pub mod fetch;
pub mod metrics;
pub mod svid;
pub mod watch;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One line of the probe's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// When the probe saw it.
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// The workload's name.
    pub workload: String,
    /// The uid the probe runs as.
    pub uid: u32,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

/// What the probe saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// An X509-SVID with a serial the probe had not seen before.
    Svid(svid::SvidSummary),
    /// The Workload API could not be reached or refused the workload.
    Error {
        /// The class of failure.
        kind: ErrorKind,
        /// The error text, with its causes.
        error: String,
    },
}

/// Classes of Workload API failures, as hints and alerts tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// PermissionDenied "no identity issued": no entry matches the workload.
    NoIdentity,
    /// The socket is missing or nothing listens on it.
    Dial,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// The label value used in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NoIdentity => "no_identity",
            ErrorKind::Dial => "dial",
            ErrorKind::Other => "other",
        }
    }
}

impl Record {
    /// The records in a probe's log; lines that are not records are skipped.
    pub fn parse_log(log: &str) -> Vec<Record> {
        log.lines()
            .filter_map(|line| serde_json::from_str(line.trim()).ok())
            .collect()
    }

    /// The SVID this record reports, if it is an SVID update.
    pub fn svid(&self) -> Option<&svid::SvidSummary> {
        match &self.event {
            Event::Svid(svid) => Some(svid),
            Event::Error { .. } => None,
        }
    }
}

/// A time as evidence shows it: RFC 3339, whole seconds, UTC.
pub fn show_time(time: OffsetDateTime) -> String {
    let whole = time.replace_nanosecond(0).unwrap_or(time);
    whole
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| time.to_string())
}

/// The uid this process runs as, read from /proc so no unsafe call is needed.
pub fn current_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_svid_and_error_lines_and_skips_noise() {
        let log = concat!(
            r#"{"time":"2026-12-03T19:00:00Z","workload":"w","uid":1001,"event":"svid","#,
            r#""spiffe_id":"spiffe://lab.test/w","serial":"0a","#,
            r#""not_before":"2026-12-03T18:59:50Z","#,
            r#""not_after":"2026-12-03T19:01:00Z"}"#,
            "\nnot json\n",
            r#"{"time":"2026-12-03T19:00:05Z","workload":"w","uid":1001,"event":"error","#,
            r#""kind":"no_identity","error":"no identity issued"}"#,
        );
        let records = Record::parse_log(log);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].svid().unwrap().serial, "0a");
        assert!(matches!(
            records[1].event,
            Event::Error {
                kind: ErrorKind::NoIdentity,
                ..
            }
        ));
    }
}
