//! Passing the seccomp listener fd from the child to the supervisor over a
//! `SOCK_SEQPACKET` socketpair with `SCM_RIGHTS`, together with a status word
//! (0, or the errno of a failed setup step).
//!
//! The sending side runs between `fork` and `execve`, so it only uses stack
//! buffers and system calls.

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::RawFd;
use std::ptr;

/// Control-message space for exactly one fd, suitably aligned.
#[repr(C, align(8))]
struct CmsgBuf([u8; 32]);

const FD_LEN: u32 = size_of::<RawFd>() as u32;

/// Sends `status` and, if given, `fd`. Returns an errno on failure.
pub fn send(sock: RawFd, status: i32, fd: Option<RawFd>) -> Result<(), i32> {
    let mut data = status.to_ne_bytes();
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    let mut cmsg = CmsgBuf([0; 32]);
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if let Some(fd) = fd {
        // SAFETY: CMSG_SPACE/CMSG_LEN are pure arithmetic on a length.
        let (space, len) = unsafe { (libc::CMSG_SPACE(FD_LEN), libc::CMSG_LEN(FD_LEN)) };
        msg.msg_control = cmsg.0.as_mut_ptr().cast();
        msg.msg_controllen = space as usize;
        // SAFETY: msg_control points at an aligned buffer of `space` <= 32
        // bytes, so the first header and its data lie inside `cmsg`.
        unsafe {
            let hdr = libc::CMSG_FIRSTHDR(&msg);
            (*hdr).cmsg_level = libc::SOL_SOCKET;
            (*hdr).cmsg_type = libc::SCM_RIGHTS;
            (*hdr).cmsg_len = len as usize;
            ptr::write_unaligned(libc::CMSG_DATA(hdr).cast::<RawFd>(), fd);
        }
    }
    // SAFETY: `msg` and everything it points to live until the call returns.
    let ret = unsafe { libc::sendmsg(sock, &msg, libc::MSG_NOSIGNAL) };
    if ret < 0 {
        Err(io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO))
    } else {
        Ok(())
    }
}

/// Receives one message: its status word and the fd it carried, if any.
/// `Ok(None)` means the peer closed the socket without sending.
pub fn recv(sock: RawFd) -> io::Result<Option<(i32, Option<RawFd>)>> {
    let mut data = [0u8; 4];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    let mut cmsg = CmsgBuf([0; 32]);
    // SAFETY: msghdr is plain data; all-zero is a valid empty header.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg.0.as_mut_ptr().cast();
    msg.msg_controllen = cmsg.0.len();
    let n = loop {
        // SAFETY: `msg` and the buffers it points to live until the call returns.
        let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n >= 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            break n;
        }
    };
    match n {
        n if n < 0 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        n if (n as usize) < data.len() => Err(io::Error::other("short message from child")),
        _ => Ok(Some((i32::from_ne_bytes(data), received_fd(&msg)))),
    }
}

/// The fd carried by an `SCM_RIGHTS` message, if any.
fn received_fd(msg: &libc::msghdr) -> Option<RawFd> {
    // SAFETY: `msg` was filled in by recvmsg; the CMSG macros walk only the
    // control buffer it describes.
    unsafe {
        let hdr = libc::CMSG_FIRSTHDR(msg);
        if hdr.is_null() || (*hdr).cmsg_type != libc::SCM_RIGHTS {
            return None;
        }
        Some(ptr::read_unaligned(libc::CMSG_DATA(hdr).cast::<RawFd>()))
    }
}
