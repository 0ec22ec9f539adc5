//! The workload's SVID rotated after the fix: the probe saw two distinct serials with
//! the expected SPIFFE ID since its last error.
//!
//! When grading may wait, the rotation must happen while the check watches: an SVID
//! already seen cannot vouch for a fix made later without an error in between. A rotation
//! is due about half-way through an SVID's lifetime (TTL plus SPIRE's 10 s backdate), so
//! the check waits until the newest SVID's rotation is overdue before failing. Without
//! waiting (grading a lab before its fix), any rotation since the last error counts.

use std::time::Duration;

use time::OffsetDateTime;

use crate::grader::CheckError;
use crate::grader::{Finding, GradeOptions};
use crate::lab::Lab;
use crate::lab::spec::WorkloadSpec;
use crate::lab::wait::{self, Poll};
use crate::probe::{Event, Record, show_time};

/// SPIRE backdates NotBefore by this much.
const BACKDATE: Duration = Duration::from_secs(10);
/// Agent sync interval, probe retry and scheduling slack on top of the rotation point.
const SLACK: Duration = Duration::from_secs(20);
/// How long to wait for the first SVID after the fix.
const FIRST_SVID: Duration = Duration::from_secs(30);

/// Looks for a rotation after the fix, waiting for one that is due when allowed.
pub async fn check(
    lab: &Lab,
    workload: &WorkloadSpec,
    options: GradeOptions,
) -> Result<Finding, CheckError> {
    let (_, expected) = lab.expected_identity(workload);
    let lifetime = lab.spec.svid_ttl + BACKDATE;
    let started = OffsetDateTime::now_utc();
    let watched_from = options.wait.then_some(started);
    let judge = || async {
        let records = lab.probe_records(&workload.name).await?;
        let seen = Observed::from_records(&records, &expected, watched_from);
        if seen.rotated() || !options.wait || seen.overdue(started, lifetime) {
            return Ok(Poll::Ready(seen.finding(&expected)));
        }
        Ok(Poll::Pending(seen.summary()))
    };
    let limit = FIRST_SVID + lifetime + SLACK;
    let what = format!("{} SVID to rotate", workload.name);
    Ok(wait::until(&what, limit, judge).await?)
}

/// What the probe saw since its last error.
struct Observed {
    last_error: Option<(OffsetDateTime, String)>,
    svids: Vec<(OffsetDateTime, String)>,
    other_ids: Vec<String>,
    /// Rotations count only from this time on, when set.
    watched_from: Option<OffsetDateTime>,
}

impl Observed {
    fn from_records(
        records: &[Record],
        expected: &str,
        watched_from: Option<OffsetDateTime>,
    ) -> Self {
        let split = records
            .iter()
            .rposition(|r| matches!(r.event, Event::Error { .. }));
        let last_error = split.map(|i| &records[i]).and_then(|r| match &r.event {
            Event::Error { error, .. } => Some((r.time, error.clone())),
            Event::Svid(_) => None,
        });
        let after = &records[split.map_or(0, |i| i + 1)..];
        let mut svids = Vec::new();
        let mut other_ids = Vec::new();
        for (record, svid) in after.iter().filter_map(|r| r.svid().map(|s| (r, s))) {
            if svid.spiffe_id == expected {
                svids.push((record.time, svid.serial.clone()));
            } else {
                other_ids.push(svid.spiffe_id.clone());
            }
        }
        Observed {
            last_error,
            svids,
            other_ids,
            watched_from,
        }
    }

    /// True when an SVID replaced an earlier one (both since the last error), late
    /// enough to count.
    fn rotated(&self) -> bool {
        let from = self.watched_from.unwrap_or(OffsetDateTime::UNIX_EPOCH);
        self.svids.iter().skip(1).any(|(time, _)| *time >= from)
    }

    /// True when the newest SVID should have rotated by now, or none arrived in time.
    fn overdue(&self, started: OffsetDateTime, lifetime: Duration) -> bool {
        let now = OffsetDateTime::now_utc();
        match self.svids.last() {
            Some((issued, _)) => now > *issued + lifetime.mul_f64(0.55) + SLACK,
            None => now > started + FIRST_SVID,
        }
    }

    fn summary(&self) -> String {
        match self.svids.last() {
            Some((_, serial)) => format!(
                "{} SVID(s) since the fix, newest serial {serial}",
                self.svids.len()
            ),
            None => "no SVID since the fix yet".into(),
        }
    }

    fn finding(&self, expected: &str) -> Finding {
        let mut evidence = Vec::new();
        if let Some((time, error)) = &self.last_error {
            evidence.push(format!("last probe error at {}: {error}", show_time(*time)));
        }
        for (time, serial) in &self.svids {
            evidence.push(format!(
                "serial {serial} for {expected} at {}",
                show_time(*time)
            ));
        }
        for other in &self.other_ids {
            evidence.push(format!("SVID for another identity: {other}"));
        }
        if self.svids.is_empty() {
            evidence.push(format!("no SVID for {expected} since the last error"));
        } else if !self.rotated() && self.watched_from.is_some() {
            evidence.push("no rotation while grading watched".into());
        } else if !self.rotated() {
            evidence.push("only one SVID since the last error; no rotation observed".into());
        }
        Finding {
            passed: self.rotated(),
            evidence,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::svid::SvidSummary;
    use time::macros::datetime;

    const ID: &str = "spiffe://lab.test/workload-1";

    fn svid(time: OffsetDateTime, serial: &str) -> Record {
        let summary = SvidSummary {
            spiffe_id: ID.into(),
            serial: serial.into(),
            not_before: time,
            not_after: time + Duration::from_secs(70),
        };
        Record {
            time,
            workload: "workload-1".into(),
            uid: 1001,
            event: Event::Svid(summary),
        }
    }

    fn error(time: OffsetDateTime) -> Record {
        let event = Event::Error {
            kind: crate::probe::ErrorKind::NoIdentity,
            error: "no identity issued".into(),
        };
        Record {
            time,
            workload: "workload-1".into(),
            uid: 1001,
            event,
        }
    }

    #[test]
    fn svids_before_the_last_error_do_not_count() {
        let records = [
            svid(datetime!(2026-12-03 19:00 UTC), "a"),
            svid(datetime!(2026-12-03 19:00:30 UTC), "b"),
            error(datetime!(2026-12-03 19:01 UTC)),
            svid(datetime!(2026-12-03 19:01:10 UTC), "c"),
        ];
        assert!(!Observed::from_records(&records, ID, None).rotated());
    }

    #[test]
    fn a_rotation_after_the_last_error_counts_when_judging_history() {
        let records = [
            error(datetime!(2026-12-03 19:01 UTC)),
            svid(datetime!(2026-12-03 19:01:10 UTC), "c"),
            svid(datetime!(2026-12-03 19:01:40 UTC), "d"),
        ];
        assert!(Observed::from_records(&records, ID, None).rotated());
    }

    #[test]
    fn when_watching_only_a_rotation_seen_after_the_start_counts() {
        let records = [
            svid(datetime!(2026-12-03 19:01:10 UTC), "c"),
            svid(datetime!(2026-12-03 19:01:40 UTC), "d"),
        ];
        let watched = Some(datetime!(2026-12-03 19:02 UTC));
        assert!(!Observed::from_records(&records, ID, watched).rotated());
        let mut later = records.to_vec();
        later.push(svid(datetime!(2026-12-03 19:02:10 UTC), "e"));
        assert!(Observed::from_records(&later, ID, watched).rotated());
    }
}
