//! The scenarios shipped inside the binary, so `spirelab break NAME` works anywhere.

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
];

/// The YAML of the built-in scenario `name`.
pub fn find(name: &str) -> Option<&'static str> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}
