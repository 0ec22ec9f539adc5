//! The seccomp side: a classic-BPF filter that turns wall-clock reads into
//! user notifications, its installation in the child (with
//! `SECCOMP_FILTER_FLAG_NEW_LISTENER`), and the listener the supervisor uses
//! to receive and answer those notifications.
//!
//! Filtered: `clock_gettime` for `CLOCK_REALTIME`, `CLOCK_REALTIME_COARSE` and
//! `CLOCK_TAI`, `gettimeofday`, and `time` where the architecture has it.
//! Everything else, monotonic and boot clocks included, is allowed untouched.

use std::io;
use std::mem::{offset_of, size_of};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::error::{Error, Result};

/// The clocks whose `clock_gettime` is shifted.
pub const SHIFTED_CLOCKS: [libc::clockid_t; 3] = [
    libc::CLOCK_REALTIME,
    libc::CLOCK_REALTIME_COARSE,
    libc::CLOCK_TAI,
];

#[cfg(target_arch = "x86_64")]
mod arch {
    pub const AUDIT_ARCH: u32 = 0xC000_003E; // AUDIT_ARCH_X86_64
    pub const NOTIFIED_ALWAYS: &[libc::c_long] = &[libc::SYS_gettimeofday, libc::SYS_time];
}

#[cfg(target_arch = "aarch64")]
mod arch {
    pub const AUDIT_ARCH: u32 = 0xC000_00B7; // AUDIT_ARCH_AARCH64
    pub const NOTIFIED_ALWAYS: &[libc::c_long] = &[libc::SYS_gettimeofday];
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("clockshift supports x86_64 and aarch64 only");

const BPF_LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const BPF_JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const BPF_RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

/// Offset of the low 32 bits of the first syscall argument (little endian).
const ARG0_LOW: u32 = offset_of!(libc::seccomp_data, args) as u32;

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

/// A conditional jump from instruction `at` to `jt` if equal, else to `jf`.
fn jeq(at: usize, k: u32, jt: usize, jf: usize) -> libc::sock_filter {
    let rel = |to: usize| u8::try_from(to - at - 1).expect("bpf jump too far");
    libc::sock_filter {
        code: BPF_JEQ_K,
        jt: rel(jt),
        jf: rel(jf),
        k,
    }
}

/// The compiled filter, built before `fork` so the child need not allocate.
pub struct Filter {
    insns: Vec<libc::sock_filter>,
}

impl Filter {
    pub fn new() -> Self {
        let always = arch::NOTIFIED_ALWAYS;
        let allow = 4 + always.len();
        let clock_check = allow + 1;
        let allow2 = clock_check + 1 + SHIFTED_CLOCKS.len();
        let notify = allow2 + 1;
        let mut p = vec![
            stmt(BPF_LD_W_ABS, offset_of!(libc::seccomp_data, arch) as u32),
            jeq(1, arch::AUDIT_ARCH, 2, allow),
            stmt(BPF_LD_W_ABS, offset_of!(libc::seccomp_data, nr) as u32),
            jeq(3, libc::SYS_clock_gettime as u32, clock_check, 4),
        ];
        for &nr in always {
            p.push(jeq(p.len(), nr as u32, notify, p.len() + 1));
        }
        p.push(stmt(BPF_RET_K, libc::SECCOMP_RET_ALLOW));
        p.push(stmt(BPF_LD_W_ABS, ARG0_LOW));
        for clock in SHIFTED_CLOCKS {
            p.push(jeq(p.len(), clock as u32, notify, p.len() + 1));
        }
        p.push(stmt(BPF_RET_K, libc::SECCOMP_RET_ALLOW));
        p.push(stmt(BPF_RET_K, libc::SECCOMP_RET_USER_NOTIF));
        debug_assert_eq!(p.len(), notify + 1);
        Filter { insns: p }
    }

    /// Sets `no_new_privs` and installs the filter on the calling thread,
    /// returning the listener fd or an errno. Only makes system calls, so it
    /// is safe to call between `fork` and `execve`.
    pub fn install(&self) -> std::result::Result<RawFd, i32> {
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return Err(errno());
        }
        let killable = libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
        match self.seccomp(libc::SECCOMP_FILTER_FLAG_NEW_LISTENER | killable) {
            // Kernels before 5.19 do not know the killable-wait flag.
            Err(libc::EINVAL) => self.seccomp(libc::SECCOMP_FILTER_FLAG_NEW_LISTENER),
            other => other,
        }
    }

    fn seccomp(&self, flags: libc::c_ulong) -> std::result::Result<RawFd, i32> {
        let prog = libc::sock_fprog {
            len: self.insns.len() as libc::c_ushort,
            filter: self.insns.as_ptr().cast_mut(),
        };
        let op = libc::SECCOMP_SET_MODE_FILTER;
        // SAFETY: `prog` points at `self.insns`, which outlives the call; the
        // kernel copies the program before returning.
        let ret = unsafe { libc::syscall(libc::SYS_seccomp, op, flags, &prog) };
        if ret < 0 {
            Err(errno())
        } else {
            Ok(ret as RawFd)
        }
    }
}

fn errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// One intercepted system call, as the kernel described it.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    pub id: u64,
    /// Thread id of the caller, in the supervisor's pid namespace.
    pub pid: i32,
    pub nr: libc::c_long,
    pub args: [u64; 6],
}

/// How an intercepted system call returns: a value or a (positive) errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    Value(i64),
    Errno(i32),
}

/// The supervisor's end of the filter.
pub struct Listener {
    fd: OwnedFd,
    /// The kernel's `struct seccomp_notif` size, which may exceed ours.
    recv_len: usize,
}

impl Listener {
    pub fn new(fd: OwnedFd) -> Result<Self> {
        let mut sizes = libc::seccomp_notif_sizes {
            seccomp_notif: 0,
            seccomp_notif_resp: 0,
            seccomp_data: 0,
        };
        let op = libc::SECCOMP_GET_NOTIF_SIZES;
        // SAFETY: `sizes` is a valid, writable seccomp_notif_sizes.
        let ret = unsafe { libc::syscall(libc::SYS_seccomp, op, 0, &mut sizes) };
        crate::error::check(ret, "querying seccomp notification sizes")?;
        let recv_len = usize::from(sizes.seccomp_notif).max(size_of::<libc::seccomp_notif>());
        let listener = Listener { fd, recv_len };
        listener.request_sync_wakeups();
        Ok(listener)
    }

    /// Asks the kernel (6.6+) to hand each notification and reply over on
    /// the current CPU, which cuts the round trip's scheduling latency.
    /// Older kernels refuse; that only costs speed.
    fn request_sync_wakeups(&self) {
        const SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: u64 = 1;
        // SAFETY: the ioctl takes its flags by value; no pointers involved.
        unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS,
                SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP,
            )
        };
    }

    /// Blocks for the next notification. `Ok(None)` when the caller went away
    /// or a signal interrupted the wait; just call again.
    pub fn recv(&self) -> Result<Option<Request>> {
        // u64 elements keep the buffer aligned for seccomp_notif.
        let mut buf = vec![0u64; self.recv_len.div_ceil(8)];
        // SAFETY: `buf` is zeroed (the kernel requires it), aligned, and at
        // least as large as the kernel's struct seccomp_notif.
        let ret = unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_RECV,
                buf.as_mut_ptr(),
            )
        };
        if ret != 0 {
            let err = io::Error::last_os_error();
            return match err.raw_os_error() {
                Some(libc::ENOENT | libc::EINTR) => Ok(None),
                _ => Err(Error::Sys {
                    what: "receiving a seccomp notification",
                    source: err,
                }),
            };
        }
        // SAFETY: the kernel filled in a struct seccomp_notif at the start of
        // the aligned buffer; every bit pattern is valid for it.
        let notif = unsafe { buf.as_ptr().cast::<libc::seccomp_notif>().read() };
        Ok(Some(Request {
            id: notif.id,
            pid: notif.pid as i32,
            nr: libc::c_long::from(notif.data.nr),
            args: notif.data.args,
        }))
    }

    /// Whether the request is still pending, i.e. its caller still waits.
    /// Checked after opening the caller's memory, so that the memory really
    /// belongs to the caller and not to a process that reused its pid.
    pub fn is_pending(&self, id: u64) -> bool {
        // The original number, _IOR('!', 2, u64). Linux 5.9 added the correct
        // _IOW one (the libc constant) but still accepts this one; 5.0 to 5.8
        // know only this one.
        const SECCOMP_IOCTL_NOTIF_ID_VALID_ANY_KERNEL: libc::Ioctl = 0x8008_2102;
        let mut id = id;
        // SAFETY: the ioctl reads one u64 from a valid pointer.
        let ret = unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                SECCOMP_IOCTL_NOTIF_ID_VALID_ANY_KERNEL,
                &mut id,
            )
        };
        ret == 0
    }

    /// Answers a request. A caller that has gone away is not an error.
    pub fn send(&self, id: u64, reply: Reply) -> Result<()> {
        let (val, error) = match reply {
            Reply::Value(v) => (v, 0),
            Reply::Errno(e) => (0, -e),
        };
        let mut resp = libc::seccomp_notif_resp {
            id,
            val,
            error,
            flags: 0,
        };
        // SAFETY: `resp` is a valid seccomp_notif_resp for the call's duration.
        let ret = unsafe {
            libc::ioctl(
                self.fd.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_SEND,
                &mut resp,
            )
        };
        if ret != 0 && io::Error::last_os_error().raw_os_error() != Some(libc::ENOENT) {
            return Err(Error::last_os("answering a seccomp notification"));
        }
        Ok(())
    }
}

/// Takes ownership of a listener fd received from the child.
pub fn listener_from_raw(fd: RawFd) -> OwnedFd {
    // SAFETY: the caller passes a freshly received fd that nothing else owns.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny interpreter for the subset of classic BPF the filter uses, so
    /// the jump layout can be checked without the kernel.
    fn run(filter: &Filter, arch: u32, nr: libc::c_long, arg0: u64) -> u32 {
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let insn = filter.insns[pc];
            match insn.code {
                BPF_LD_W_ABS if insn.k == 0 => acc = nr as u32,
                BPF_LD_W_ABS if insn.k == 4 => acc = arch,
                BPF_LD_W_ABS if insn.k == ARG0_LOW => acc = arg0 as u32,
                BPF_JEQ_K => {
                    let skip = if acc == insn.k { insn.jt } else { insn.jf };
                    pc += usize::from(skip);
                }
                BPF_RET_K => return insn.k,
                _ => panic!("unexpected instruction {pc}"),
            }
            pc += 1;
        }
    }

    #[test]
    fn the_old_id_valid_number_is_the_read_variant_of_the_new_one() {
        let new: u64 = libc::SECCOMP_IOCTL_NOTIF_ID_VALID;
        assert_eq!(new, 0x4008_2102, "_IOW('!', 2, u64)");
        assert_eq!(new & !(3 << 30) | (2 << 30), 0x8008_2102);
    }

    #[test]
    fn notifies_wall_clock_reads_only() {
        let f = Filter::new();
        let a = arch::AUDIT_ARCH;
        let (notif, allow) = (libc::SECCOMP_RET_USER_NOTIF, libc::SECCOMP_RET_ALLOW);
        for clock in SHIFTED_CLOCKS {
            assert_eq!(run(&f, a, libc::SYS_clock_gettime, clock as u64), notif);
        }
        for clock in [
            libc::CLOCK_MONOTONIC,
            libc::CLOCK_BOOTTIME,
            libc::CLOCK_MONOTONIC_RAW,
        ] {
            assert_eq!(run(&f, a, libc::SYS_clock_gettime, clock as u64), allow);
        }
        assert_eq!(run(&f, a, libc::SYS_gettimeofday, 0), notif);
        #[cfg(target_arch = "x86_64")]
        assert_eq!(run(&f, a, libc::SYS_time, 0), notif);
        assert_eq!(run(&f, a, libc::SYS_getpid, 0), allow);
        assert_eq!(run(&f, a, libc::SYS_clock_getres, 0), allow);
        assert_eq!(
            run(&f, 0x4000_0003, libc::SYS_gettimeofday, 0),
            allow,
            "foreign arch"
        );
    }
}
