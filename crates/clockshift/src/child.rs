//! Starting the target program and relaying what happens to it.
//!
//! `spawn` forks; the child installs the seccomp filter, hands the listener fd
//! to the supervisor, waits until the supervisor has attached with ptrace, and
//! execs the target. Between `fork` and `execve` the child only makes system
//! calls on data prepared beforehand. The supervisor forwards termination and
//! user signals to the child and turns its wait status into an exit code.

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::{env, io, ptr, thread};

use crate::error::{Error, Result, check};
use crate::{fdpass, seccomp, trace};

/// Signals the supervisor passes on to the child.
pub const FORWARDED: [libc::c_int; 6] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// A resolved program with its argv and environment, ready for `execve`.
pub struct Command {
    program: String,
    path: CString,
    _strings: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
}

impl Command {
    /// Resolves `args[0]` like `execvp` and captures the current environment.
    pub fn new(args: &[OsString]) -> Result<Self> {
        let program = args[0].to_string_lossy().into_owned();
        let path = cstring(resolve(&args[0])?.as_os_str().as_bytes())?;
        let argv_strings = args
            .iter()
            .map(|a| cstring(a.as_bytes()))
            .collect::<Result<Vec<_>>>()?;
        let env_strings = env::vars_os()
            .map(|(k, v)| cstring(&[k.as_bytes(), b"=", v.as_bytes()].concat()))
            .collect::<Result<Vec<_>>>()?;
        let pointers = |v: &[CString]| {
            v.iter()
                .map(|s| s.as_ptr())
                .chain([ptr::null()])
                .collect::<Vec<_>>()
        };
        let (argv, envp) = (pointers(&argv_strings), pointers(&env_strings));
        let _strings = argv_strings.into_iter().chain(env_strings).collect();
        Ok(Command {
            program,
            path,
            _strings,
            argv,
            envp,
        })
    }
}

fn cstring(bytes: &[u8]) -> Result<CString> {
    CString::new(bytes).map_err(|_| Error::NulByte(String::from_utf8_lossy(bytes).into_owned()))
}

/// Finds `program` on PATH unless it contains a slash. A non-executable match
/// is kept as a last resort so that exec reports "permission denied".
fn resolve(program: &OsStr) -> Result<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return Ok(PathBuf::from(program));
    }
    let path = env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    let candidates: Vec<PathBuf> = env::split_paths(&path).map(|d| d.join(program)).collect();
    candidates
        .iter()
        .find(|c| is_executable(c))
        .or_else(|| candidates.iter().find(|c| c.is_file()))
        .cloned()
        .ok_or_else(|| Error::CommandNotFound(program.to_string_lossy().into_owned()))
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The running target: its pid and the seccomp listener for its filter.
pub struct Child {
    pub pid: libc::pid_t,
    pub listener: OwnedFd,
}

/// Starts `cmd` under `filter`; returns once it is traced and exec'd, stopped
/// at its first exec event (which the tracer loop will handle).
pub fn spawn(cmd: &Command, filter: &seccomp::Filter) -> Result<Child> {
    let (ours, theirs) = socketpair()?;
    // SAFETY: the supervisor is single-threaded here, and the child only runs
    // `child_main`, which makes system calls on data prepared before the fork.
    match unsafe { libc::fork() } {
        -1 => Err(Error::last_os("fork")),
        0 => child_main(theirs.as_raw_fd(), cmd, filter),
        pid => {
            drop(theirs);
            let result = handshake(pid, &ours, cmd);
            if result.is_err() {
                kill_and_reap(pid);
            }
            result
        }
    }
}

fn socketpair() -> Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    let kind = libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC;
    // SAFETY: `fds` has room for the two descriptors socketpair returns.
    let ret = unsafe { libc::socketpair(libc::AF_UNIX, kind, 0, fds.as_mut_ptr()) };
    check(ret.into(), "socketpair")?;
    // SAFETY: both fds were just created and are owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Receives the listener, attaches, lets the child exec, and checks the exec.
fn handshake(pid: libc::pid_t, sock: &OwnedFd, cmd: &Command) -> Result<Child> {
    let lost = |source| Error::Sys {
        what: "talking to the child",
        source,
    };
    let listener = match fdpass::recv(sock.as_raw_fd()).map_err(lost)? {
        Some((0, Some(fd))) => seccomp::listener_from_raw(fd),
        Some((errno, _)) => return Err(Error::errno("installing the seccomp filter", errno)),
        None => return Err(lost(io::ErrorKind::UnexpectedEof.into())),
    };
    trace::seize(pid)?;
    fdpass::send(sock.as_raw_fd(), 0, None).map_err(|e| lost(io::Error::from_raw_os_error(e)))?;
    // The socket is close-on-exec: end of file means the exec succeeded.
    match fdpass::recv(sock.as_raw_fd()).map_err(lost)? {
        None => Ok(Child { pid, listener }),
        Some((errno, _)) => Err(Error::Exec {
            program: cmd.program.clone(),
            source: io::Error::from_raw_os_error(errno),
        }),
    }
}

fn kill_and_reap(pid: libc::pid_t) {
    // SAFETY: plain system calls on our own child.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
        libc::waitpid(pid, ptr::null_mut(), libc::__WALL);
    }
}

/// The child between fork and exec. Never returns.
fn child_main(sock: RawFd, cmd: &Command, filter: &seccomp::Filter) -> ! {
    reset_signal_state();
    let listener = match filter.install() {
        Ok(fd) => fd,
        Err(errno) => {
            let _ = fdpass::send(sock, errno, None);
            exit_now(125)
        }
    };
    let sent = fdpass::send(sock, 0, Some(listener));
    // SAFETY: closing our copy of the listener; the supervisor has its own.
    unsafe { libc::close(listener) };
    // Wait for the go-ahead: the supervisor has attached with ptrace.
    if sent.is_err() || !matches!(fdpass::recv(sock), Ok(Some(_))) {
        exit_now(125);
    }
    // SAFETY: path, argv and envp are NUL-terminated strings in
    // NULL-terminated arrays, all prepared before the fork.
    unsafe { libc::execve(cmd.path.as_ptr(), cmd.argv.as_ptr(), cmd.envp.as_ptr()) };
    let errno = io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO);
    let _ = fdpass::send(sock, errno, None);
    exit_now(if errno == libc::ENOENT { 127 } else { 126 })
}

/// Gives the child an empty signal mask and default SIGPIPE (Rust ignores it).
fn reset_signal_state() {
    // SAFETY: sigset and signal calls on valid local data.
    unsafe {
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::pthread_sigmask(libc::SIG_SETMASK, &empty, ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn exit_now(code: libc::c_int) -> ! {
    // SAFETY: _exit skips atexit handlers and stdio, as a forked child must.
    unsafe { libc::_exit(code) }
}

/// The set of forwarded signals.
#[derive(Clone, Copy)]
pub struct SignalSet(libc::sigset_t);

/// Blocks the forwarded signals in the calling thread and every thread it
/// starts later, so they queue for [`forward_signals`] (even as PID 1, where
/// unblocked signals with default action would be dropped).
pub fn block_forwarded() -> Result<SignalSet> {
    // SAFETY: sigset operations on a local, then setting this thread's mask.
    let (set, ret) = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in FORWARDED {
            libc::sigaddset(&mut set, sig);
        }
        (
            set,
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, ptr::null_mut()),
        )
    };
    if ret != 0 {
        return Err(Error::errno("blocking signals", ret));
    }
    Ok(SignalSet(set))
}

/// Starts a thread that passes each forwarded signal on to `pid`.
pub fn forward_signals(set: SignalSet, pid: libc::pid_t) -> Result<()> {
    let body = move || {
        loop {
            let mut sig = 0;
            // SAFETY: `set` is a valid sigset; `sig` is writable.
            if unsafe { libc::sigwait(&set.0, &mut sig) } == 0 {
                // SAFETY: kill has no memory-safety preconditions.
                unsafe { libc::kill(pid, sig) };
            }
        }
    };
    let spawned = thread::Builder::new().name("signals".into()).spawn(body);
    spawned.map(drop).map_err(|source| Error::Sys {
        what: "starting the signal thread",
        source,
    })
}

/// The supervisor's exit code for the child's wait status: its exit code, or
/// 128 + the signal that killed it.
pub fn exit_code(status: libc::c_int) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        125
    }
}
