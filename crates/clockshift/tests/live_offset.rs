//! The offset file can be rewritten while the supervised program runs, and
//! the new offset applies to its next clock reads; a broken file keeps the
//! last good offset.

mod common;

use std::fs;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout};
use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(60);

fn tempdir(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("live-{name}-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Replaces the file's content atomically, as an orchestrator should.
fn replace(file: &Path, content: &str) {
    let tmp = file.with_extension("tmp");
    fs::write(&tmp, content).unwrap();
    fs::rename(&tmp, file).unwrap();
}

/// The apparent offset of a ticker line: its wall reading minus the true time.
fn apparent_offset(line: &str) -> i128 {
    field(line, "wall") - wall_now()
}

fn assert_about(offset: i128, expected_secs: i128, what: &str) {
    let expected = expected_secs * SEC;
    assert!(
        (offset - expected).abs() < TOLERANCE,
        "{what}: {}s, expected {expected_secs}s",
        offset / SEC
    );
}

/// Reads `count` ticker lines; all but the first `settle` (read while the
/// change may not be seen yet) must show an offset of about `secs`.
fn expect_offsets(stdout: &mut BufReader<ChildStdout>, count: usize, settle: usize, secs: i128) {
    for i in 0..count {
        let offset = apparent_offset(&read_line(stdout));
        if i >= settle {
            assert_about(offset, secs, &format!("line {i} of the {secs}s phase"));
        }
    }
}

/// Waits for a successful exit and returns what the supervisor logged.
fn finish(mut child: Child) -> String {
    assert!(child.wait().unwrap().success());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    stderr
}

#[test]
fn a_rewritten_offset_file_applies_while_the_program_runs() {
    let dir = tempdir("rewrite");
    let file = dir.join("clock-offset");
    replace(&file, "+15m\n");
    let args = ["--offset-file", file.to_str().unwrap()];
    let (child, mut stdout) = start(probe_cmd(&args, &["ticker", "30"]), LIMIT);

    expect_offsets(&mut stdout, 8, 0, 900);
    // The file is checked every 100 ms and the probe prints every 100 ms.
    replace(&file, "-10m\n"); // atomic rename
    expect_offsets(&mut stdout, 10, 3, -600);
    fs::write(&file, "+1h").unwrap(); // in-place rewrite (truncate, then write)
    expect_offsets(&mut stdout, 12, 3, 3600);

    let stderr = finish(child);
    assert!(
        stderr.contains("offset changed from +900s to -600s"),
        "{stderr}"
    );
    assert!(
        stderr.contains("offset changed from -600s to +3600s"),
        "{stderr}"
    );
    assert!(!stderr.contains("keeping the last good offset"), "{stderr}");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_broken_offset_file_keeps_the_last_good_offset_and_is_reported_once() {
    let dir = tempdir("broken");
    let file = dir.join("clock-offset");
    replace(&file, "-10m");
    let args = ["--offset-file", file.to_str().unwrap()];
    let (child, mut stdout) = start(probe_cmd(&args, &["ticker", "25"]), LIMIT);

    expect_offsets(&mut stdout, 5, 0, -600);
    replace(&file, "ten minutes ago");
    expect_offsets(&mut stdout, 8, 0, -600);
    fs::remove_file(&file).unwrap(); // a missing file means the base offset, 0
    expect_offsets(&mut stdout, 8, 3, 0);

    let stderr = finish(child);
    let reports = stderr.matches("keeping the last good offset").count();
    assert_eq!(reports, 1, "garbage is reported once: {stderr}");
    assert!(
        stderr.contains("invalid offset \"ten minutes ago\""),
        "{stderr}"
    );
    fs::remove_dir_all(dir).unwrap();
}
