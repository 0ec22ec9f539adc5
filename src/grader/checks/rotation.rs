//! The workload's SVID rotated after the fix: the probe saw two distinct serials with
//! the expected SPIFFE ID since its last error.
//!
//! A rotation is due about half-way through an SVID's lifetime (TTL plus SPIRE's 10 s
//! backdate), so when waiting is allowed the check waits until the newest SVID's rotation
//! is overdue before failing.

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
    let judge = || async {
        let records = lab.probe_records(&workload.name).await?;
        let seen = Observed::from_records(&records, &expected);
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
}

impl Observed {
    fn from_records(records: &[Record], expected: &str) -> Self {
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
        }
    }

    fn rotated(&self) -> bool {
        self.svids.len() >= 2
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
        } else if !self.rotated() {
            evidence.push("only one SVID since the last error; no rotation observed".into());
        }
        Finding {
            passed: self.rotated(),
            evidence,
        }
    }
}
