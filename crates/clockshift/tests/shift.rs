//! The wall clock of supervised programs is shifted, whichever way they read
//! it (Go runtime, raw system calls, glibc), in every thread and descendant,
//! while monotonic and boot clocks are left alone.

mod common;

use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(60);

/// Runs the probe in `mode` under `--offset offset`; returns its stdout and
/// the true time just before and after.
fn probe_run(offset: &str, mode: &[&str]) -> (String, i128, i128) {
    let arg = format!("--offset={offset}");
    let cmd = probe_cmd(&[&arg], mode);
    let before = wall_now();
    let out = run(cmd, LIMIT);
    let after = wall_now();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{mode:?}: {:?}\n{stdout}\n{stderr}",
        out.status
    );
    (stdout, before, after)
}

#[test]
fn go_time_now_is_shifted_forward() {
    let (out, before, after) = probe_run("+15m", &["now"]);
    assert_shifted(
        field(&out, "wall"),
        before,
        after,
        900 * SEC,
        "time.Now() at +15m",
    );
}

#[test]
fn go_time_now_is_shifted_backward() {
    let (out, before, after) = probe_run("-10m", &["now"]);
    assert_shifted(
        field(&out, "wall"),
        before,
        after,
        -600 * SEC,
        "time.Now() at -10m",
    );
}

#[test]
fn zero_offset_reads_the_true_time() {
    let (out, before, after) = probe_run("0", &["now"]);
    assert_shifted(field(&out, "wall"), before, after, 0, "time.Now() at 0");
}

#[test]
fn monotonic_and_boot_clocks_are_not_shifted() {
    let mono_before = clock_now(libc::CLOCK_MONOTONIC);
    let boot_before = clock_now(libc::CLOCK_BOOTTIME);
    let (out, _, _) = probe_run("+15m", &["now"]);
    let mono_after = clock_now(libc::CLOCK_MONOTONIC);
    let boot_after = clock_now(libc::CLOCK_BOOTTIME);
    let f = fields(&out);
    assert!(
        (mono_before..=mono_after).contains(&f["mono"]),
        "CLOCK_MONOTONIC moved: {out}"
    );
    assert!(
        (boot_before..=boot_after).contains(&f["boot"]),
        "CLOCK_BOOTTIME moved: {out}"
    );
    let since = f["since"];
    assert!(
        (SEC / 5..SEC).contains(&since),
        "time.Since over a 200 ms sleep: {since} ns"
    );
}

#[cfg(target_arch = "x86_64")]
#[test]
fn raw_system_calls_are_shifted() {
    let tai_offset = clock_now(libc::CLOCK_TAI) - clock_now(libc::CLOCK_REALTIME);
    let (out, before, after) = probe_run("+15m", &["raw"]);
    let f = fields(&out);
    let shifted = |key: &str, scale: i128, extra: i128| {
        assert_shifted(
            f[key] * scale,
            before + extra,
            after + extra,
            900 * SEC,
            key,
        );
    };
    shifted("coarse", 1, 0);
    shifted("tai", 1, tai_offset);
    shifted("gtod_us", 1000, 0);
    shifted("time_ret", SEC, -SEC);
    shifted("time_ret2", SEC, -SEC);
    assert_eq!(
        f["time_loc"], f["time_ret2"],
        "time(&t) stores what it returns: {out}"
    );
}

#[cfg(target_arch = "x86_64")]
#[test]
fn raw_system_calls_fail_and_succeed_like_the_kernels() {
    let kernel_tz = kernel_timezone();
    let (out, _, _) = probe_run("+15m", &["raw"]);
    let f = fields(&out);
    assert_eq!(
        (f["tz_min"], f["tz_dst"]),
        kernel_tz,
        "timezone as the kernel gives it"
    );
    for key in [
        "null_errno",
        "mono_null_errno",
        "gtod_bad_errno",
        "time_bad_errno",
    ] {
        assert_eq!(
            f[key],
            i128::from(libc::EFAULT),
            "{key} (EFAULT expected): {out}"
        );
    }
    for key in ["gtod_ret", "gtod_errno", "gtod_null_ret", "gtod_null_errno"] {
        assert_eq!(f[key], 0, "{key}: {out}");
    }
}

/// The kernel's `struct timezone`, as the raw system call returns it.
#[cfg(target_arch = "x86_64")]
fn kernel_timezone() -> (i128, i128) {
    let mut tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    let mut tz = [0i32; 2];
    // SAFETY: both pointers are valid and writable.
    let ret = unsafe { libc::syscall(libc::SYS_gettimeofday, &mut tv, &mut tz) };
    assert_eq!(ret, 0);
    (i128::from(tz[0]), i128::from(tz[1]))
}

#[test]
fn every_thread_sees_the_shift() {
    let (out, before, after) = probe_run("-10m", &["threads", "32"]);
    let f = fields(&out);
    assert!(f["threads"] >= 16, "expected many OS threads: {out}");
    assert_shifted(
        f["min"],
        before,
        after,
        -600 * SEC,
        "earliest read of all threads",
    );
    assert_shifted(
        f["max"],
        before,
        after,
        -600 * SEC,
        "latest read of all threads",
    );
}

#[test]
fn children_and_grandchildren_see_the_shift() {
    let (out, before, after) = probe_run("+15m", &["spawn"]);
    let line = |prefix: &str| {
        out.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix}: {out}"))
    };
    let offset = 900 * SEC;
    assert_shifted(
        field(line("child "), "wall"),
        before,
        after,
        offset,
        "Go child",
    );
    let date = field(line("date "), "secs") * SEC;
    assert_shifted(
        date,
        before - SEC,
        after,
        offset,
        "date run by sh run by Go",
    );
    assert_shifted(
        field(line("parent "), "wall"),
        before,
        after,
        offset,
        "Go parent",
    );
}

#[test]
fn a_program_that_execs_itself_sees_the_shift() {
    let (out, before, after) = probe_run("+15m", &["execself"]);
    assert_shifted(
        field(&out, "wall"),
        before,
        after,
        900 * SEC,
        "after execve",
    );
}

#[test]
fn glibc_date_sees_the_shift() {
    for cmd in [&["date", "+%s"][..], &["sh", "-c", "date +%s"][..]] {
        let before = wall_now();
        let out = run(clockshift(&["--offset", "-10m"], cmd), LIMIT);
        let after = wall_now();
        assert!(out.status.success(), "{cmd:?}: {out:?}");
        let secs: i128 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        assert_shifted(
            secs * SEC,
            before - SEC,
            after,
            -600 * SEC,
            &format!("{cmd:?}"),
        );
    }
}

#[test]
fn now_subcommand_prints_both_times_and_the_offset() {
    let dir = tempdir("now");
    let file = dir.join("offset");
    std::fs::write(&file, "+15m\n").unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_clockshift"));
    cmd.args(["now", "--offset-file"]).arg(&file);
    let before = wall_now();
    let out = run(cmd, LIMIT);
    let after = wall_now();
    assert!(out.status.success(), "{out:?}");
    let line = String::from_utf8(out.stdout).unwrap();
    let value = |key: &str| {
        let start = line.find(&format!("\"{key}\":")).unwrap() + key.len() + 3;
        line[start..]
            .split([',', '}'])
            .next()
            .unwrap()
            .trim_matches('"')
            .to_owned()
    };
    assert_eq!(value("offset_seconds"), "900", "{line}");
    let truth = parse_rfc3339(&value("true_time"));
    assert_shifted(truth, before, after, 0, "true_time");
    assert_eq!(
        parse_rfc3339(&value("node_time")) - truth,
        900 * SEC,
        "{line}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_missing_offset_file_means_the_base_offset() {
    let dir = tempdir("missing");
    let file = dir.join("does-not-exist");
    for (args, expected) in [(&[][..], "0"), (&["--offset", "-5m"][..], "-300")] {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_clockshift"));
        cmd.arg("now").args(args).arg("--offset-file").arg(&file);
        let out = run(cmd, LIMIT);
        let line = String::from_utf8(out.stdout).unwrap();
        assert!(
            line.contains(&format!("\"offset_seconds\":{expected}}}")),
            "{line}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn garbage_in_the_offset_file_is_refused_at_start() {
    let dir = tempdir("garbage");
    let file = dir.join("offset");
    std::fs::write(&file, "in a while").unwrap();
    let file_arg = file.to_str().unwrap();
    let out = run(clockshift(&["--offset-file", file_arg], &["true"]), LIMIT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(
        stderr.contains("bad content in offset file") && stderr.contains(file_arg),
        "{stderr}"
    );
    assert!(stderr.contains("invalid offset \"in a while\""), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_bad_offset_argument_is_refused() {
    let out = run(clockshift(&["--offset", "soon"], &["true"]), LIMIT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "clap usage error: {stderr}");
    assert!(stderr.contains("invalid offset \"soon\""), "{stderr}");
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("shift-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
