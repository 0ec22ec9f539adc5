//! Hiding the vDSO from a freshly exec'd image, so that its clock reads become
//! real system calls that the seccomp filter can see.
//!
//! At the `PTRACE_EVENT_EXEC` stop the new image has not run a single
//! instruction. Its stack pointer points at `argc`, followed by the `argv`
//! pointers and a NULL, the `envp` pointers and a NULL, then the auxiliary
//! vector of (type, value) pairs ending with `AT_NULL`. Turning the
//! `AT_SYSINFO_EHDR` entry into `AT_IGNORE` makes the C library and the Go
//! runtime believe there is no vDSO; both then fall back to system calls.

use crate::error::{Error, Result};
use crate::procmem::ProcMem;

const WORD: u64 = 8;

/// No sane stack holds more argv, envp or auxv words than this.
const MAX_WORDS: u64 = 1 << 22;

/// Rewrites the `AT_SYSINFO_EHDR` entry of a tracee stopped at an exec event.
/// Returns whether there was one.
pub fn hide(pid: i32) -> Result<bool> {
    let sp = stack_pointer(pid)?;
    let mem = ProcMem::open(pid).map_err(|source| Error::Sys {
        what: "opening tracee memory",
        source,
    })?;
    let mut stack = StackReader::new(&mem);
    let auxv = find_auxv(&mut stack, sp).ok_or(Error::AuxvNotFound { pid })?;
    let Some(entry) = find_entry(&mut stack, auxv, libc::AT_SYSINFO_EHDR) else {
        return Ok(false);
    };
    mem.write(entry, &libc::AT_IGNORE.to_ne_bytes())
        .map_err(|source| Error::Sys {
            what: "rewriting the auxiliary vector",
            source,
        })?;
    Ok(true)
}

/// The stack pointer of a ptrace-stopped tracee.
fn stack_pointer(pid: i32) -> Result<u64> {
    // SAFETY: user_regs_struct is plain data; all-zero is valid.
    let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    let mut iov = libc::iovec {
        iov_base: (&raw mut regs).cast(),
        iov_len: std::mem::size_of::<libc::user_regs_struct>(),
    };
    let nt_prstatus = libc::NT_PRSTATUS as usize;
    // SAFETY: PTRACE_GETREGSET writes at most iov_len bytes into `regs`.
    let ret = unsafe { libc::ptrace(libc::PTRACE_GETREGSET, pid, nt_prstatus, &mut iov) };
    crate::error::check(ret, "reading tracee registers")?;
    #[cfg(target_arch = "x86_64")]
    return Ok(regs.rsp);
    #[cfg(target_arch = "aarch64")]
    return Ok(regs.sp);
}

/// Skips argc, argv and envp; returns the address of the first auxv entry.
fn find_auxv(stack: &mut StackReader, sp: u64) -> Option<u64> {
    let argc = stack.word(sp)?;
    if argc >= MAX_WORDS {
        return None;
    }
    let envp = sp + WORD * (argc + 2);
    (0..MAX_WORDS)
        .map(|i| envp + WORD * i)
        .find(|&addr| stack.word(addr) == Some(0))
        .map(|end| end + WORD)
}

/// Finds the auxv entry of type `kind`; returns the address of its type word.
fn find_entry(stack: &mut StackReader, auxv: u64, kind: libc::c_ulong) -> Option<u64> {
    for addr in (0..MAX_WORDS).map(|i| auxv + 2 * WORD * i) {
        match stack.word(addr)? {
            0 => return None, // AT_NULL
            k if k == kind => return Some(addr),
            _ => {}
        }
    }
    None
}

/// Reads a tracee's stack a page at a time.
struct StackReader<'a> {
    mem: &'a ProcMem,
    base: u64,
    buf: Vec<u8>,
}

impl<'a> StackReader<'a> {
    const CHUNK: usize = 4096;

    fn new(mem: &'a ProcMem) -> Self {
        StackReader {
            mem,
            base: 0,
            buf: Vec::with_capacity(Self::CHUNK),
        }
    }

    /// The word at `addr`, or `None` if it cannot be read.
    fn word(&mut self, addr: u64) -> Option<u64> {
        let cached = addr >= self.base && addr + WORD <= self.base + self.buf.len() as u64;
        if !cached {
            self.buf.resize(Self::CHUNK, 0);
            let n = self.mem.read(addr, &mut self.buf).ok()?;
            self.buf.truncate(n);
            self.base = addr;
            if n < WORD as usize {
                return None;
            }
        }
        let at = (addr - self.base) as usize;
        Some(u64::from_ne_bytes(self.buf[at..at + 8].try_into().ok()?))
    }
}
