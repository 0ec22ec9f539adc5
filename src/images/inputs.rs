//! Where the files that go into spirelab's images come from on this machine.

use std::path::PathBuf;

use super::{ImageError, SPIRE_VERSION};

/// The directory `scripts/build-spire.sh` caches SPIRE's binaries in.
pub fn spire_bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SPIRELAB_SPIRE_BIN_DIR") {
        return dir.into();
    }
    cache_dir()
        .join(format!("spire-{SPIRE_VERSION}"))
        .join("bin")
}

/// spirelab's cache directory: `$SPIRELAB_CACHE`, else `$XDG_CACHE_HOME/spirelab`, else
/// `~/.cache/spirelab`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SPIRELAB_CACHE") {
        return dir.into();
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    base.join("spirelab")
}

/// The SPIRE binary `name` (spire-server or spire-agent).
pub fn spire_binary(name: &'static str) -> Result<PathBuf, ImageError> {
    existing(
        spire_bin_dir().join(name),
        name,
        "build it with scripts/build-spire.sh",
    )
}

/// The workload probe, built next to the running spirelab binary.
pub fn probe_binary() -> Result<PathBuf, ImageError> {
    let path = match std::env::var_os("SPIRELAB_PROBE_BIN") {
        Some(path) => PathBuf::from(path),
        None => sibling_of_current_exe("spirelab-probe"),
    };
    existing(
        path,
        "spirelab-probe",
        "build it with `cargo build --release --bins`",
    )
}

/// The static clock supervisor, built next to the running spirelab binary by `make build`
/// (crates/clockshift/build-static.sh) unless `SPIRELAB_CLOCKSHIFT_BIN` says.
pub fn clockshift_binary() -> Result<PathBuf, ImageError> {
    let path = match std::env::var_os("SPIRELAB_CLOCKSHIFT_BIN") {
        Some(path) => PathBuf::from(path),
        None => sibling_of_current_exe("clockshift"),
    };
    existing(
        path,
        "clockshift",
        "build it with `make build` (crates/clockshift/build-static.sh)",
    )
}

/// Prometheus, from Debian's `prometheus` package unless `SPIRELAB_PROMETHEUS_BIN` says.
pub fn prometheus_binary() -> Result<PathBuf, ImageError> {
    let path = std::env::var_os("SPIRELAB_PROMETHEUS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/prometheus"));
    existing(path, "prometheus", "install Debian's prometheus package")
}

/// promtool, from the same package unless `SPIRELAB_PROMTOOL_BIN` says; the lab's
/// Prometheus runs it to check a learner's rules before loading them.
pub fn promtool_binary() -> Result<PathBuf, ImageError> {
    let path = std::env::var_os("SPIRELAB_PROMTOOL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/promtool"));
    existing(path, "promtool", "install Debian's prometheus package")
}

fn sibling_of_current_exe(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    // Test binaries live one level down, in target/<profile>/deps.
    let candidates = [
        dir.join(name),
        dir.parent().map(|p| p.join(name)).unwrap_or_default(),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| dir.join(name))
}

fn existing(path: PathBuf, what: &'static str, hint: &'static str) -> Result<PathBuf, ImageError> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(ImageError::MissingInput {
            what,
            path: path.display().to_string(),
            hint,
        })
    }
}
