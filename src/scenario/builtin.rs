//! The scenarios shipped inside the binary, so `spirelab break NAME` works anywhere, and the
//! files their `rules` steps load.

/// Name and YAML text of each built-in scenario.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "wrong-selector",
        include_str!("../../scenarios/wrong-selector.yaml"),
    ),
    (
        "missing-socket-mount",
        include_str!("../../scenarios/missing-socket-mount.yaml"),
    ),
    (
        "socket-path-mismatch",
        include_str!("../../scenarios/socket-path-mismatch.yaml"),
    ),
    (
        "alias-typo",
        include_str!("../../scenarios/alias-typo.yaml"),
    ),
    (
        "workload-moved-agent",
        include_str!("../../scenarios/workload-moved-agent.yaml"),
    ),
    (
        "clock-skew",
        include_str!("../../scenarios/clock-skew.yaml"),
    ),
    (
        "clock-skew-behind",
        include_str!("../../scenarios/clock-skew-behind.yaml"),
    ),
    (
        "join-token-reused",
        include_str!("../../scenarios/join-token-reused.yaml"),
    ),
    (
        "datastore-lost",
        include_str!("../../scenarios/datastore-lost.yaml"),
    ),
    (
        "monitoring-fetch-denied",
        include_str!("../../scenarios/monitoring-fetch-denied.yaml"),
    ),
];

/// Files the built-in scenarios refer to, by their path relative to `scenarios/`.
pub const FILES: &[(&str, &str)] = &[
    (
        "monitoring/fetch-denied.yml",
        include_str!("../../scenarios/monitoring/fetch-denied.yml"),
    ),
    (
        "monitoring/invented-metric.yml",
        include_str!("../../scenarios/monitoring/invented-metric.yml"),
    ),
    (
        "monitoring/every-agent.yml",
        include_str!("../../scenarios/monitoring/every-agent.yml"),
    ),
];

/// The YAML of the built-in scenario `name`.
pub fn find(name: &str) -> Option<&'static str> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// The text of the built-in scenarios' file `path` (relative to `scenarios/`).
pub fn file(path: &str) -> Option<&'static str> {
    let path = path.strip_prefix("./").unwrap_or(path);
    FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}
