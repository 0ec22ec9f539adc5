//! Helpers shared by the integration tests: building the Go probe once,
//! running the supervisor with a time limit, and reading `key=value` lines.

#![allow(dead_code)] // each test binary uses a different subset

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use std::{fs, thread};

pub const SEC: i128 = 1_000_000_000;

/// How far a shifted reading may stray from the expected window.
pub const TOLERANCE: i128 = 2 * SEC;

/// The Go probe (tests/fixtures/probe), built once per test binary.
pub fn probe() -> &'static Path {
    static PROBE: OnceLock<PathBuf> = OnceLock::new();
    PROBE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let out = dir.join("clockshift-probe");
        let tmp = dir.join(format!("clockshift-probe.{}", std::process::id()));
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/probe/main.go");
        let status = Command::new("go")
            .arg("build")
            .arg("-o")
            .arg(&tmp)
            .arg(&src)
            .env("CGO_ENABLED", "0")
            .status()
            .expect("go is needed to build the test probe");
        assert!(status.success(), "go build of the probe failed");
        fs::rename(&tmp, &out).unwrap();
        out
    })
}

/// The supervisor binary with `args`, then `--` and the command line `cmd`.
pub fn clockshift(args: &[&str], cmd: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_clockshift"));
    c.args(args).arg("--").args(cmd);
    c
}

/// The supervisor running the probe in `mode`.
pub fn probe_cmd(args: &[&str], mode: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_clockshift"));
    c.args(args).arg("--").arg(probe()).args(mode);
    c
}

/// Runs `cmd` to completion, killing it and failing after `limit`.
pub fn run(mut cmd: Command, limit: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn clockshift");
    let pid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("wait for clockshift"),
        Err(_) => {
            // SAFETY: signalling a child we started and have not reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("{cmd:?} did not finish within {limit:?}");
        }
    }
}

/// Starts `cmd` with piped stdout; a watchdog kills it after `limit`.
pub fn start(mut cmd: Command, limit: Duration) -> (Child, BufReader<ChildStdout>) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn clockshift");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let pid = child.id() as i32;
    thread::spawn(move || {
        thread::sleep(limit);
        // Only if the pid still names a clockshift (the test may have reaped it).
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains("clockshift") {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    (child, stdout)
}

pub fn read_line(reader: &mut BufReader<ChildStdout>) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).expect("read from clockshift");
    line
}

/// The `key=value` fields of a probe line with integer values.
pub fn fields(line: &str) -> HashMap<String, i128> {
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| Some((k.to_owned(), v.parse().ok()?)))
        .collect()
}

/// One field of a probe line, or a failure that shows the line.
pub fn field(line: &str, key: &str) -> i128 {
    *fields(line)
        .get(key)
        .unwrap_or_else(|| panic!("no {key}= in {line:?}"))
}

/// The test process's own wall clock, in nanoseconds since the epoch.
pub fn wall_now() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i128
}

/// A clock of the test process, read with clock_gettime.
pub fn clock_now(clock: libc::clockid_t) -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    assert_eq!(unsafe { libc::clock_gettime(clock, &mut ts) }, 0);
    i128::from(ts.tv_sec) * SEC + i128::from(ts.tv_nsec)
}

/// Asserts that `reading` lies in `[before, after]` shifted by `offset`,
/// give or take [`TOLERANCE`].
pub fn assert_shifted(reading: i128, before: i128, after: i128, offset: i128, what: &str) {
    let (lo, hi) = (before + offset - TOLERANCE, after + offset + TOLERANCE);
    assert!(
        (lo..=hi).contains(&reading),
        "{what}: {reading} is {:.3}s from the true time, expected a shift of {}s",
        (reading - before) as f64 / 1e9,
        offset / SEC
    );
}

/// Parses the `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` that `clockshift now` prints.
pub fn parse_rfc3339(text: &str) -> i128 {
    let num = |range: std::ops::Range<usize>| text[range].parse::<i64>().unwrap();
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    let secs = num(11..13) * 3600 + num(14..16) * 60 + num(17..19);
    assert!(text.ends_with('Z') && &text[19..20] == ".", "{text}");
    let nanos = num(20..29);
    // days_from_civil, after Howard Hinnant.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    i128::from(days * 86_400 + secs) * SEC + i128::from(nanos)
}
