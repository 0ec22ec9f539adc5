//! Reading a scenario: find it, parse it, and reject anything that cannot run, with the
//! file, line and column of the problem, before a single container starts.

use std::path::Path;

use serde_saphyr::Spanned;

use super::model::{
    Check, ConfigStep, EntryCreate, EntryTarget, EntryUpdate, LabelMatchers, Recreate, RulesStep,
    Scenario, Step, Subject, WorkloadIntact,
};
use super::{bounds, builtin, coherence};
use crate::lab::clock;
use crate::lab::spec::NodeAttestor;
use crate::lab::{LabSpec, SpecError};
use crate::prometheus::rules::{RuleFile, RulesError, RulesSource};

/// A scenario that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Neither a built-in name nor a readable file.
    #[error("no scenario {0:?}: not a built-in name (see `spirelab list`) and no such file")]
    NotFound(String),
    /// The file exists but could not be read.
    #[error("failed to read scenario file {path} (a regular YAML file of at most 1 MiB)")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The YAML does not have the scenario's shape.
    #[error("{origin}:{line}:{column}: {message}")]
    Syntax {
        /// The file or built-in name.
        origin: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A value is well-formed but does not fit the rest of the scenario.
    #[error("{origin}:{line}:{column}: {message}")]
    Invalid {
        /// The file or built-in name.
        origin: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What is wrong.
        message: String,
    },
    /// A `rules` step names a file that cannot be read or is not a rules file.
    #[error("{origin}:{line}:{column}: rules file {file:?} cannot be used")]
    RulesFile {
        /// The scenario file or built-in name.
        origin: String,
        /// 1-based line of the `file:` value.
        line: u64,
        /// 1-based column.
        column: u64,
        /// The path as written.
        file: String,
        /// What is wrong with it.
        #[source]
        source: Box<RulesError>,
    },
    /// The `lab:` section describes a lab that cannot be built.
    #[error("{origin}:{line}:{column}: lab: {source}")]
    Lab {
        /// The file or built-in name.
        origin: String,
        /// 1-based line of the offending value (or of `lab:`).
        line: u64,
        /// 1-based column.
        column: u64,
        /// What is wrong with it.
        #[source]
        source: SpecError,
    },
}

/// A scenario and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file path, or `builtin:NAME`.
    pub origin: String,
    /// The parsed, validated scenario.
    pub scenario: Scenario,
    /// The YAML it was parsed from.
    pub text: String,
}

/// The largest scenario file spirelab reads.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// Reads a scenario file: a regular file of at most 1 MiB.
pub fn read_file(path: &str) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind};
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(Error::new(ErrorKind::InvalidInput, "not a regular file"));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(Error::new(ErrorKind::InvalidInput, "larger than 1 MiB"));
    }
    std::fs::read_to_string(path)
}

/// Finds `name_or_path` as a file or a built-in scenario name, and loads it. A built-in
/// name wins over anything at that path that is not a regular file (a directory called
/// `clock-skew`, say).
pub fn resolve(name_or_path: &str) -> Result<Loaded, ScenarioError> {
    let path = Path::new(name_or_path);
    let is_builtin = builtin::find(name_or_path).is_some();
    if path.is_file() || (path.exists() && !is_builtin) {
        let read_error = |source| ScenarioError::Read {
            path: name_or_path.to_string(),
            source,
        };
        let text = read_file(name_or_path).map_err(read_error)?;
        return load(name_or_path, &text);
    }
    match builtin::find(name_or_path) {
        Some(text) => load(&format!("builtin:{name_or_path}"), text),
        None => Err(ScenarioError::NotFound(name_or_path.to_string())),
    }
}

/// Parses and validates scenario `text` read from `origin`.
pub fn load(origin: &str, text: &str) -> Result<Loaded, ScenarioError> {
    let mut scenario: Scenario =
        serde_saphyr::from_str(text).map_err(|error| syntax(origin, &error, text))?;
    let lab_error = |source: SpecError| {
        let (line, column) = locate_in_lab(text, &source);
        ScenarioError::Lab {
            origin: origin.to_string(),
            line,
            column,
            source,
        }
    };
    scenario.lab.validate().map_err(lab_error)?;
    let rule_alerts = attach_rule_files(origin, &mut scenario)?;
    validate(origin, &scenario, &rule_alerts)?;
    let flawed = |flaw: Flaw| flaw.into_error(origin);
    bounds::check(&scenario, text).map_err(flawed)?;
    coherence::check(&scenario, text).map_err(flawed)?;
    Ok(Loaded {
        origin: origin.to_string(),
        scenario,
        text: text.to_string(),
    })
}

fn syntax(origin: &str, error: &serde_saphyr::Error, text: &str) -> ScenarioError {
    let ((line, column), message) = reworded(error, text).unwrap_or_else(|| {
        // An error about the whole document may come without a position: point at its start.
        let at = error.location().map_or((1, 1), |l| (l.line(), l.column()));
        (at, first_line_without_position(&error.to_string()))
    });
    ScenarioError::Syntax {
        origin: origin.to_string(),
        line,
        column,
        message,
    }
}

/// serde-saphyr's messages that speak of its own API or of Rust types, said in the
/// scenario's terms instead: what to write, and where. `None` keeps its message and
/// position.
fn reworded(error: &serde_saphyr::Error, text: &str) -> Option<((u64, u64), String)> {
    use serde_saphyr::Error as E;
    let location = error.location()?;
    let at = (location.line(), location.column());
    let offset = location.span().byte_offset().map(|o| o as usize);
    let message = match error.without_snippet() {
        E::DuplicateMappingKey { key: Some(key), .. } => format!("`{key}` is given twice"),
        E::MultipleDocuments { .. } => {
            let message = "a scenario file holds one YAML document; remove the `---` separator";
            return Some((separator_before(text, at), message.into()));
        }
        E::InvalidScalar { ty: "boolean", .. } | E::InvalidBooleanStrict { .. } => {
            "expected true or false".into()
        }
        E::InvalidScalar { ty: "u32", .. } => match key_before(text, offset?) {
            Some("points") => "expected a whole number of points, 0 or more".into(),
            _ => "expected a whole number from 0 to 4294967295".into(),
        },
        E::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } if expected == "a duration" => {
            // Reported at the key: point at the value when it can be found after it.
            let written = unexpected.strip_prefix("string ").unwrap_or(unexpected);
            let value_at = offset.and_then(|o| value_after(text, o, written.trim_matches('"')));
            let message = format!("expected a duration such as 90s, 5m or 1h30m, got {written}");
            return Some((value_at.map_or(at, |column| (at.0, column)), message));
        }
        // Reported at the document's last key; only a top-level key is written at column 1.
        E::SerdeMissingField { field, .. } if at.1 == 1 => {
            let message = format!("the scenario has no `{field}:`; add it as a top-level key");
            return Some(((1, 1), message));
        }
        _ => return None,
    };
    Some((at, message))
}

/// The `---` line that starts the document beginning at `at`, where serde-saphyr reports a
/// second document; `at` when there is none.
fn separator_before(text: &str, at: (u64, u64)) -> (u64, u64) {
    let lines: Vec<&str> = text.lines().take(at.0 as usize).collect();
    let separator = lines.iter().rposition(|l| l.starts_with("---"));
    separator.map_or(at, |i| (i as u64 + 1, 1))
}

/// The key written just before byte `offset` on its line, as `points` in `points: -1`.
fn key_before(text: &str, offset: usize) -> Option<&str> {
    let line = text.get(..offset)?.rsplit('\n').next()?;
    let key = line.trim_end().strip_suffix(':')?;
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    Some(&key[key.trim_end_matches(name_char).len()..])
}

/// The 1-based column of `value` where it is first written after the `:` that follows
/// byte `offset` (a key's start), on the same line.
fn value_after(text: &str, offset: usize, value: &str) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    let line_start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let rest = &text[offset..];
    let line_end = offset + rest.find('\n').unwrap_or(rest.len());
    let colon = offset + rest[..line_end - offset].find(':')?;
    let found = colon + text[colon..line_end].find(value)?;
    Some(text[line_start..found].chars().count() as u64 + 1)
}

/// serde-saphyr writes `error: line L column C: message`, possibly followed by a snippet;
/// keep the message alone, since the position is printed in front of it already.
fn first_line_without_position(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default().trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let message = match first.strip_prefix("line ") {
        Some(rest) => rest.split_once(": ").map_or(rest, |(_, message)| message),
        None => first,
    };
    message.trim().to_string()
}

/// Reads the file of every `rules` step, relative to the scenario file (or from the
/// built-in files for a built-in scenario), and returns the alerts those files define.
fn attach_rule_files(origin: &str, scenario: &mut Scenario) -> Result<Vec<String>, ScenarioError> {
    let fixes = scenario.wrong_fixes.iter_mut().flat_map(|f| &mut f.steps);
    let steps = scenario
        .break_steps
        .iter_mut()
        .chain(&mut scenario.solve)
        .chain(fixes);
    let mut alerts = Vec::new();
    for step in steps {
        if let Step::Rules(rules) = step {
            let (source, file) =
                read_rule_file(origin, rules).map_err(|source| ScenarioError::RulesFile {
                    origin: origin.to_string(),
                    line: rules.file.referenced.line(),
                    column: rules.file.referenced.column(),
                    file: rules.file.value.clone(),
                    source: Box::new(source),
                })?;
            alerts.extend(file.alert_names());
            rules.source = Some(source);
        }
    }
    Ok(alerts)
}

fn read_rule_file(origin: &str, step: &RulesStep) -> Result<(RulesSource, RuleFile), RulesError> {
    let written = step.file.value.as_str();
    let not_found = |path: &str| RulesError::Read {
        path: path.to_string(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such built-in file"),
    };
    let source = match origin.strip_prefix("builtin:") {
        Some(_) => RulesSource {
            origin: format!("builtin:{written}"),
            text: builtin::file(written)
                .ok_or_else(|| not_found(written))?
                .to_string(),
        },
        None if Path::new(written).is_absolute() => {
            return Err(RulesError::Shape {
                origin: written.to_string(),
                problem: "a rules file is named relative to the scenario file".into(),
            });
        }
        None => {
            let dir = Path::new(origin).parent().unwrap_or(Path::new(""));
            RulesSource::read(&dir.join(written).display().to_string())?
        }
    };
    let file = RuleFile::parse(&source)?;
    Ok((source, file))
}

fn validate(
    origin: &str,
    scenario: &Scenario,
    rule_alerts: &[String],
) -> Result<(), ScenarioError> {
    let lab = &scenario.lab;
    let known = Known {
        lab,
        shipped_alerts: crate::lab::render::alert_names(),
        rule_alerts,
    };
    let invalid = |(at, message): Problem<'_>| ScenarioError::Invalid {
        origin: origin.to_string(),
        line: at.referenced.line(),
        column: at.referenced.column(),
        message,
    };
    let fixes = scenario.wrong_fixes.iter().flat_map(|f| &f.steps);
    for step in scenario
        .break_steps
        .iter()
        .chain(&scenario.solve)
        .chain(fixes)
    {
        validate_step(&known, step).map_err(invalid)?;
    }
    for check in scenario.broken.checks.iter().chain(&scenario.grade) {
        validate_check(&known, check).map_err(invalid)?;
    }
    for alert in scenario.alerts.iter().flat_map(|a| &a.expected) {
        known.alert(alert).map_err(invalid)?;
    }
    Ok(())
}

type Problem<'a> = (&'a Spanned<String>, String);

/// A problem that relates several values, or a value that is not a name: where to point
/// and what to fix. Found by [`bounds`] and [`coherence`] once every name is known.
#[derive(Debug)]
pub(super) struct Flaw {
    /// 1-based line and column.
    pub at: (u64, u64),
    /// What is wrong and what to write instead.
    pub message: String,
}

impl Flaw {
    fn into_error(self, origin: &str) -> ScenarioError {
        ScenarioError::Invalid {
            origin: origin.to_string(),
            line: self.at.0,
            column: self.at.1,
            message: self.message,
        }
    }
}

/// The line and column where `value` is written.
pub(super) fn position<T>(value: &Spanned<T>) -> (u64, u64) {
    (value.referenced.line(), value.referenced.column())
}

/// Where `value` is written or, for a value left at its default (which has no position),
/// where `owner`, the value that names what it belongs to, is written.
pub(super) fn written_at<T, U>(value: &Spanned<T>, owner: &Spanned<U>) -> (u64, u64) {
    match position(value) {
        (0, _) => position(owner),
        at => at,
    }
}

/// The line and column of top-level key `key` (such as `grade`), plain or quoted, found in
/// the text since serde keeps no position for keys; the file's start when the document is
/// written some other way (a flow mapping, say).
pub(super) fn key_position(text: &str, key: &str) -> (u64, u64) {
    let quoted = [key.to_string(), format!("\"{key}\""), format!("'{key}'")];
    let written = |line: &str| {
        let mut rests = quoted.iter().filter_map(|k| line.strip_prefix(k.as_str()));
        rests.any(|r| r.trim_start().starts_with(':'))
    };
    let line = text.lines().position(written).map_or(0, |i| i as u64);
    (line + 1, 1)
}

/// What names a scenario may refer to.
struct Known<'a> {
    lab: &'a LabSpec,
    /// Alerts of monitoring/prometheus/alerts.yml.
    shipped_alerts: Vec<String>,
    /// Alerts defined by the rules files the scenario loads.
    rule_alerts: &'a [String],
}

impl Known<'_> {
    fn alert<'a>(&self, name: &'a Spanned<String>) -> Result<(), Problem<'a>> {
        let known = |list: &[String]| list.contains(&name.value);
        if known(&self.shipped_alerts) || known(self.rule_alerts) {
            return Ok(());
        }
        let mut message = format!(
            "unknown alert {:?}; monitoring/prometheus/alerts.yml defines {}",
            name.value,
            self.shipped_alerts.join(", ")
        );
        if !self.rule_alerts.is_empty() {
            let theirs = self.rule_alerts.join(", ");
            message.push_str(&format!(", and the scenario's rules files define {theirs}"));
        }
        Err((name, message))
    }
}

/// Where in the `lab:` section the value a [`SpecError`] is about is written. The lab's
/// fields are plain values, so the position is found in the text, between `lab:` and the
/// next top-level key: a name as a `name:` value (a duplicate at its second one), a TTL or
/// the trust domain at its value; the `lab:` line when the value is not written.
fn locate_in_lab(text: &str, error: &SpecError) -> (u64, u64) {
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.iter().position(|l| l.starts_with("lab:")) else {
        return (1, 1);
    };
    let section = &lines[start + 1..];
    let end = section.iter().position(|l| is_top_level(l));
    let section = &section[..end.unwrap_or(section.len())];
    let find = |(key, value, nth): LabNeedle<'_>| {
        let mut hits = section.iter().enumerate().flat_map(|(i, line)| {
            let at = move |column: usize| (start + 1 + i, column);
            columns_of(line, key, value).into_iter().map(at)
        });
        hits.nth(nth)
    };
    let unwritten_ca =
        matches!(error, SpecError::CaTooShort { .. }).then_some(("svid_ttl", None, 0));
    let hit = lab_needle(error)
        .and_then(find)
        .or_else(|| unwritten_ca.and_then(find));
    let (line, column) = hit.unwrap_or((start, 0));
    (line as u64 + 1, column as u64 + 1)
}

/// A line that starts a top-level key (or ends the document's flow mapping).
fn is_top_level(line: &str) -> bool {
    !line.is_empty() && !line.starts_with([' ', '\t', '#'])
}

/// What a lab error is about: a key of the lab section, the value it must have if the
/// error names one, and which of the matching values (0 for the first).
type LabNeedle<'a> = (&'a str, Option<&'a str>, usize);

fn lab_needle(error: &SpecError) -> Option<LabNeedle<'_>> {
    let needle = match error {
        SpecError::DuplicateName(name) => ("name", Some(name.as_str()), 1),
        SpecError::BadName(name) | SpecError::ReservedName(name) => {
            ("name", Some(name.as_str()), 0)
        }
        SpecError::UnknownAgent { agent, .. } => ("agent", Some(agent.as_str()), 0),
        SpecError::CaTooShort { .. } => ("ca_ttl", None, 0),
        SpecError::SvidTooShort(_) => ("svid_ttl", None, 0),
        SpecError::TtlTooLong(key) => (*key, None, 0),
        SpecError::BadTrustDomain(_) => ("trust_domain", None, 0),
        SpecError::Empty => return None,
    };
    Some(needle)
}

/// The 0-based columns (in characters) of the values of `key:` on `line`, block or flow
/// style, plain or quoted; only the values equal to `value` when it is given.
fn columns_of(line: &str, key: &str, value: Option<&str>) -> Vec<usize> {
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let starts_key = |i: usize| !line[..i].ends_with(name_char);
    let mut columns = Vec::new();
    for (i, _) in line.match_indices(key).filter(|&(i, _)| starts_key(i)) {
        let after_key = line[i + key.len()..].trim_start_matches(['"', '\'']);
        let Some(rest) = after_key.strip_prefix(':') else {
            continue;
        };
        let written = rest.trim_start();
        let unquoted = written.trim_start_matches(['"', '\'']);
        let matches = value.is_none_or(|v| {
            let after = unquoted.strip_prefix(v);
            after.is_some_and(|after| !after.starts_with(name_char))
        });
        if matches {
            let at = line.len() - written.len();
            columns.push(line[..at].chars().count());
        }
    }
    columns
}

fn validate_step<'a>(known: &Known<'_>, step: &'a Step) -> Result<(), Problem<'a>> {
    let lab = known.lab;
    match step {
        Step::Wait(_) | Step::Rules(_) => Ok(()),
        Step::EntryCreate(create) => validate_entry_create(lab, create),
        Step::EntryUpdate(update) => validate_entry_update(lab, update),
        Step::EntryRestore(r) => {
            known_target(lab, &r.target)?;
            restorable(lab, &r.target)
        }
        Step::EntryDelete(r) => known_target(lab, &r.target),
        Step::Recreate(r) => validate_recreate(lab, r),
        Step::Exec(e) if e.command.is_empty() => Err((&e.component, "exec needs a command".into())),
        Step::Exec(e) => known_component(lab, &e.component),
        Step::CopyFile(c) => {
            known_component(lab, &c.component)?;
            absolute_path(&c.from)?;
            absolute_path(&c.to)
        }
        Step::WriteFile(w) => {
            known_component(lab, &w.component)?;
            absolute_path(&w.path)
        }
        Step::Clock(c) if !lab.clock_supervisor => Err((
            &c.component,
            "clock offsets need `clock_supervisor: true` in the lab".into(),
        )),
        Step::Clock(c) => {
            known_agent(lab, &c.component)?;
            clock::parse_offset(&c.offset.value)
                .map(drop)
                .map_err(|e| (&c.offset, e.to_string()))
        }
        Step::Config(c) => validate_config(lab, c),
        Step::JoinToken(j) => validate_join_token(lab, &j.agent),
        Step::Stop(c) | Step::Start(c) | Step::Restart(c) | Step::Pause(c) | Step::Unpause(c) => {
            known_component(lab, &c.component)
        }
        Step::Disconnect(c) | Step::Connect(c) => known_component(lab, &c.component),
        Step::WaitFor(w) => validate_check(known, &w.check),
    }
}

fn validate_entry_create<'a>(lab: &LabSpec, create: &'a EntryCreate) -> Result<(), Problem<'a>> {
    spiffe_id(&create.spiffe_id)?;
    create.parent_id.iter().try_for_each(spiffe_id)?;
    one_parent(lab, create.parent_id.as_ref(), create.parent_agent.as_ref())?;
    if create.selectors.is_empty() && create.agent_selectors.is_none() {
        return Err((
            &create.spiffe_id,
            "entry_create needs at least one selector, such as unix:uid:1001 (in `selectors`, \
             or an agent's in `agent_selectors`)"
                .into(),
        ));
    }
    if let Some(from_agent) = &create.agent_selectors {
        known_agent(lab, &from_agent.agent)?;
    }
    create.selectors.iter().try_for_each(selector)
}

/// A path inside a container: absolute, naming a file, without `..`.
fn absolute_path(path: &Spanned<String>) -> Result<(), Problem<'_>> {
    let value = path.value.as_str();
    let climbs = value.split('/').any(|part| part == "..");
    if value.starts_with('/') && !value.ends_with('/') && !climbs {
        return Ok(());
    }
    Err((
        path,
        format!(
            "{value:?} must be an absolute path to a file inside the container, without \
             `..`, such as /var/lib/spire/server/datastore.sqlite3"
        ),
    ))
}

fn validate_entry_update<'a>(lab: &LabSpec, update: &'a EntryUpdate) -> Result<(), Problem<'a>> {
    known_target(lab, &update.target)?;
    update.spiffe_id.iter().try_for_each(spiffe_id)?;
    update.parent_id.iter().try_for_each(spiffe_id)?;
    one_parent(lab, update.parent_id.as_ref(), update.parent_agent.as_ref())?;
    if let Some(from_agent) = &update.agent_selectors {
        known_agent(lab, &from_agent.agent)?;
    }
    update.selectors.iter().flatten().try_for_each(selector)
}

/// An entry step's parent is an ID or an agent's own ID (`parent_agent`), not both.
fn one_parent<'a>(
    lab: &LabSpec,
    id: Option<&Spanned<String>>,
    agent: Option<&'a Spanned<String>>,
) -> Result<(), Problem<'a>> {
    let Some(agent) = agent else {
        return Ok(());
    };
    known_agent(lab, agent)?;
    match id {
        Some(_) => Err((agent, "give `parent_id` or `parent_agent`, not both".into())),
        None => Ok(()),
    }
}

/// The lab defines an x509pop agent's alias entry; a join_token agent's is made with its
/// token, so restoring it means joining again.
fn restorable<'a>(lab: &LabSpec, target: &'a EntryTarget) -> Result<(), Problem<'a>> {
    let EntryTarget::Alias(agent) = target else {
        return Ok(());
    };
    match lab.agent(&agent.value).map(|a| a.node_attestor) {
        Some(NodeAttestor::JoinToken) => Err((
            agent,
            format!(
                "{}'s node alias entry comes with its join token; use \
                 `join_token: {{ agent: {} }}` to make a new one",
                agent.value, agent.value
            ),
        )),
        _ => Ok(()),
    }
}

/// The workload or the agent whose node alias an entry step names exists.
fn known_target<'a>(lab: &LabSpec, target: &'a EntryTarget) -> Result<(), Problem<'a>> {
    match target {
        EntryTarget::Workload(name) => known_workload(lab, name),
        EntryTarget::Alias(agent) => known_agent(lab, agent),
    }
}

/// `spiffe://trust-domain/path`, as SPIRE's CLI takes it.
fn spiffe_id(id: &Spanned<String>) -> Result<(), Problem<'_>> {
    let rest = id.value.strip_prefix("spiffe://");
    match rest.and_then(|r| r.split_once('/')) {
        Some((domain, path)) if !domain.is_empty() && !path.is_empty() => Ok(()),
        _ => Err((
            id,
            format!(
                "{:?} is not a SPIFFE ID; write spiffe://<trust domain>/<path>",
                id.value
            ),
        )),
    }
}

/// `type:value`, such as `unix:uid:1001` or `x509pop:subject:cn:agent-1`.
fn selector(text: &Spanned<String>) -> Result<(), Problem<'_>> {
    let kind_chars = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    match text.value.split_once(':') {
        Some((kind, value))
            if !kind.is_empty() && kind.chars().all(kind_chars) && !value.is_empty() =>
        {
            Ok(())
        }
        _ => Err((
            text,
            format!(
                "selector {:?} must be type:value, such as unix:uid:1001",
                text.value
            ),
        )),
    }
}

fn validate_recreate<'a>(lab: &LabSpec, recreate: &'a Recreate) -> Result<(), Problem<'a>> {
    known_component(lab, &recreate.component)?;
    if recreate.command.as_ref().is_some_and(Vec::is_empty) {
        return Err((&recreate.component, "recreate: `command` is empty".into()));
    }
    let own = own_volume_paths(lab, &recreate.component.value);
    if let Some(path) = recreate
        .empty_mounts
        .iter()
        .find(|p| !own.contains(&p.value.as_str()))
    {
        let message = match own.is_empty() {
            true => format!(
                "{} has no volumes of its own to empty",
                recreate.component.value
            ),
            false => format!(
                "empty_mounts: {:?} is not one of {}'s own volumes ({})",
                path.value,
                recreate.component.value,
                own.join(", ")
            ),
        };
        return Err((path, message));
    }
    left_out_and_emptied(recreate)?;
    let Some(agent) = &recreate.agent else {
        return Ok(());
    };
    known_agent(lab, agent)?;
    match lab.workload(&recreate.component.value) {
        Some(_) => Ok(()),
        None => Err((agent, "`agent` applies to workloads only".into())),
    }
}

/// A volume is emptied or left out, not both: `without_mounts` would win, and the volume
/// meant to be emptied would silently be missing instead.
fn left_out_and_emptied(recreate: &Recreate) -> Result<(), Problem<'_>> {
    let left_out = |p: &&Spanned<String>| recreate.without_mounts.contains(&p.value);
    match recreate.empty_mounts.iter().find(left_out) {
        Some(path) => Err((
            path,
            format!(
                "empty_mounts: {:?} is also in without_mounts, which leaves the volume out \
                 instead of emptying it; list the path in one of the two",
                path.value
            ),
        )),
        None => Ok(()),
    }
}

/// Where the volumes a component owns are mounted: the server's and an agent's data, and
/// an agent's socket directory. A workload only borrows its agent's socket volume.
fn own_volume_paths(lab: &LabSpec, component: &str) -> Vec<&'static str> {
    use crate::lab::paths::{AGENT_DATA, SERVER_DATA, SOCKET_DIR};
    match component {
        "server" => vec![SERVER_DATA],
        _ if lab.agent(component).is_some() => vec![AGENT_DATA, SOCKET_DIR],
        _ => Vec::new(),
    }
}

fn validate_join_token<'a>(lab: &LabSpec, agent: &'a Spanned<String>) -> Result<(), Problem<'a>> {
    known_agent(lab, agent)?;
    match lab.agent(&agent.value).map(|a| a.node_attestor) {
        Some(NodeAttestor::JoinToken) => Ok(()),
        _ => Err((
            agent,
            format!(
                "join_token needs an agent the lab attests with join tokens; give {} \
                 `node_attestor: join_token` under `lab: agents:`",
                agent.value
            ),
        )),
    }
}

fn validate_config<'a>(lab: &LabSpec, config: &'a ConfigStep) -> Result<(), Problem<'a>> {
    let name = &config.component;
    let key_chars = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    if let Some(key) = config
        .set
        .keys()
        .find(|k| k.is_empty() || !k.chars().all(key_chars))
    {
        return Err((
            name,
            format!("config key {key:?} must be lowercase letters, digits or '_'"),
        ));
    }
    if name.value == "server" || lab.agent(&name.value).is_some() {
        return Ok(());
    }
    Err((
        name,
        format!(
            "config applies to the server and agents, not {:?}",
            name.value
        ),
    ))
}

fn validate_check<'a>(known: &Known<'_>, check: &'a Check) -> Result<(), Problem<'a>> {
    let lab = known.lab;
    if let Check::AlertFiring(c) | Check::AlertClear(c) = check {
        validate_labels(&c.labels)?;
    }
    if let Check::WorkloadIntact(WorkloadIntact {
        agent: Some(agent), ..
    }) = check
    {
        known_agent(lab, agent)?;
    }
    match check.subject() {
        Subject::Workload(name) => known_workload(lab, name),
        Subject::Agent(name) => known_agent(lab, name),
        Subject::Component(name) => known_component(lab, name),
        Subject::Alert(name) => known.alert(name),
    }
}

/// Label names as Prometheus allows them (not reserved, not `alertname`), each once, each
/// with a value.
fn validate_labels(labels: &LabelMatchers) -> Result<(), Problem<'_>> {
    for (i, (name, value)) in labels.0.iter().enumerate() {
        let mut chars = name.value.chars();
        let valid = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid || name.value.starts_with("__") {
            let message = format!(
                "label name {:?} is not a Prometheus label name (letters, digits and '_', \
                 not starting with a digit or \"__\")",
                name.value
            );
            return Err((name, message));
        }
        if name.value == "alertname" {
            return Err((
                name,
                "give the alert's name as `alert:`, not as a label".into(),
            ));
        }
        if labels.0[..i]
            .iter()
            .any(|(earlier, _)| earlier.value == name.value)
        {
            return Err((name, format!("label {:?} is given twice", name.value)));
        }
        if value.value.is_empty() {
            let message = format!(
                "label {:?} needs a value; leave it out to accept any value",
                name.value
            );
            return Err((value, message));
        }
    }
    Ok(())
}

fn known_workload<'a>(lab: &LabSpec, name: &'a Spanned<String>) -> Result<(), Problem<'a>> {
    if lab.workload(&name.value).is_some() {
        return Ok(());
    }
    let known: Vec<&str> = lab.workloads.iter().map(|w| w.name.as_str()).collect();
    Err((
        name,
        format!(
            "unknown workload {:?}; the lab has {}",
            name.value,
            known.join(", ")
        ),
    ))
}

fn known_agent<'a>(lab: &LabSpec, name: &'a Spanned<String>) -> Result<(), Problem<'a>> {
    if lab.agent(&name.value).is_some() {
        return Ok(());
    }
    let known = lab.agent_names().join(", ");
    Err((
        name,
        format!(
            "unknown agent {:?}; the lab's agents are {known}",
            name.value
        ),
    ))
}

fn known_component<'a>(lab: &LabSpec, name: &'a Spanned<String>) -> Result<(), Problem<'a>> {
    let known = lab.component_names();
    if known.contains(&name.value) {
        return Ok(());
    }
    Err((
        name,
        format!(
            "unknown component {:?}; the lab has {}",
            name.value,
            known.join(", ")
        ),
    ))
}

/// Every check of a scenario, graded or not, for listing.
pub fn all_checks(scenario: &Scenario) -> impl Iterator<Item = &Check> {
    scenario.broken.checks.iter().chain(&scenario.grade)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        load("s.yaml", text).unwrap_err().to_string()
    }

    const HEAD: &str = "name: n\nsummary: s\nbroken: { within: 10s, checks: [] }\nsolve: []\n";

    #[test]
    fn unknown_key_is_reported_at_its_position_with_the_expected_keys() {
        let text = format!(
            "{HEAD}break:\n  - entry_update:\n      workload: workload-1\n      \
             selector: [a]\ngrade: []\n"
        );
        let error = error_of(&text);
        assert!(
            error.starts_with("s.yaml:8:7: unknown field `selector`, expected one of"),
            "{error}"
        );
    }

    const GRADED: &str = "break: []\ngrade: [svid: { workload: workload-1 }]\n";

    #[test]
    fn a_missing_top_level_key_is_reported_at_the_start_not_at_the_last_key() {
        let text = format!(
            "summary: s\nbroken: {{ within: 10s, checks: [] }}\nsolve: []\n{GRADED}\
             wrong_fixes:\n  - name: f\n    steps: []\n    fails: [svid]\n"
        );
        assert_eq!(
            error_of(&text),
            "s.yaml:1:1: the scenario has no `name:`; add it as a top-level key"
        );
        let nested = format!("{HEAD}{GRADED}wrong_fixes:\n  - steps: []\n    fails: [svid]\n");
        assert_eq!(error_of(&nested), "s.yaml:9:5: missing field `name`");
    }

    #[test]
    fn a_key_given_twice_and_a_second_document_are_named_in_scenario_terms() {
        let twice = format!(
            "name: n\nsummary: s\nbroken: {{ within: 10s, within: 20s, checks: [] }}\n\
             solve: []\n{GRADED}"
        );
        assert_eq!(error_of(&twice), "s.yaml:3:24: `within` is given twice");
        assert_eq!(
            error_of(&format!("{HEAD}{GRADED}---\nname: x\n")),
            "s.yaml:7:1: a scenario file holds one YAML document; remove the `---` separator"
        );
    }

    #[test]
    fn numbers_and_booleans_that_are_not_say_what_to_write() {
        for points in ["-1", "many"] {
            let text = format!(
                "{HEAD}break: []\ngrade: [svid: {{ workload: workload-1, points: {points} }}]\n"
            );
            assert_eq!(
                error_of(&text),
                "s.yaml:6:47: expected a whole number of points, 0 or more"
            );
        }
        let lab = "lab:\n  workloads: [{ name: w, agent: agent-1, uid: -1 }]\n";
        assert_eq!(
            error_of(&format!("{HEAD}{lab}{GRADED}")),
            "s.yaml:6:47: expected a whole number from 0 to 4294967295"
        );
        let lab = "lab:\n  clock_supervisor: maybe\n";
        assert_eq!(
            error_of(&format!("{HEAD}{lab}{GRADED}")),
            "s.yaml:6:21: expected true or false"
        );
    }

    #[test]
    fn an_unparsable_duration_is_reported_at_its_value_with_examples() {
        let expected = |at: &str, got: &str| {
            format!("s.yaml:{at}: expected a duration such as 90s, 5m or 1h30m, got \"{got}\"")
        };
        for written in ["ninety", "-5s", "90"] {
            let flow = format!(
                "name: n\nsummary: s\nbroken: {{ within: {written}, checks: [] }}\n\
                 solve: []\n{GRADED}"
            );
            assert_eq!(error_of(&flow), expected("3:19", written));
        }
        let block = format!("{HEAD}lab:\n  svid_ttl: \"90\"\n{GRADED}");
        assert_eq!(error_of(&block), expected("6:14", "90"));
        let step = format!("{HEAD}break:\n  - wait: 90\ngrade: []\n");
        assert_eq!(error_of(&step), expected("6:11", "90"));
        let example = format!("{HEAD}break:\n  - wait: 1h30m\ngrade: []\n");
        assert!(error_of(&example).starts_with("s.yaml:6:11: wait is 1h30m, longer than"));
    }

    #[test]
    fn unknown_workload_is_reported_at_its_position() {
        let text = format!("{HEAD}break: []\ngrade:\n  - svid: {{ workload: workload-3 }}\n");
        assert_eq!(
            error_of(&text),
            "s.yaml:7:23: unknown workload \"workload-3\"; the lab has workload-1, workload-2"
        );
    }

    #[test]
    fn entry_ids_and_selectors_are_checked_where_they_are_written() {
        let with_step = |step: &str| {
            format!("{HEAD}break:\n  - {step}\ngrade: [svid: {{ workload: workload-1 }}]\n")
        };
        let bad_id = with_step("entry_create: { spiffe_id: http://x/y, selectors: [unix:uid:1] }");
        assert_eq!(
            error_of(&bad_id),
            "s.yaml:6:32: \"http://x/y\" is not a SPIFFE ID; write spiffe://<trust domain>/<path>"
        );
        let bad_selector =
            with_step("entry_update: { workload: workload-1, selectors: [garbage] }");
        assert!(
            error_of(&bad_selector).contains("selector \"garbage\" must be type:value"),
            "{}",
            error_of(&bad_selector)
        );
        let none = with_step("entry_create: { spiffe_id: spiffe://lab.test/x, selectors: [] }");
        assert!(
            error_of(&none).contains("at least one selector"),
            "{}",
            error_of(&none)
        );
    }

    fn with_step(step: &str) -> String {
        format!("{HEAD}break:\n  - {step}\ngrade: [svid: {{ workload: workload-1 }}]\n")
    }

    #[test]
    fn entry_steps_name_an_agents_node_alias_with_alias() {
        let update = "entry_update: { alias: agent-1, selectors: [x509pop:subject:cn:agnet-1] }";
        let loaded = load("s.yaml", &with_step(update)).unwrap();
        let Step::EntryUpdate(step) = &loaded.scenario.break_steps[0] else {
            panic!("{:?}", loaded.scenario.break_steps)
        };
        assert!(matches!(&step.target, EntryTarget::Alias(a) if a.value == "agent-1"));
        assert!(load("s.yaml", &with_step("entry_restore: { alias: agent-2 }")).is_ok());
        assert_eq!(
            error_of(&with_step("entry_restore: { alias: agent-3 }")),
            "s.yaml:6:29: unknown agent \"agent-3\"; the lab's agents are agent-1, agent-2"
        );
        assert_eq!(
            error_of(&with_step(
                "entry_delete: { workload: workload-1, alias: agent-1 }"
            )),
            "s.yaml:6:19: give `workload` or `alias`, not both: a step acts on one entry"
        );
        let neither = error_of(&with_step("entry_update: { selectors: [unix:uid:1] }"));
        assert!(
            neither.starts_with("s.yaml:6:19: name the entry: `workload: <workload>`, or"),
            "{neither}"
        );
    }

    #[test]
    fn agent_values_of_entry_steps_name_known_agents() {
        let both = "entry_update: { workload: workload-1, parent_id: spiffe://lab.test/x, \
                    parent_agent: agent-1 }";
        assert_eq!(
            error_of(&with_step(both)),
            "s.yaml:6:89: give `parent_id` or `parent_agent`, not both"
        );
        let unknown = "entry_create: { spiffe_id: spiffe://lab.test/x, parent_agent: agent-9, \
                       selectors: [unix:uid:1] }";
        assert!(
            error_of(&with_step(unknown)).contains("unknown agent \"agent-9\""),
            "{}",
            error_of(&with_step(unknown))
        );
        let widened = "entry_update: { alias: agent-1, agent_selectors: { agent: agent-7, \
                       prefix: \"x509pop:ca:fingerprint:\" } }";
        assert!(
            error_of(&with_step(widened)).starts_with("s.yaml:6:63: unknown agent \"agent-7\""),
            "{}",
            error_of(&with_step(widened))
        );
        let from_agent = "entry_create: { spiffe_id: spiffe://lab.test/node/agent-1, \
                          agent_selectors: { agent: agent-1 } }";
        assert!(load("s.yaml", &with_step(from_agent)).is_ok());
    }

    #[test]
    fn clock_offsets_apply_to_agents_only() {
        let text = format!(
            "{HEAD}break:\n  - clock: {{ component: server, offset: +1m }}\n\
             grade: [svid: {{ workload: workload-1 }}]\n"
        );
        assert!(
            error_of(&text).contains("unknown agent \"server\""),
            "{}",
            error_of(&text)
        );
    }

    #[test]
    fn join_token_steps_need_a_join_token_agent() {
        let step =
            "break:\n  - join_token: { agent: agent-2 }\ngrade: [svid: { workload: workload-1 }]\n";
        let x509pop = format!("{HEAD}{step}");
        assert_eq!(
            error_of(&x509pop),
            "s.yaml:6:26: join_token needs an agent the lab attests with join tokens; give \
             agent-2 `node_attestor: join_token` under `lab: agents:`"
        );
        let lab = "lab:\n  agents:\n    - { name: agent-1 }\n    \
                   - { name: agent-2, node_attestor: join_token }\n";
        assert!(load("s.yaml", &format!("{HEAD}{lab}{step}")).is_ok());

        let typo = format!("{HEAD}lab:\n  agents: [{{ name: a, node_attestor: joint }}]\n");
        assert!(
            error_of(&typo).starts_with("s.yaml:6:"),
            "{}",
            error_of(&typo)
        );
    }

    #[test]
    fn file_steps_take_absolute_paths_without_climbing() {
        let write = |path: &str| {
            format!(
                "{HEAD}break:\n  - write_file: {{ component: server, path: \"{path}\" }}\n\
                 grade: [svid: {{ workload: workload-1 }}]\n"
            )
        };
        assert!(load("s.yaml", &write("/var/backups/x")).is_ok());
        for bad in ["relative/x", "/var/../etc/passwd", "/var/backups/"] {
            let error = error_of(&write(bad));
            assert!(
                error.starts_with("s.yaml:6:44: ") && error.contains("must be an absolute path"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn a_join_token_agents_alias_is_not_restored_but_joined_again() {
        let lab = "lab:\n  agents:\n    - { name: agent-1, node_attestor: join_token }\n    \
                   - { name: agent-2 }\n";
        let restore = |agent: &str| {
            format!(
                "{HEAD}{lab}break:\n  - entry_restore: {{ alias: {agent} }}\n\
                 grade: [svid: {{ workload: workload-1 }}]\n"
            )
        };
        assert!(load("s.yaml", &restore("agent-2")).is_ok());
        assert_eq!(
            error_of(&restore("agent-1")),
            "s.yaml:10:29: agent-1's node alias entry comes with its join token; use \
             `join_token: { agent: agent-1 }` to make a new one"
        );
    }

    #[test]
    fn only_a_components_own_volumes_can_be_emptied() {
        let recreate = |component: &str, path: &str| {
            format!(
                "{HEAD}break:\n  - recreate: {{ component: {component}, empty_mounts: [{path}] }}\n\
                 grade: [svid: {{ workload: workload-1 }}]\n"
            )
        };
        assert!(load("s.yaml", &recreate("agent-1", "/var/lib/spire/agent")).is_ok());
        assert_eq!(
            error_of(&recreate("agent-1", "/tmp")),
            "s.yaml:6:52: empty_mounts: \"/tmp\" is not one of agent-1's own volumes \
             (/var/lib/spire/agent, /run/spire/sockets)"
        );
        assert!(
            error_of(&recreate("workload-1", "/run/spire/sockets"))
                .ends_with("workload-1 has no volumes of its own to empty"),
            "{}",
            error_of(&recreate("workload-1", "/run/spire/sockets"))
        );
    }

    #[test]
    fn a_mount_both_emptied_and_left_out_is_rejected_at_empty_mounts() {
        let text = format!(
            "{HEAD}break:\n  - recreate:\n      component: agent-1\n      \
             without_mounts: [/run/spire/sockets]\n      \
             empty_mounts: [/var/lib/spire/agent, /run/spire/sockets]\n\
             grade: [svid: {{ workload: workload-1 }}]\n"
        );
        assert_eq!(
            error_of(&text),
            "s.yaml:9:44: empty_mounts: \"/run/spire/sockets\" is also in without_mounts, \
             which leaves the volume out instead of emptying it; list the path in one of the two"
        );
    }

    #[test]
    fn bad_offset_and_unknown_alert_are_rejected() {
        let text = format!(
            "{HEAD}break:\n  - clock: {{ component: agent-1, offset: soon }}\n\
             grade: [svid: {{ workload: workload-1 }}]\n"
        );
        assert!(
            error_of(&text).contains("clock offset \"soon\""),
            "{}",
            error_of(&text)
        );
        let text =
            format!("{HEAD}break: []\ngrade:\n  - alert_firing: {{ alert: SvidRotationsTotal }}\n");
        assert!(
            error_of(&text).contains("unknown alert \"SvidRotationsTotal\""),
            "{}",
            error_of(&text)
        );
    }

    #[test]
    fn lab_section_errors_point_at_the_offending_value() {
        let text = format!(
            "{HEAD}lab:\n  svid_ttl: 60s\n  ca_ttl: 5m\nbreak: []\n\
             grade: [svid: {{ workload: workload-1 }}]\n"
        );
        let error = error_of(&text);
        assert!(
            error.starts_with("s.yaml:7:11: lab: ca_ttl (5m) must be at least six times"),
            "{error}"
        );
        let unwritten_ca = format!("{HEAD}lab:\n  svid_ttl: 20m\nbreak: []\ngrade: []\n");
        assert!(
            error_of(&unwritten_ca).starts_with("s.yaml:6:13: lab: ca_ttl (1h) must be"),
            "{}",
            error_of(&unwritten_ca)
        );
    }

    /// A lab whose agents and workloads are given, followed by a hint that names the
    /// server and both agents: lab errors are found in the lab section alone.
    fn lab_scenario(agents: &str, workloads: &str) -> String {
        format!(
            "{HEAD}lab:\n  agents:\n{agents}  workloads:\n{workloads}hints:\n  \
             - \"name: server, agent: agent-1, name: agent-1\"\nbreak: []\n\
             grade: [svid: {{ workload: w }}]\n"
        )
    }

    #[test]
    fn a_reserved_lab_name_is_reported_at_its_name_value() {
        let agents = "    - { name: agent-1 }\n    - name: server\n";
        let workloads = "    - { name: w, agent: agent-1, uid: 1 }\n";
        assert_eq!(
            error_of(&lab_scenario(agents, workloads)),
            "s.yaml:8:13: lab: component name \"server\" is reserved for the lab's own \
             component; choose another name"
        );
        let workloads = "    - { name: grafana, agent: agent-1, uid: 1 }\n";
        assert!(
            error_of(&lab_scenario("    - name: agent-1\n", workloads)).starts_with(
                "s.yaml:9:15: lab: component name \"grafana\" is reserved for the lab's own"
            ),
            "{}",
            error_of(&lab_scenario("    - name: agent-1\n", workloads))
        );
    }

    #[test]
    fn a_duplicate_lab_name_is_reported_at_its_second_name_value() {
        let agents = "    - { name: agent-1 }\n    - { name: agent-2 }\n";
        let workloads = "    - { name: w, agent: agent-1, uid: 1 }\n    \
                         - { \"name\": \"agent-1\", agent: agent-2, uid: 2 }\n";
        assert_eq!(
            error_of(&lab_scenario(agents, workloads)),
            "s.yaml:11:17: lab: component name \"agent-1\" is used twice"
        );
    }

    #[test]
    fn a_workloads_unknown_agent_is_reported_at_its_agent_value() {
        let workloads = "    - { name: w, agent: agent-9, uid: 1 }\n";
        let error = error_of(&lab_scenario("    - name: agent-1\n", workloads));
        assert!(
            error.starts_with("s.yaml:9:25: lab: workload w uses agent agent-9"),
            "{error}"
        );
    }

    fn alert_grade(labels: &str) -> String {
        format!(
            "{HEAD}break: []\ngrade:\n  - alert_firing:\n      \
             alert: SpireWorkloadNoIdentity\n      labels: {labels}\n"
        )
    }

    #[test]
    fn alert_label_matchers_are_read_in_order() {
        let loaded = load(
            "s.yaml",
            &alert_grade("{ component: agent-1, job: spire-agent }"),
        );
        let grade = &loaded.unwrap().scenario.grade;
        let Check::AlertFiring(check) = &grade[0] else {
            panic!("{grade:?}")
        };
        assert_eq!(
            check.labels.selector(),
            "{component=\"agent-1\", job=\"spire-agent\"}"
        );
        assert_eq!(
            grade[0].subject_text(),
            "SpireWorkloadNoIdentity{component=\"agent-1\", job=\"spire-agent\"}"
        );
    }

    #[test]
    fn bad_alert_label_matchers_are_reported_at_their_position() {
        assert_eq!(
            error_of(&alert_grade("{ 1component: agent-1 }")),
            "s.yaml:9:17: label name \"1component\" is not a Prometheus label name (letters, \
             digits and '_', not starting with a digit or \"__\")"
        );
        assert_eq!(
            error_of(&alert_grade("{ alertname: X }")),
            "s.yaml:9:17: give the alert's name as `alert:`, not as a label"
        );
        assert_eq!(
            error_of(&alert_grade("{ component: \"\" }")),
            "s.yaml:9:28: label \"component\" needs a value; leave it out to accept any value"
        );
        let error = error_of(&alert_grade("[component, agent-1]"));
        assert!(
            error.starts_with("s.yaml:9:15: ") && error.contains("mapping"),
            "{error}"
        );
    }

    /// A directory of its own under the system's temporary directory.
    fn scratch_dir(test: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("spirelab-{test}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("monitoring")).unwrap();
        dir
    }

    const MY_RULES: &str = "groups:\n  - name: g\n    rules:\n      - alert: MyAlert\n        \
                            expr: vector(1)\n";

    fn rules_scenario(file: &str) -> String {
        format!(
            "{HEAD}break: []\nwrong_fixes:\n  - name: f\n    steps:\n      \
             - rules: {{ file: {file} }}\n    fails: [alert_firing]\n\
             grade:\n  - alert_firing: {{ alert: MyAlert, hint: h }}\n"
        )
    }

    #[test]
    fn a_rules_step_reads_its_file_next_to_the_scenario_and_defines_its_alerts() {
        let dir = scratch_dir("rules-ok");
        std::fs::write(dir.join("monitoring/my.yml"), MY_RULES).unwrap();
        let origin = dir.join("s.yaml").display().to_string();
        let loaded = load(&origin, &rules_scenario("monitoring/my.yml")).unwrap();
        let Step::Rules(step) = &loaded.scenario.wrong_fixes[0].steps[0] else {
            panic!("not a rules step")
        };
        let source = step.source.as_ref().unwrap();
        assert_eq!(
            source.origin,
            dir.join("monitoring/my.yml").display().to_string()
        );
        assert_eq!(source.text, MY_RULES);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_rules_step_with_a_missing_absolute_or_bad_file_is_reported_at_the_file() {
        let dir = scratch_dir("rules-bad");
        std::fs::write(dir.join("monitoring/bad.yml"), "alert: MyAlert\n").unwrap();
        let origin = dir.join("s.yaml").display().to_string();
        let error_for = |file: &str| {
            let error = load(&origin, &rules_scenario(file)).unwrap_err();
            crate::probe::watch::error_chain(&error).replace(&origin, "s.yaml")
        };
        let missing = error_for("monitoring/none.yml");
        assert!(
            missing.starts_with(
                "s.yaml:9:24: rules file \"monitoring/none.yml\" cannot be used: \
                                 failed to read rules file"
            ),
            "{missing}"
        );
        assert!(
            error_for("/etc/x.yml")
                .ends_with("a rules file is named relative to the scenario file"),
            "{}",
            error_for("/etc/x.yml")
        );
        let bad = error_for("monitoring/bad.yml");
        assert!(
            bad.contains("bad.yml is not a Prometheus rules file"),
            "{bad}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_alert_no_rules_file_defines_is_unknown() {
        let text = format!("{HEAD}break: []\ngrade:\n  - rule_loaded: {{ alert: MyAlert }}\n");
        let error = error_of(&text);
        assert!(
            error.starts_with("s.yaml:7:27: unknown alert \"MyAlert\"; monitoring/prometheus"),
            "{error}"
        );
    }

    #[test]
    fn every_builtin_scenario_loads() {
        for (name, _) in builtin::BUILTIN {
            let loaded = resolve(name).unwrap();
            assert_eq!(&loaded.scenario.name, name);
        }
    }
}
