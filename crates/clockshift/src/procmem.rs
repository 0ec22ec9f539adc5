//! Access to another process's memory through `/proc/PID/mem`.
//!
//! This is the one channel that works both on a host and inside a container
//! under Docker's default seccomp profile, which refuses `process_vm_writev`
//! without `CAP_SYS_PTRACE`. The supervisor is the tracer of every process it
//! writes to, so the kernel's ptrace access check passes.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;

/// An open `/proc/PID/mem`. It stays bound to the address space the process
/// had when it was opened; after an `execve` it must be opened again.
#[derive(Debug)]
pub struct ProcMem {
    file: File,
}

impl ProcMem {
    pub fn open(pid: i32) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(format!("/proc/{pid}/mem"))?;
        Ok(ProcMem { file })
    }

    /// Reads up to `buf.len()` bytes at `addr`; fewer at the end of a mapping.
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read_at(buf, addr)
    }

    /// Writes all of `bytes` at `addr`. An unmapped address fails with `EIO`;
    /// an address space that is gone (its process exited or exec'd) with
    /// `WriteZero`.
    pub fn write(&self, addr: u64, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all_at(bytes, addr)
    }
}

/// Open `/proc/TID/mem` files kept per thread, so that serving a thread costs
/// no `open` and `close`.
///
/// An entry is only trusted while (1) no program image changed and no task
/// was created since it was opened (the tracer's [`generation`] counter,
/// bumped before any such task runs), and (2) the tid still belongs to the
/// thread group it belonged to (`tgkill(tgid, tid, 0)`). The caller must still
/// confirm, after [`get`](Self::get), that the task it serves is alive
/// (`SECCOMP_IOCTL_NOTIF_ID_VALID`), and [`forget`](Self::forget) the tid if not.
///
/// [`generation`]: crate::trace::generation
#[derive(Default)]
pub struct MemCache {
    threads: HashMap<i32, Cached>,
    generation: u64,
}

struct Cached {
    tgid: i32,
    mem: ProcMem,
}

/// Entries beyond this are dropped wholesale; it only bounds dead tids.
const MAX_CACHED: usize = 4096;

impl MemCache {
    /// The memory of the task that holds `tid` now.
    pub fn get(&mut self, tid: i32) -> io::Result<&ProcMem> {
        let generation = crate::trace::generation();
        if generation != self.generation || self.threads.len() >= MAX_CACHED {
            self.threads.clear();
            self.generation = generation;
        }
        let fresh = self
            .threads
            .get(&tid)
            .is_some_and(|c| in_thread_group(c.tgid, tid));
        if !fresh {
            let mem = ProcMem::open(tid)?;
            let tgid = tgid_of(tid)?;
            self.threads.insert(tid, Cached { tgid, mem });
        }
        Ok(&self.threads[&tid].mem)
    }

    pub fn forget(&mut self, tid: i32) {
        self.threads.remove(&tid);
    }
}

/// Whether thread `tid` exists and belongs to thread group `tgid`.
fn in_thread_group(tgid: i32, tid: i32) -> bool {
    // SAFETY: signal 0 only checks that the thread exists; no memory involved.
    unsafe { libc::syscall(libc::SYS_tgkill, tgid, tid, 0) == 0 }
}

/// The thread group (process) id of thread `tid`, from `/proc/TID/status`.
fn tgid_of(tid: i32) -> io::Result<i32> {
    let status = fs::read_to_string(format!("/proc/{tid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Tgid:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| io::Error::other(format!("no Tgid in /proc/{tid}/status")))
}
