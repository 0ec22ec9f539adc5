//! The ptrace side: the supervisor traces the target and every process and
//! thread it creates, so that each new program image can have its vDSO hidden
//! at its exec event. All other stops are resumed at once, signals re-injected
//! and group-stops kept (with `PTRACE_LISTEN`). The same `waitpid` loop reaps
//! orphans handed to the supervisor when it runs as PID 1.

use std::sync::atomic::{AtomicU64, Ordering};
use std::{io, ptr};

use crate::error::{Error, Result, check};
use crate::log;

/// Not exported by the libc crate for glibc targets.
const PTRACE_EVENT_STOP: libc::c_int = 128;

const OPTIONS: libc::c_int = libc::PTRACE_O_TRACEEXEC
    | libc::PTRACE_O_TRACEFORK
    | libc::PTRACE_O_TRACEVFORK
    | libc::PTRACE_O_TRACECLONE
    | libc::PTRACE_O_EXITKILL;

/// Counts new program images and new tasks. Bumped before such a task is
/// resumed, so it changes before the task can make a system call; caches of
/// per-task state (see `procmem::MemCache`) compare it to know they are stale.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The current value of the image-and-task generation counter.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::SeqCst)
}

fn bump_generation() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Attaches to `pid` without stopping it.
pub fn seize(pid: libc::pid_t) -> Result<()> {
    // SAFETY: PTRACE_SEIZE takes the options in `data`; no pointers involved.
    let ret = unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0, OPTIONS as libc::c_long) };
    check(ret, "attaching to the child with ptrace").map(drop)
}

/// Runs the tracer loop until `main` terminates; returns its wait status.
pub fn supervise(main: libc::pid_t) -> Result<libc::c_int> {
    loop {
        let (pid, status) = wait_any()?;
        if libc::WIFSTOPPED(status) {
            on_stop(pid, status);
        } else if pid == main && (libc::WIFEXITED(status) || libc::WIFSIGNALED(status)) {
            return Ok(status);
        }
        // Other exits are traced descendants, threads, or inherited orphans:
        // waiting for them was all they needed.
    }
}

fn wait_any() -> Result<(libc::pid_t, libc::c_int)> {
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid, writable int.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if pid >= 0 {
            return Ok((pid, status));
        }
        if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return Err(Error::last_os("waiting for the child"));
        }
    }
}

/// Handles one ptrace stop and resumes the tracee.
fn on_stop(pid: libc::pid_t, status: libc::c_int) {
    let sig = libc::WSTOPSIG(status);
    match status >> 16 {
        libc::PTRACE_EVENT_EXEC => {
            bump_generation();
            match crate::vdso::hide(pid) {
                Ok(true) => {}
                Ok(false) => log!("pid {pid}: new program image has no vDSO entry"),
                Err(e) => log!(
                    "pid {pid} will see the true time: {}",
                    crate::error_chain(&e)
                ),
            }
            resume(libc::PTRACE_CONT, pid, 0);
        }
        PTRACE_EVENT_STOP if is_stop_signal(sig) => resume(libc::PTRACE_LISTEN, pid, 0),
        // The first stop of a new task (we never use PTRACE_INTERRUPT).
        PTRACE_EVENT_STOP => {
            bump_generation();
            resume(libc::PTRACE_CONT, pid, 0);
        }
        // Signal-delivery stop: deliver the signal.
        0 => resume(libc::PTRACE_CONT, pid, sig),
        // Fork, vfork and clone events.
        _ => resume(libc::PTRACE_CONT, pid, 0),
    }
}

fn is_stop_signal(sig: libc::c_int) -> bool {
    matches!(
        sig,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU
    )
}

fn resume(request: libc::c_uint, pid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: restarting requests take a signal number in `data`, no pointers.
    // Failure means the tracee was killed meanwhile, which waitpid will report.
    unsafe {
        libc::ptrace(
            request,
            pid,
            ptr::null_mut::<libc::c_void>(),
            sig as libc::c_long,
        )
    };
}
