//! The supervisor's own, true clocks, and wall-clock instants: shifting them
//! by an [`Offset`] and printing them as RFC 3339.

use std::io;

use crate::offset::Offset;

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// An instant on a wall clock, in nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WallTime {
    nanos: i128,
}

impl WallTime {
    pub fn from_parts(secs: i64, nanos: i64) -> Self {
        WallTime {
            nanos: i128::from(secs) * NANOS_PER_SEC + i128::from(nanos),
        }
    }

    /// Reads `clock` of this (unsupervised) process.
    pub fn read(clock: libc::clockid_t) -> io::Result<Self> {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
        let ret = unsafe { libc::clock_gettime(clock, &mut ts) };
        if ret != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(WallTime::from_parts(ts.tv_sec, ts.tv_nsec))
    }

    pub fn shifted(self, offset: Offset) -> Self {
        WallTime {
            nanos: self.nanos + i128::from(offset.as_nanos()),
        }
    }

    /// Whole seconds, rounded towards minus infinity (as `tv_sec` is).
    pub fn secs(self) -> i64 {
        self.nanos.div_euclid(NANOS_PER_SEC) as i64
    }

    /// Nanoseconds past [`secs`](Self::secs), in `0..1_000_000_000`.
    pub fn subsec_nanos(self) -> i64 {
        self.nanos.rem_euclid(NANOS_PER_SEC) as i64
    }

    /// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
    pub fn rfc3339(self) -> String {
        let secs = self.secs();
        let (days, day_secs) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        let (hour, minute, second) = (day_secs / 3600, day_secs / 60 % 60, day_secs % 60);
        let nanos = self.subsec_nanos();
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{nanos:09}Z")
    }
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month, day),
/// after Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(
            WallTime::from_parts(0, 0).rfc3339(),
            "1970-01-01T00:00:00.000000000Z"
        );
        let t = WallTime::from_parts(1_700_000_000, 5);
        assert_eq!(t.rfc3339(), "2023-11-14T22:13:20.000000005Z");
        assert_eq!(
            WallTime::from_parts(951_782_400, 0).rfc3339(),
            "2000-02-29T00:00:00.000000000Z"
        );
        assert_eq!(
            WallTime::from_parts(-1, 0).rfc3339(),
            "1969-12-31T23:59:59.000000000Z"
        );
    }

    #[test]
    fn shifts_and_normalises() {
        let t = WallTime::from_parts(100, 200).shifted(Offset::from_nanos(-300));
        assert_eq!((t.secs(), t.subsec_nanos()), (99, 999_999_900));
        let t = WallTime::from_parts(100, 999_999_999).shifted(Offset::from_nanos(900_000_000_001));
        assert_eq!((t.secs(), t.subsec_nanos()), (1001, 0));
    }

    #[test]
    fn reads_the_real_clock() {
        let t = WallTime::read(libc::CLOCK_REALTIME).unwrap();
        assert!(t.secs() > 1_600_000_000);
        assert!(WallTime::read(-1234).is_err());
    }
}
