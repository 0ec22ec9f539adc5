//! The scenario file format: a lab, a fault, what a learner should see, hints, the
//! reference fix and the graded checks.
//!
//! Steps and checks are small building blocks named by a single key, so instructors write
//! new scenarios without Rust (docs/scenarios.md has an example of each). References to
//! components and bounded durations keep their position in the file, so an unknown name or
//! a duration out of bounds is reported at its line and column.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use crate::lab::LabSpec;
use crate::prometheus::rules::RulesSource;

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A short name, such as `wrong-selector`.
    pub name: String,
    /// One line for `spirelab list`.
    pub summary: String,
    /// What the learner is told when the lab breaks.
    #[serde(default)]
    pub description: String,
    /// The lab the scenario needs; defaults to the standard lab.
    #[serde(default)]
    pub lab: LabSpec,
    /// The steps that break the lab.
    #[serde(rename = "break")]
    pub break_steps: Vec<Step>,
    /// What must be observable once it is broken.
    pub broken: Broken,
    /// Hints, from gentle to explicit.
    #[serde(default)]
    pub hints: Vec<String>,
    /// The reference fix.
    pub solve: Vec<Step>,
    /// The graded checks.
    pub grade: Vec<Check>,
    /// Fixes a learner might plausibly try that must not pass; each is graded in tests.
    #[serde(default)]
    pub wrong_fixes: Vec<WrongFix>,
    /// Prometheus alerts the fault must raise, and the fix clear (checked by `spirelab run`).
    #[serde(default)]
    pub alerts: Option<Alerts>,
}

/// The alerts a scenario's fault raises in the lab's Prometheus.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alerts {
    /// Alert names, as in monitoring/prometheus/alerts.yml or a rules file the scenario
    /// loads.
    pub expected: Vec<Spanned<String>>,
    /// How long each may take to fire, from the moment the break steps start being applied.
    #[serde(deserialize_with = "spanned_duration")]
    pub fire_within: Spanned<Duration>,
    /// How long each may take to clear, from the moment the last solve step was applied.
    #[serde(deserialize_with = "spanned_duration")]
    pub clear_within: Spanned<Duration>,
}

/// What `break` confirms before handing the lab to the learner.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Broken {
    /// How long the symptoms may take to show.
    #[serde(deserialize_with = "spanned_duration")]
    pub within: Spanned<Duration>,
    /// Checks that must all pass once broken.
    pub checks: Vec<Check>,
}

/// A plausible but wrong fix, and the check that must catch it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WrongFix {
    /// What the learner tries, in words.
    pub name: String,
    /// The steps of the wrong fix.
    pub steps: Vec<Step>,
    /// The grade check kinds that must fail after it, such as `svid`.
    pub fails: Vec<Spanned<String>>,
    /// Grade it as `spirelab grade` does, waiting up to each check's bound (for checks that
    /// need time, such as an alert that must fire); by default it is judged at once.
    #[serde(default)]
    pub grade_waits: bool,
}

/// One step that changes the lab.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Create a registration entry.
    EntryCreate(EntryCreate),
    /// Change the registration entry of a workload or the node alias entry of an agent.
    EntryUpdate(EntryUpdate),
    /// Put a workload's entry or an agent's node alias entry back as the lab defines it,
    /// removing any other entry that issues its SPIFFE ID.
    EntryRestore(EntryRef),
    /// Delete every entry that issues a workload's SPIFFE ID or an agent's node alias.
    EntryDelete(EntryRef),
    /// Remove a component's container and create it again, changed or as the lab defines it.
    Recreate(Recreate),
    /// Run a command in a component's container; it must exit 0.
    Exec(Exec),
    /// Copy a file within a component's container, even while it is stopped.
    CopyFile(CopyFile),
    /// Write a file in a component's container, even while it is stopped.
    WriteFile(WriteFile),
    /// Set an agent's wall-clock offset (the host's clock is never touched).
    Clock(ClockStep),
    /// Change keys of a SPIRE config file and restart the component.
    Config(ConfigStep),
    /// Give a join_token agent a fresh token for its node alias, write it into its
    /// agent.conf and restart it, as an operator joining a node again does.
    JoinToken(JoinTokenStep),
    /// Stop a component's container.
    Stop(ComponentRef),
    /// Start a stopped container.
    Start(ComponentRef),
    /// Restart a component's container.
    Restart(ComponentRef),
    /// Freeze a component's processes.
    Pause(ComponentRef),
    /// Thaw a paused component.
    Unpause(ComponentRef),
    /// Cut a component off the lab's network.
    Disconnect(ComponentRef),
    /// Put a disconnected component back on the lab's network.
    Connect(ComponentRef),
    /// Pause for a while.
    #[serde(deserialize_with = "spanned_duration")]
    Wait(Spanned<Duration>),
    /// Wait until a check passes.
    WaitFor(WaitFor),
    /// Load a Prometheus rules file into the lab's Prometheus, as `spirelab rules load` does.
    Rules(RulesStep),
}

/// Parameters of [`Step::EntryCreate`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryCreate {
    /// The SPIFFE ID to issue.
    pub spiffe_id: Spanned<String>,
    /// The parent; with neither this nor `parent_agent`, the entry is a node alias (`-node`).
    #[serde(default)]
    pub parent_id: Option<Spanned<String>>,
    /// The parent is this agent's own SPIFFE ID, as the server lists it when the step runs.
    #[serde(default)]
    pub parent_agent: Option<Spanned<String>>,
    /// Selectors such as `unix:uid:1001`.
    #[serde(default)]
    pub selectors: Vec<Spanned<String>>,
    /// Selectors of an attested agent, added to `selectors`.
    #[serde(default)]
    pub agent_selectors: Option<AgentSelectors>,
    /// X509-SVID TTL; the server default when omitted.
    #[serde(default, with = "humantime_serde")]
    pub ttl: Option<Duration>,
}

/// Parameters of [`Step::EntryUpdate`]; unset fields keep their current value.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawEntryUpdate")]
pub struct EntryUpdate {
    /// The entry that changes.
    pub target: EntryTarget,
    /// New selectors, such as `unix:uid:1000`.
    pub selectors: Option<Vec<Spanned<String>>>,
    /// New selectors taken from an attested agent, added to `selectors`.
    pub agent_selectors: Option<AgentSelectors>,
    /// A new SPIFFE ID.
    pub spiffe_id: Option<Spanned<String>>,
    /// A new parent ID.
    pub parent_id: Option<Spanned<String>>,
    /// A new parent: this agent's own SPIFFE ID, as the server lists it when the step runs.
    pub parent_agent: Option<Spanned<String>>,
}

/// [`EntryUpdate`] as written, before its target is settled.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntryUpdate {
    #[serde(default)]
    workload: Option<Spanned<String>>,
    #[serde(default)]
    alias: Option<Spanned<String>>,
    #[serde(default)]
    selectors: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    agent_selectors: Option<AgentSelectors>,
    #[serde(default)]
    spiffe_id: Option<Spanned<String>>,
    #[serde(default)]
    parent_id: Option<Spanned<String>>,
    #[serde(default)]
    parent_agent: Option<Spanned<String>>,
}

impl TryFrom<RawEntryUpdate> for EntryUpdate {
    type Error = String;

    fn try_from(raw: RawEntryUpdate) -> Result<Self, String> {
        Ok(EntryUpdate {
            target: EntryTarget::pick(raw.workload, raw.alias)?,
            selectors: raw.selectors,
            agent_selectors: raw.agent_selectors,
            spiffe_id: raw.spiffe_id,
            parent_id: raw.parent_id,
            parent_agent: raw.parent_agent,
        })
    }
}

/// Parameters of [`Step::EntryRestore`] and [`Step::EntryDelete`]: `workload: NAME` or
/// `alias: AGENT`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawEntryRef")]
pub struct EntryRef {
    /// The entry acted on.
    pub target: EntryTarget,
}

/// [`EntryRef`] as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntryRef {
    #[serde(default)]
    workload: Option<Spanned<String>>,
    #[serde(default)]
    alias: Option<Spanned<String>>,
}

impl TryFrom<RawEntryRef> for EntryRef {
    type Error = String;

    fn try_from(raw: RawEntryRef) -> Result<Self, String> {
        let target = EntryTarget::pick(raw.workload, raw.alias)?;
        Ok(EntryRef { target })
    }
}

/// The registration entry an entry step acts on.
#[derive(Debug, Clone)]
pub enum EntryTarget {
    /// The entry issuing a workload's SPIFFE ID (`workload: workload-1`).
    Workload(Spanned<String>),
    /// The node alias entry of an agent, `spiffe://<trust_domain>/node/<agent>`
    /// (`alias: agent-1`).
    Alias(Spanned<String>),
}

impl EntryTarget {
    /// The target named by exactly one of an entry step's `workload` and `alias` keys.
    fn pick(
        workload: Option<Spanned<String>>,
        alias: Option<Spanned<String>>,
    ) -> Result<Self, String> {
        match (workload, alias) {
            (Some(workload), None) => Ok(EntryTarget::Workload(workload)),
            (None, Some(agent)) => Ok(EntryTarget::Alias(agent)),
            (None, None) => Err(NO_TARGET.into()),
            (Some(_), Some(_)) => Err(TWO_TARGETS.into()),
        }
    }
}

/// Why an entry step that names no entry is rejected.
const NO_TARGET: &str =
    "name the entry: `workload: <workload>`, or `alias: <agent>` for the agent's node alias";
/// Why an entry step that names two entries is rejected.
const TWO_TARGETS: &str = "give `workload` or `alias`, not both: a step acts on one entry";

/// Selectors of an attested agent, read from the server when the step runs, as
/// `spire-server agent show` lists them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSelectors {
    /// The agent.
    pub agent: Spanned<String>,
    /// Only its selectors that start with this, such as `x509pop:ca:fingerprint:`; all of
    /// them by default.
    #[serde(default)]
    pub prefix: String,
}

/// Parameters of [`Step::Recreate`]; with none of the changes, the container is made
/// again exactly as the lab defines it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recreate {
    /// The component.
    pub component: Spanned<String>,
    /// Environment variables to set (or replace).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Run as this user (`uid` or `uid:gid`) instead.
    #[serde(default)]
    pub user: Option<String>,
    /// Leave out the volumes mounted at these paths, such as `/run/spire/sockets`.
    #[serde(default)]
    pub without_mounts: Vec<String>,
    /// Replace the component's own volumes mounted at these paths with empty ones, such as
    /// an agent's data directory `/var/lib/spire/agent` (what it knew is lost).
    #[serde(default)]
    pub empty_mounts: Vec<Spanned<String>>,
    /// For a workload: use this agent's socket and PID namespace instead of its own.
    #[serde(default)]
    pub agent: Option<Spanned<String>>,
    /// Run this command (entrypoint and arguments) instead of the lab's.
    #[serde(default)]
    pub command: Option<Vec<String>>,
}

/// Parameters of [`Step::Exec`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exec {
    /// The component.
    pub component: Spanned<String>,
    /// The command and its arguments.
    pub command: Vec<String>,
    /// Run as this user.
    #[serde(default)]
    pub user: Option<String>,
}

/// Parameters of [`Step::CopyFile`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyFile {
    /// The component.
    pub component: Spanned<String>,
    /// The file to copy, an absolute path.
    pub from: Spanned<String>,
    /// Where the copy goes, an absolute path; missing directories are made.
    pub to: Spanned<String>,
}

/// Parameters of [`Step::WriteFile`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteFile {
    /// The component.
    pub component: Spanned<String>,
    /// The file, an absolute path; an existing file is replaced.
    pub path: Spanned<String>,
    /// What it holds; empty by default.
    #[serde(default)]
    pub contents: String,
}

/// Parameters of [`Step::Clock`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockStep {
    /// The agent.
    pub component: Spanned<String>,
    /// A signed offset such as `+15m`, `-10m` or `0s`.
    pub offset: Spanned<String>,
}

/// Parameters of [`Step::Config`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigStep {
    /// The server or an agent.
    pub component: Spanned<String>,
    /// Keys of the `server` or `agent` block and their new values, such as
    /// `trust_domain: other.test`.
    pub set: BTreeMap<String, String>,
}

/// Parameters of [`Step::JoinToken`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinTokenStep {
    /// The agent; the lab must attest it with `node_attestor: join_token`.
    pub agent: Spanned<String>,
    /// Also evict the nodes the server still lists for the agent from earlier tokens
    /// (`spire-server agent evict`).
    #[serde(default)]
    pub evict_stale: bool,
}

/// Parameters of [`Step::WaitFor`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitFor {
    /// How long to wait at most.
    #[serde(deserialize_with = "spanned_duration")]
    pub within: Spanned<Duration>,
    /// The condition.
    pub check: Box<Check>,
}

/// Parameters of [`Step::Rules`].
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesStep {
    /// The rules file, relative to the scenario file.
    pub file: Spanned<String>,
    /// The file's path and text, filled in when the scenario is loaded.
    #[serde(skip)]
    pub source: Option<RulesSource>,
}

impl std::fmt::Debug for RulesStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RulesStep({})", self.file.value)
    }
}

/// A step about any component.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentRef {
    /// The component's name: `server`, `prometheus`, an agent or a workload.
    pub component: Spanned<String>,
}

/// One check, as used in `broken.checks`, `wait_for` and `grade`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// The workload fetches an SVID with its expected SPIFFE ID, chaining to the server's
    /// current bundle.
    Svid(WorkloadCheck),
    /// The workload's SVID rotated after the fix.
    Rotation(WorkloadCheck),
    /// Integrity: every entry issuing the workload's SPIFFE ID selects its uid and has an
    /// accepted parent.
    EntryPinned(EntryPinned),
    /// Integrity: the workload's container matches the lab's plan (image, user, command,
    /// environment, mounts, PID namespace) and its probe runs as its uid.
    WorkloadIntact(WorkloadIntact),
    /// The agent holds a current SVID and renewed it after the fix.
    AgentSvid(AgentCheck),
    /// The server lists no node for the agent besides the one it runs as now (an agent
    /// that joined again with a new token leaves its old agent ID until it is evicted).
    NoStaleAgents(AgentCheck),
    /// A node's clock offset is within a tolerance.
    ClockOffset(ClockCheck),
    /// A fetch as the workload fails with an error containing some text.
    FetchFails(Symptom),
    /// The workload's probe reported an error containing some text after the break.
    ProbeError(Symptom),
    /// The workload's probe has seen no new SVID for a while.
    RotationStalled(Stalled),
    /// A component's log has a line containing some text since the break.
    LogContains(LogSymptom),
    /// A Prometheus alert is firing.
    AlertFiring(AlertCheck),
    /// A Prometheus alert is neither pending nor firing.
    AlertClear(AlertCheck),
    /// Prometheus has loaded a rule defining an alert, and its last evaluation worked.
    RuleLoaded(RuleCheck),
}

fn one_point() -> u32 {
    1
}

/// Reads a duration written as `90s` or `5m` together with its position in the file, so a
/// duration out of bounds is reported where it is written.
fn spanned_duration<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Spanned<Duration>, D::Error> {
    let read = Spanned::<humantime_serde::Serde<Duration>>::deserialize(deserializer)?;
    Ok(Spanned::new(
        read.value.into_inner(),
        read.referenced,
        read.defined,
    ))
}

/// A default duration: it is not written in the file, so it has no position.
fn unwritten(duration: Duration) -> Spanned<Duration> {
    Spanned::new(duration, Location::UNKNOWN, Location::UNKNOWN)
}

/// A check about one workload.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadCheck {
    /// The workload.
    pub workload: Spanned<String>,
    /// Points for passing.
    #[serde(default = "one_point")]
    pub points: u32,
    /// Shown when the check fails.
    #[serde(default)]
    pub hint: Option<String>,
}

/// Parameters of [`Check::EntryPinned`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryPinned {
    /// The workload.
    pub workload: Spanned<String>,
    /// Accepted parent IDs; by default the node alias of the workload's agent.
    #[serde(default)]
    pub parents: Vec<String>,
    /// Points for passing.
    #[serde(default = "one_point")]
    pub points: u32,
    /// Shown when the check fails.
    #[serde(default)]
    pub hint: Option<String>,
}

/// Parameters of [`Check::WorkloadIntact`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadIntact {
    /// The workload.
    pub workload: Spanned<String>,
    /// The agent whose socket and PID namespace the workload should use; by default its
    /// own. For scenarios whose fix leaves the workload on another node.
    #[serde(default)]
    pub agent: Option<Spanned<String>>,
    /// Points for passing.
    #[serde(default = "one_point")]
    pub points: u32,
    /// Shown when the check fails.
    #[serde(default)]
    pub hint: Option<String>,
}

/// A check about one agent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentCheck {
    /// The agent.
    pub agent: Spanned<String>,
    /// Points for passing.
    #[serde(default = "one_point")]
    pub points: u32,
    /// Shown when the check fails.
    #[serde(default)]
    pub hint: Option<String>,
}

/// Parameters of [`Check::ClockOffset`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockCheck {
    /// The agent.
    pub component: Spanned<String>,
    /// The largest offset that passes.
    #[serde(default = "two_seconds", deserialize_with = "spanned_duration")]
    pub tolerance: Spanned<Duration>,
    /// Points for passing.
    #[serde(default = "one_point")]
    pub points: u32,
    /// Shown when the check fails.
    #[serde(default)]
    pub hint: Option<String>,
}

fn two_seconds() -> Spanned<Duration> {
    unwritten(Duration::from_secs(2))
}

/// A symptom seen by or as a workload.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Symptom {
    /// The workload.
    pub workload: Spanned<String>,
    /// Text the error must contain (case does not matter).
    pub contains: String,
    /// Points for passing.
    #[serde(default = "one_point")]
    pub points: u32,
    /// Shown when the check fails.
    #[serde(default)]
    pub hint: Option<String>,
}

/// Parameters of [`Check::RotationStalled`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stalled {
    /// The workload.
    pub workload: Spanned<String>,
    /// How long without a new SVID counts as stalled.
    #[serde(rename = "for", deserialize_with = "spanned_duration")]
    pub for_at_least: Spanned<Duration>,
    /// Points for passing.
    #[serde(default = "one_point")]
    pub points: u32,
    /// Shown when the check fails.
    #[serde(default)]
    pub hint: Option<String>,
}

/// A symptom in a component's log.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSymptom {
    /// The component.
    pub component: Spanned<String>,
    /// Text a log line must contain (case does not matter).
    pub contains: String,
    /// Points for passing.
    #[serde(default = "one_point")]
    pub points: u32,
    /// Shown when the check fails.
    #[serde(default)]
    pub hint: Option<String>,
}

/// A check on a Prometheus alert.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertCheck {
    /// The alert's name, as in monitoring/prometheus/alerts.yml or a rules file the
    /// scenario loads.
    pub alert: Spanned<String>,
    /// Only alerts carrying each of these labels with exactly this value count, such as
    /// `{component: agent-1}`.
    #[serde(default)]
    pub labels: LabelMatchers,
    /// When grading may wait: how long the alert may take to reach the wanted state.
    #[serde(default = "three_minutes", deserialize_with = "spanned_duration")]
    pub within: Spanned<Duration>,
    /// Points for passing.
    #[serde(default = "one_point")]
    pub points: u32,
    /// Shown when the check fails.
    #[serde(default)]
    pub hint: Option<String>,
}

fn three_minutes() -> Spanned<Duration> {
    unwritten(Duration::from_secs(180))
}

/// Label names and the values an alert must carry, in the order written, each with its
/// position in the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelMatchers(pub Vec<(Spanned<String>, Spanned<String>)>);

impl LabelMatchers {
    /// True when `labels` has every matcher's label with its value.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0
            .iter()
            .all(|(name, value)| labels.get(&name.value) == Some(&value.value))
    }

    /// `{name="value", ...}`, or nothing without matchers.
    pub fn selector(&self) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        let pairs: Vec<String> = self
            .0
            .iter()
            .map(|(n, v)| format!("{}={:?}", n.value, v.value))
            .collect();
        format!("{{{}}}", pairs.join(", "))
    }
}

impl<'de> Deserialize<'de> for LabelMatchers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = LabelMatchers;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of label names to values, such as { component: agent-1 }")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<Spanned<String>, Spanned<String>>()? {
                    pairs.push(pair);
                }
                Ok(LabelMatchers(pairs))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// Parameters of [`Check::RuleLoaded`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleCheck {
    /// The alert a loaded rule must define.
    pub alert: Spanned<String>,
    /// Points for passing.
    #[serde(default = "one_point")]
    pub points: u32,
    /// Shown when the check fails.
    #[serde(default)]
    pub hint: Option<String>,
}

/// What a check tests, apart from its points, its hint and how long grading may wait for
/// it: two checks with equal conditions pass and fail together.
#[derive(Debug, PartialEq, Eq)]
pub struct Condition<'a> {
    /// The check's kind, such as `svid`.
    pub kind: &'static str,
    /// The name of what it is about.
    pub subject: &'a str,
    /// Every other parameter that changes the outcome, written so that equal outcomes
    /// compare equal: text to match in lower case (matches ignore case), parents and label
    /// matchers sorted (their order does not matter).
    pub parameters: Vec<String>,
}

/// What a check is about, for reports and validation.
pub enum Subject<'a> {
    /// A workload.
    Workload(&'a Spanned<String>),
    /// An agent.
    Agent(&'a Spanned<String>),
    /// Any component.
    Component(&'a Spanned<String>),
    /// A Prometheus alert.
    Alert(&'a Spanned<String>),
}

impl<'a> Subject<'a> {
    /// The subject's name.
    pub fn name(&self) -> &'a str {
        match self {
            Subject::Workload(s)
            | Subject::Agent(s)
            | Subject::Component(s)
            | Subject::Alert(s) => &s.value,
        }
    }
}

impl Check {
    /// The check's kind, as written in scenario files.
    pub fn kind(&self) -> &'static str {
        match self {
            Check::Svid(_) => "svid",
            Check::Rotation(_) => "rotation",
            Check::EntryPinned(_) => "entry_pinned",
            Check::WorkloadIntact(_) => "workload_intact",
            Check::AgentSvid(_) => "agent_svid",
            Check::NoStaleAgents(_) => "no_stale_agents",
            Check::ClockOffset(_) => "clock_offset",
            Check::FetchFails(_) => "fetch_fails",
            Check::ProbeError(_) => "probe_error",
            Check::RotationStalled(_) => "rotation_stalled",
            Check::LogContains(_) => "log_contains",
            Check::AlertFiring(_) => "alert_firing",
            Check::AlertClear(_) => "alert_clear",
            Check::RuleLoaded(_) => "rule_loaded",
        }
    }

    /// What the check is about.
    pub fn subject(&self) -> Subject<'_> {
        match self {
            Check::Svid(c) | Check::Rotation(c) => Subject::Workload(&c.workload),
            Check::WorkloadIntact(c) => Subject::Workload(&c.workload),
            Check::EntryPinned(c) => Subject::Workload(&c.workload),
            Check::FetchFails(c) | Check::ProbeError(c) => Subject::Workload(&c.workload),
            Check::RotationStalled(c) => Subject::Workload(&c.workload),
            Check::AgentSvid(c) | Check::NoStaleAgents(c) => Subject::Agent(&c.agent),
            Check::ClockOffset(c) => Subject::Agent(&c.component),
            Check::LogContains(c) => Subject::Component(&c.component),
            Check::AlertFiring(c) | Check::AlertClear(c) => Subject::Alert(&c.alert),
            Check::RuleLoaded(c) => Subject::Alert(&c.alert),
        }
    }

    /// The subject as reports show it: its name, and an alert check's label matchers.
    pub fn subject_text(&self) -> String {
        match self {
            Check::AlertFiring(c) | Check::AlertClear(c) => {
                format!("{}{}", c.alert.value, c.labels.selector())
            }
            other => other.subject().name().to_string(),
        }
    }

    /// Points for passing and the hint for failing.
    pub fn scoring(&self) -> (u32, Option<&str>) {
        let (points, hint) = match self {
            Check::Svid(c) | Check::Rotation(c) => (c.points, &c.hint),
            Check::WorkloadIntact(c) => (c.points, &c.hint),
            Check::EntryPinned(c) => (c.points, &c.hint),
            Check::AgentSvid(c) | Check::NoStaleAgents(c) => (c.points, &c.hint),
            Check::ClockOffset(c) => (c.points, &c.hint),
            Check::FetchFails(c) | Check::ProbeError(c) => (c.points, &c.hint),
            Check::RotationStalled(c) => (c.points, &c.hint),
            Check::LogContains(c) => (c.points, &c.hint),
            Check::AlertFiring(c) | Check::AlertClear(c) => (c.points, &c.hint),
            Check::RuleLoaded(c) => (c.points, &c.hint),
        };
        (points, hint.as_deref())
    }

    /// What the check tests; see [`Condition`].
    pub fn condition(&self) -> Condition<'_> {
        let sorted = |mut values: Vec<String>| {
            values.sort();
            values
        };
        let parameters = match self {
            Check::Svid(_) | Check::Rotation(_) | Check::AgentSvid(_) => Vec::new(),
            Check::NoStaleAgents(_) => Vec::new(),
            Check::RuleLoaded(_) => Vec::new(),
            Check::EntryPinned(c) => sorted(c.parents.clone()),
            Check::WorkloadIntact(c) => c.agent.iter().map(|a| a.value.clone()).collect(),
            Check::ClockOffset(c) => vec![format!("{:?}", c.tolerance.value)],
            Check::FetchFails(c) | Check::ProbeError(c) => vec![c.contains.to_lowercase()],
            Check::RotationStalled(c) => vec![format!("{:?}", c.for_at_least.value)],
            Check::LogContains(c) => vec![c.contains.to_lowercase()],
            Check::AlertFiring(c) | Check::AlertClear(c) => {
                let pairs = c
                    .labels
                    .0
                    .iter()
                    .map(|(n, v)| format!("{}={:?}", n.value, v.value));
                sorted(pairs.collect())
            }
        };
        Condition {
            kind: self.kind(),
            subject: self.subject().name(),
            parameters,
        }
    }
}
