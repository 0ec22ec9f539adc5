//! The clock offset: parsing a signed duration such as `+15m`, `-10m`,
//! `+900s`, `+1h30m` or `0`, and following an offset file that may be
//! rewritten while the supervised program runs.
//!
//! The file is checked at most every [`CHECK_INTERVAL`] and only re-read when
//! its metadata changed. A missing file means the base offset (`--offset`,
//! default 0). A file that cannot be read or parsed keeps the last good offset
//! and is reported once on stderr until it is good again; an empty file keeps
//! it silently, since a writer may be between truncating and writing.

use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::log;

/// How often the offset file's metadata is checked, at most.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// Offset files larger than this are not offsets.
const MAX_FILE_LEN: u64 = 256;

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// A signed shift of the wall clock, with nanosecond resolution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offset {
    nanos: i64,
}

impl Offset {
    pub const ZERO: Offset = Offset { nanos: 0 };

    #[cfg(test)]
    pub fn from_nanos(nanos: i64) -> Self {
        Offset { nanos }
    }

    pub fn as_nanos(self) -> i64 {
        self.nanos
    }

    /// The offset in seconds, as a JSON number: an integer when whole.
    pub fn seconds_json(self) -> String {
        let (secs, frac) = (self.nanos / NANOS_PER_SEC, self.nanos % NANOS_PER_SEC);
        if frac == 0 {
            return secs.to_string();
        }
        let sign = if self.nanos < 0 { "-" } else { "" };
        let digits = format!("{:09}", frac.unsigned_abs());
        format!(
            "{sign}{}.{}",
            secs.unsigned_abs(),
            digits.trim_end_matches('0')
        )
    }
}

impl fmt::Display for Offset {
    /// Canonical form: `0`, or a sign, seconds and `s` (`+900s`, `-0.25s`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.nanos {
            0 => f.write_str("0"),
            n if n > 0 => write!(f, "+{}s", self.seconds_json()),
            _ => write!(f, "{}s", self.seconds_json()),
        }
    }
}

impl FromStr for Offset {
    type Err = Error;

    /// Grammar: optional whitespace, an optional `+` or `-`, then either `0`
    /// or one or more `<digits><unit>` groups with unit `ms`, `s`, `m`, `h` or
    /// `d`, then optional whitespace.
    fn from_str(input: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidOffset {
            input: input.to_owned(),
            reason,
        };
        let text = input.trim();
        let (negative, body) = match text.as_bytes().first() {
            Some(b'+') => (false, &text[1..]),
            Some(b'-') => (true, &text[1..]),
            Some(_) => (false, text),
            None => return Err(invalid("empty")),
        };
        if body == "0" {
            return Ok(Offset::ZERO);
        }
        let magnitude = parse_groups(body).map_err(invalid)?;
        let nanos = if negative { -magnitude } else { magnitude };
        Ok(Offset { nanos })
    }
}

/// Parses `<digits><unit>` groups into a non-negative number of nanoseconds.
fn parse_groups(mut rest: &str) -> Result<i64, &'static str> {
    if rest.is_empty() {
        return Err("missing duration after the sign");
    }
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits_len == 0 {
            return Err("expected a number, like +15m, -10m, +900s or 0");
        }
        let (digits, tail) = rest.split_at(digits_len);
        let unit_len = tail.bytes().take_while(|b| !b.is_ascii_digit()).count();
        let (unit, tail) = tail.split_at(unit_len);
        let unit_nanos = unit_nanos(unit)?;
        let value: i64 = digits.parse().map_err(|_| "number too large")?;
        let group = value.checked_mul(unit_nanos).ok_or("offset too large")?;
        total = total.checked_add(group).ok_or("offset too large")?;
        rest = tail;
    }
    Ok(total)
}

fn unit_nanos(unit: &str) -> Result<i64, &'static str> {
    match unit {
        "ms" => Ok(1_000_000),
        "s" => Ok(NANOS_PER_SEC),
        "m" => Ok(60 * NANOS_PER_SEC),
        "h" => Ok(3600 * NANOS_PER_SEC),
        "d" => Ok(86_400 * NANOS_PER_SEC),
        "" => Err("missing unit (ms, s, m, h or d) after a number"),
        _ if unit.starts_with('.') => Err("fractions are not supported; use a smaller unit"),
        _ => Err("unknown unit (expected ms, s, m, h or d)"),
    }
}

/// Reads and parses an offset file. `Ok(None)` means the file does not exist.
pub fn read_offset_file(path: &Path) -> Result<Option<Offset>> {
    let unreadable = |source| Error::OffsetFileUnreadable {
        path: path.to_owned(),
        source,
    };
    let file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unreadable(e)),
    };
    let mut text = String::new();
    file.take(MAX_FILE_LEN + 1)
        .read_to_string(&mut text)
        .map_err(unreadable)?;
    if text.len() as u64 > MAX_FILE_LEN {
        let source = Error::InvalidOffset {
            input: text,
            reason: "file too long",
        };
        return Err(Error::OffsetFileInvalid {
            path: path.to_owned(),
            source: Box::new(source),
        });
    }
    text.parse()
        .map(Some)
        .map_err(|e| Error::OffsetFileInvalid {
            path: path.to_owned(),
            source: Box::new(e),
        })
}

/// What identifies one version of the offset file, or its absence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stamp {
    Missing,
    Present {
        dev: u64,
        ino: u64,
        size: u64,
        mtime: (i64, i64),
        ctime: (i64, i64),
    },
}

impl Stamp {
    fn of(path: &Path) -> io::Result<Stamp> {
        match fs::metadata(path) {
            Ok(m) => Ok(Stamp::Present {
                dev: m.dev(),
                ino: m.ino(),
                size: m.size(),
                mtime: (m.mtime(), m.mtime_nsec()),
                ctime: (m.ctime(), m.ctime_nsec()),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Stamp::Missing),
            Err(e) => Err(e),
        }
    }
}

/// An offset file being followed.
#[derive(Debug)]
struct Watched {
    path: PathBuf,
    /// The version last applied; `None` forces a re-read at the next check.
    applied: Option<Stamp>,
    next_check: Instant,
    /// Whether the current failure was already reported.
    reported: bool,
}

/// The current offset: a base value, overridden by the offset file if any.
#[derive(Debug)]
pub struct OffsetSource {
    base: Offset,
    current: Offset,
    file: Option<Watched>,
}

impl OffsetSource {
    /// Reads the offset file once, strictly: garbage in it is an error here.
    pub fn open(base: Offset, path: Option<PathBuf>) -> Result<Self> {
        let mut source = OffsetSource {
            base,
            current: base,
            file: None,
        };
        if let Some(path) = path {
            let stamp = Stamp::of(&path).ok();
            if let Some(offset) = read_offset_file(&path)? {
                source.current = offset;
            }
            let next_check = Instant::now() + CHECK_INTERVAL;
            source.file = Some(Watched {
                path,
                applied: stamp,
                next_check,
                reported: false,
            });
        }
        Ok(source)
    }

    /// The offset to apply now, after re-reading the file if it changed.
    pub fn current(&mut self) -> Offset {
        let now = Instant::now();
        if let Some(file) = self.file.as_mut().filter(|f| now >= f.next_check) {
            file.next_check = now + CHECK_INTERVAL;
            if let Some(offset) = file.refresh(self.base) {
                if offset != self.current {
                    log!("offset changed from {} to {}", self.current, offset);
                }
                self.current = offset;
            }
        }
        self.current
    }
}

impl Watched {
    /// Re-reads the file if its metadata changed; `Some` is the new offset.
    fn refresh(&mut self, base: Offset) -> Option<Offset> {
        let stamp = Stamp::of(&self.path).ok();
        if stamp.is_some() && stamp == self.applied {
            return None;
        }
        match read_offset_file(&self.path) {
            Ok(offset) => {
                self.applied = stamp;
                self.reported = false;
                Some(offset.unwrap_or(base))
            }
            Err(e) => {
                self.applied = None;
                if is_empty_file(&e) {
                    return None; // most likely caught between truncate and write
                }
                if !std::mem::replace(&mut self.reported, true) {
                    log!("{}; keeping the last good offset", crate::error_chain(&e));
                }
                None
            }
        }
    }
}

fn is_empty_file(err: &Error) -> bool {
    matches!(err, Error::OffsetFileInvalid { source, .. }
        if matches!(**source, Error::InvalidOffset { reason: "empty", .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nanos(s: &str) -> i64 {
        s.parse::<Offset>()
            .unwrap_or_else(|e| panic!("{s:?}: {e}"))
            .as_nanos()
    }

    fn reason(s: &str) -> &'static str {
        match s.parse::<Offset>() {
            Err(Error::InvalidOffset { reason, .. }) => reason,
            other => panic!("{s:?} parsed as {other:?}"),
        }
    }

    const S: i64 = NANOS_PER_SEC;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(nanos("+15m"), 900 * S);
        assert_eq!(nanos("-10m"), -600 * S);
        assert_eq!(nanos("+900s"), 900 * S);
        assert_eq!(nanos("0"), 0);
        assert_eq!(nanos("+0"), 0);
        assert_eq!(nanos("-0"), 0);
    }

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(nanos("15m"), 900 * S);
        assert_eq!(nanos("+250ms"), S / 4);
        assert_eq!(nanos("-2h"), -7200 * S);
        assert_eq!(nanos("+1d"), 86_400 * S);
        assert_eq!(nanos("+1h30m15s"), 5415 * S);
        assert_eq!(nanos("-0s"), 0);
    }

    #[test]
    fn ignores_surrounding_whitespace() {
        assert_eq!(nanos("  +15m\n"), 900 * S);
        assert_eq!(nanos("-10m\r\n"), -600 * S);
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        assert_eq!(reason(""), "empty");
        assert_eq!(reason("  \n"), "empty");
        assert_eq!(reason("+"), "missing duration after the sign");
        assert_eq!(
            reason("900"),
            "missing unit (ms, s, m, h or d) after a number"
        );
        assert_eq!(reason("+15x"), "unknown unit (expected ms, s, m, h or d)");
        assert_eq!(reason("+15 m"), "unknown unit (expected ms, s, m, h or d)");
        assert_eq!(
            reason("fifteen"),
            "expected a number, like +15m, -10m, +900s or 0"
        );
        assert_eq!(
            reason("+-5m"),
            "expected a number, like +15m, -10m, +900s or 0"
        );
        assert_eq!(
            reason("+1.5h"),
            "fractions are not supported; use a smaller unit"
        );
        assert_eq!(
            reason("+5m junk"),
            "unknown unit (expected ms, s, m, h or d)"
        );
    }

    #[test]
    fn rejects_overflow() {
        assert_eq!(reason("+99999999999999999999s"), "number too large");
        assert_eq!(reason("+999999999999d"), "offset too large");
    }

    #[test]
    fn displays_canonically() {
        assert_eq!(Offset::from_nanos(900 * S).to_string(), "+900s");
        assert_eq!(Offset::from_nanos(-600 * S).to_string(), "-600s");
        assert_eq!(Offset::from_nanos(-S / 4).to_string(), "-0.25s");
        assert_eq!(Offset::ZERO.to_string(), "0");
        assert_eq!(Offset::from_nanos(1_500_000_000).seconds_json(), "1.5");
        assert_eq!(Offset::from_nanos(-900 * S).seconds_json(), "-900");
    }

    #[test]
    fn display_of_whole_seconds_parses_back() {
        for n in [0, S, -S, 900 * S, -600 * S, 86_400 * S] {
            assert_eq!(nanos(&Offset::from_nanos(n).to_string()), n);
        }
    }

    #[test]
    fn file_source_follows_changes_and_keeps_last_good() {
        let dir = std::env::temp_dir().join(format!("clockshift-unit-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("offset");
        fs::write(&path, "+15m\n").unwrap();
        let mut src = OffsetSource::open(Offset::ZERO, Some(path.clone())).unwrap();
        assert_eq!(src.current().as_nanos(), 900 * S);

        let step = |src: &mut OffsetSource| {
            std::thread::sleep(CHECK_INTERVAL + Duration::from_millis(20));
            src.current().as_nanos()
        };
        fs::write(&path, "-10m").unwrap();
        assert_eq!(step(&mut src), -600 * S);
        fs::write(&path, "garbage").unwrap();
        assert_eq!(
            step(&mut src),
            -600 * S,
            "garbage keeps the last good offset"
        );
        fs::write(&path, "").unwrap();
        assert_eq!(
            step(&mut src),
            -600 * S,
            "an empty file keeps the last good offset"
        );
        fs::remove_file(&path).unwrap();
        assert_eq!(step(&mut src), 0, "a missing file means the base offset");
        fs::write(&path, "+1h").unwrap();
        assert_eq!(step(&mut src), 3600 * S);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn open_is_strict_about_garbage_and_lenient_about_absence() {
        let dir = std::env::temp_dir().join(format!("clockshift-unit2-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("offset");
        let base = Offset::from_nanos(5 * S);
        let mut src = OffsetSource::open(base, Some(path.clone())).unwrap();
        assert_eq!(src.current(), base);
        fs::write(&path, "soon").unwrap();
        let err = OffsetSource::open(base, Some(path.clone())).unwrap_err();
        assert!(matches!(err, Error::OffsetFileInvalid { .. }), "{err:?}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
