//! The supervisor behaves like the program it runs: exit codes pass through,
//! forwarded signals reach the program, death by signal becomes 128+N, and
//! as PID 1 it reaps the orphans it inherits.

mod common;

use std::time::Duration;

use common::*;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn exit_codes_pass_through() {
    for code in ["0", "7", "255"] {
        let out = run(probe_cmd(&["--offset", "+15m"], &["exit", code]), LIMIT);
        assert_eq!(out.status.code(), Some(code.parse().unwrap()), "{out:?}");
    }
}

#[test]
fn forwarded_signals_reach_a_trapping_child() {
    let cases = [
        (libc::SIGTERM, "terminated"),
        (libc::SIGINT, "interrupt"),
        (libc::SIGHUP, "hangup"),
        (libc::SIGQUIT, "quit"),
        (libc::SIGUSR1, "user_defined_signal_1"),
        (libc::SIGUSR2, "user_defined_signal_2"),
    ];
    for (sig, name) in cases {
        let (mut child, mut stdout) = start(probe_cmd(&["--offset", "+15m"], &["trap"]), LIMIT);
        assert_eq!(read_line(&mut stdout), "ready\n");
        // SAFETY: signalling the supervisor we started, which is still running.
        unsafe { libc::kill(child.id() as i32, sig) };
        assert_eq!(
            read_line(&mut stdout),
            format!("got={name}\n"),
            "signal {sig}"
        );
        assert_eq!(child.wait().unwrap().code(), Some(42), "signal {sig}");
    }
}

#[test]
fn sigterm_kills_an_untrapping_child_and_gives_143() {
    let (mut child, mut stdout) = start(probe_cmd(&[], &["wait"]), LIMIT);
    assert_eq!(read_line(&mut stdout), "ready\n");
    // SAFETY: signalling the supervisor we started, which is still running.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(child.wait().unwrap().code(), Some(143));
}

#[test]
fn a_child_killed_by_sigkill_gives_137() {
    let out = run(probe_cmd(&["--offset", "-10m"], &["selfkill"]), LIMIT);
    assert_eq!(out.status.code(), Some(137), "{out:?}");
}

#[test]
fn a_missing_command_gives_127_and_a_clear_error() {
    let out = run(clockshift(&[], &["no-such-command-clockshift"]), LIMIT);
    assert_eq!(out.status.code(), Some(127), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("command not found: no-such-command-clockshift"),
        "{stderr}"
    );
    let out = run(clockshift(&[], &["/no/such/path"]), LIMIT);
    assert_eq!(out.status.code(), Some(127), "{out:?}");
}

#[test]
fn a_non_executable_file_gives_126() {
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("not-executable");
    std::fs::write(&file, "#!/bin/sh\n").unwrap();
    let out = run(clockshift(&[], &[file.to_str().unwrap()]), LIMIT);
    assert_eq!(out.status.code(), Some(126), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot execute") && stderr.contains("ermission denied"),
        "{stderr}"
    );
}

#[test]
fn stdin_stdout_and_arguments_pass_through() {
    let out = run(
        clockshift(&[], &["sh", "-c", "echo \"$0 $1\"", "a b", "c"]),
        LIMIT,
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a b c\n");
}

/// As PID 1 of a new pid namespace, the supervisor must reap orphans that are
/// reparented to it. `sh -c 'sleep 0.2 &'` leaves such an orphan behind.
#[test]
fn as_pid_1_it_reaps_inherited_orphans() {
    let script = "sh -c 'sleep 0.2 &'; sleep 1; \
        for s in /proc/[0-9]*/stat; do read -r pid comm state rest < $s; \
        [ \"$state\" = Z ] && echo zombie $pid $comm; done; echo pid1=$(cat /proc/1/comm)";
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc"])
        .arg(env!("CARGO_BIN_EXE_clockshift"));
    cmd.args(["--offset", "+15m", "--", "sh", "-c", script]);
    let out = run(cmd, LIMIT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() && stdout.is_empty() {
        eprintln!("skipped: cannot create a pid namespace here: {out:?}");
        return;
    }
    assert!(stdout.contains("pid1=clockshift"), "{stdout}");
    assert!(!stdout.contains("zombie"), "zombies left: {stdout}");
}
