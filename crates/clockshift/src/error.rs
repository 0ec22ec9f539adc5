//! The single error type of clockshift. Messages are lowercase and name what
//! failed; the underlying cause, when there is one, is attached as the error's
//! source so `main` can print the whole chain.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in clockshift.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An offset string that is not a signed duration.
    #[error("invalid offset {input:?}: {reason}")]
    InvalidOffset { input: String, reason: &'static str },

    /// The offset file exists but could not be read.
    #[error("cannot read offset file {}", path.display())]
    OffsetFileUnreadable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The offset file was read but does not hold a valid offset.
    #[error("bad content in offset file {}", path.display())]
    OffsetFileInvalid {
        path: PathBuf,
        #[source]
        source: Box<Error>,
    },

    /// The program to run was not found on PATH.
    #[error("command not found: {0}")]
    CommandNotFound(String),

    /// A program argument or environment entry holds a NUL byte.
    #[error("argument contains a nul byte: {0:?}")]
    NulByte(String),

    /// execve of the target program failed.
    #[error("cannot execute {program}")]
    Exec {
        program: String,
        #[source]
        source: io::Error,
    },

    /// A system call failed; `what` says what it was doing.
    #[error("{what} failed")]
    Sys {
        what: &'static str,
        #[source]
        source: io::Error,
    },

    /// The auxiliary vector could not be located on a new image's stack.
    #[error("no auxiliary vector found on the stack of pid {pid}")]
    AuxvNotFound { pid: i32 },
}

impl Error {
    /// Wraps the calling thread's current `errno`.
    pub fn last_os(what: &'static str) -> Self {
        Error::Sys {
            what,
            source: io::Error::last_os_error(),
        }
    }

    /// Wraps an explicit errno value.
    pub fn errno(what: &'static str, errno: i32) -> Self {
        Error::Sys {
            what,
            source: io::Error::from_raw_os_error(errno),
        }
    }

    /// The exit status the supervisor uses when it fails with this error,
    /// following the convention of `env` and `docker run`.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::CommandNotFound(_) => 127,
            Error::Exec { source, .. } if source.kind() == io::ErrorKind::NotFound => 127,
            Error::Exec { .. } => 126,
            _ => 125,
        }
    }
}

/// Turns a `-1` return value into the current errno, labelled with `what`.
pub fn check(ret: libc::c_long, what: &'static str) -> Result<libc::c_long, Error> {
    if ret == -1 {
        Err(Error::last_os(what))
    } else {
        Ok(ret)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
