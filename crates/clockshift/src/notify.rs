//! The notification loop: answers each intercepted wall-clock read with the
//! supervisor's true time plus the current offset, written into the caller's
//! buffer through `/proc/PID/mem`, the way the kernel would have written it.
//!
//! Per request: compute the answer, get the caller's memory (cached per
//! thread), confirm the request is still pending (so the memory really is the
//! caller's), store the result, reply. A NULL pointer or an unwritable buffer
//! gets `EFAULT`, like the real system call; a NULL optional argument of
//! `gettimeofday` or `time` is skipped, like the real system call.

use std::io;

use crate::clock::WallTime;
use crate::error::Result;
use crate::log;
use crate::offset::{Offset, OffsetSource};
use crate::procmem::MemCache;
use crate::seccomp::{Listener, Reply, Request};

/// Serves notifications until a fatal listener error.
pub fn serve(listener: &Listener, offsets: &mut OffsetSource) -> Result<()> {
    let mut mems = MemCache::default();
    loop {
        let Some(req) = listener.recv()? else {
            continue;
        };
        let reply = match answer(&req, offsets.current()) {
            Ok(answer) => deliver(listener, &mut mems, &req, &answer),
            Err(errno) => Some(Reply::Errno(errno)),
        };
        if let Some(reply) = reply {
            listener.send(req.id, reply)?;
        }
    }
}

/// Bytes to store at an address of the caller.
struct Store {
    addr: u64,
    bytes: [u8; 16],
    len: usize,
}

impl Store {
    fn new(addr: u64, words: &[&[u8]]) -> Self {
        let mut store = Store {
            addr,
            bytes: [0; 16],
            len: 0,
        };
        for word in words {
            store.bytes[store.len..store.len + word.len()].copy_from_slice(word);
            store.len += word.len();
        }
        store
    }
}

/// The effect of one system call: stores in order, then a return value.
struct Answer {
    stores: Vec<Store>,
    value: i64,
}

/// Computes the shifted result of a request, or the errno it fails with
/// before touching memory.
fn answer(req: &Request, offset: Offset) -> Result<Answer, i32> {
    match req.nr {
        libc::SYS_clock_gettime => clock_gettime(req.args, offset),
        libc::SYS_gettimeofday => gettimeofday(req.args, offset),
        #[cfg(target_arch = "x86_64")]
        libc::SYS_time => time(req.args, offset),
        _ => Err(libc::ENOSYS),
    }
}

/// `clock_gettime(clockid, struct timespec *tp)`.
fn clock_gettime(args: [u64; 6], offset: Offset) -> Result<Answer, i32> {
    let (clock, tp) = (args[0] as libc::clockid_t, args[1]);
    let now = WallTime::read(clock).map_err(|e| e.raw_os_error().unwrap_or(libc::EINVAL))?;
    if tp == 0 {
        return Err(libc::EFAULT);
    }
    let now = now.shifted(offset);
    let ts = Store::new(
        tp,
        &[&now.secs().to_ne_bytes(), &now.subsec_nanos().to_ne_bytes()],
    );
    Ok(Answer {
        stores: vec![ts],
        value: 0,
    })
}

/// `gettimeofday(struct timeval *tv, struct timezone *tz)`; either may be NULL.
fn gettimeofday(args: [u64; 6], offset: Offset) -> Result<Answer, i32> {
    let (tv_addr, tz_addr) = (args[0], args[1]);
    let (tv, tz) = true_timeofday()?;
    let mut stores = Vec::new();
    if tv_addr != 0 {
        let now = WallTime::from_parts(tv.tv_sec, tv.tv_usec * 1000).shifted(offset);
        let usecs = now.subsec_nanos() / 1000;
        stores.push(Store::new(
            tv_addr,
            &[&now.secs().to_ne_bytes(), &usecs.to_ne_bytes()],
        ));
    }
    if tz_addr != 0 {
        stores.push(Store::new(
            tz_addr,
            &[&tz[0].to_ne_bytes(), &tz[1].to_ne_bytes()],
        ));
    }
    Ok(Answer { stores, value: 0 })
}

/// The kernel's own answer to `gettimeofday`, timezone included (glibc's
/// wrapper would zero the timezone; the system call does not).
fn true_timeofday() -> Result<(libc::timeval, [libc::c_int; 2]), i32> {
    let mut tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    // struct timezone { int tz_minuteswest; int tz_dsttime; }
    let mut tz: [libc::c_int; 2] = [0; 2];
    // SAFETY: both pointers are valid and writable for the call's duration.
    let ret = unsafe { libc::syscall(libc::SYS_gettimeofday, &mut tv, &mut tz) };
    if ret == 0 {
        Ok((tv, tz))
    } else {
        Err(libc::EINVAL)
    }
}

/// `time(time_t *tloc)`: returns the seconds, and stores them if `tloc` is set.
#[cfg(target_arch = "x86_64")]
fn time(args: [u64; 6], offset: Offset) -> Result<Answer, i32> {
    // The kernel answers time() from the tick-updated clock: the coarse one.
    let now = WallTime::read(libc::CLOCK_REALTIME_COARSE).map_err(|_| libc::EINVAL)?;
    let secs = now.shifted(offset).secs();
    let stores = match args[0] {
        0 => vec![],
        tloc => vec![Store::new(tloc, &[&secs.to_ne_bytes()])],
    };
    Ok(Answer {
        stores,
        value: secs,
    })
}

/// Stores the answer in the caller's memory and returns the reply; `None` if
/// the caller is gone. Retries once with a freshly opened memory file when the
/// cached one belonged to an address space that no longer exists.
fn deliver(
    listener: &Listener,
    mems: &mut MemCache,
    req: &Request,
    answer: &Answer,
) -> Option<Reply> {
    if answer.stores.is_empty() {
        return Some(Reply::Value(answer.value));
    }
    for _attempt in 0..2 {
        let mem = mems.get(req.pid);
        if !listener.is_pending(req.id) {
            mems.forget(req.pid);
            return None;
        }
        let mem = match mem {
            Ok(mem) => mem,
            Err(e) => {
                log!(
                    "cannot open the memory of pid {}: {e}; answering EFAULT",
                    req.pid
                );
                return Some(Reply::Errno(libc::EFAULT));
            }
        };
        let written = answer
            .stores
            .iter()
            .try_for_each(|s| mem.write(s.addr, &s.bytes[..s.len]));
        match written {
            Ok(()) => return Some(Reply::Value(answer.value)),
            Err(e) if e.kind() == io::ErrorKind::WriteZero => mems.forget(req.pid),
            Err(_) => return Some(Reply::Errno(libc::EFAULT)),
        }
    }
    Some(Reply::Errno(libc::EFAULT))
}
