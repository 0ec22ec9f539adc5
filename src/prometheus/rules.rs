//! A learner's own rules file, loaded into a lab's Prometheus the way a learner would: checked
//! with promtool inside the Prometheus container, copied into the rules directory, Prometheus
//! reloaded, and its groups confirmed loaded and evaluating without error.
//!
//! The shipped rules (monitoring/prometheus/alerts.yml) are not touched; files installed here
//! sit next to them in [`PROMETHEUS_RULES_DIR`].

use std::time::Duration;

use serde::Deserialize;

use super::{Prometheus, PrometheusError, RuleGroup};
use crate::engine::EngineError;
use crate::engine::files::FileSpec;
use crate::lab::paths::{PROMETHEUS_RULES_DIR, PROMTOOL_BIN};
use crate::lab::wait::{self, Poll};
use crate::lab::{Lab, LabError};

/// How long Prometheus may take to load and first evaluate a new group (evaluation runs
/// every 5 s in a lab).
const LOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a file is checked before it goes into the rules directory.
const STAGING_DIR: &str = "/tmp/spirelab-rules-check";

/// Failures loading a rules file.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The file could not be read.
    #[error("failed to read rules file {path}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not YAML of a rules file's shape.
    #[error("{origin} is not a Prometheus rules file")]
    Parse {
        /// The file.
        origin: String,
        /// What the YAML parser said.
        #[source]
        source: Box<serde_saphyr::Error>,
    },
    /// The file parses but cannot be a useful rules file.
    #[error("{origin} is not a usable Prometheus rules file: {problem}")]
    Shape {
        /// The file.
        origin: String,
        /// What is wrong.
        problem: String,
    },
    /// promtool rejected the file.
    #[error("{origin} failed `promtool check rules`:\n{output}")]
    Invalid {
        /// The file.
        origin: String,
        /// promtool's report, naming the file as given.
        output: String,
    },
    /// The Prometheus image has no promtool.
    #[error(
        "the lab's Prometheus image has no {PROMTOOL_BIN}; rebuild the images with \
         `spirelab images build` (or use an image that ships promtool)"
    )]
    NoPromtool,
    /// Prometheus would not reload with the file in place; the file was removed again.
    #[error("Prometheus refused to load {origin}; the file was removed again")]
    Reload {
        /// The file.
        origin: String,
        /// Prometheus's answer.
        #[source]
        source: Box<PrometheusError>,
    },
    /// The groups did not show up, or did not get evaluated, in time.
    #[error("Prometheus did not load and evaluate every group of {origin} within {waited:?}")]
    NotLoaded {
        /// The file.
        origin: String,
        /// How long it waited.
        waited: Duration,
    },
    /// A rule loaded but its evaluation fails.
    #[error("{origin} loaded, but rule {rule} fails to evaluate: {error}")]
    Unhealthy {
        /// The file.
        origin: String,
        /// The rule's name.
        rule: String,
        /// Prometheus's last evaluation error.
        error: String,
    },
    /// A Docker call failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Prometheus could not be asked.
    #[error(transparent)]
    Prometheus(#[from] PrometheusError),
}

/// A rules file to load: where it came from, for messages, and its text.
#[derive(Clone, PartialEq)]
pub struct RulesSource {
    /// The path as the learner or scenario gave it.
    pub origin: String,
    /// The file's text.
    pub text: String,
}

impl std::fmt::Debug for RulesSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RulesSource({})", self.origin)
    }
}

impl RulesSource {
    /// Reads the file at `path` (at most 1 MiB).
    pub fn read(path: &str) -> Result<Self, RulesError> {
        let text = crate::scenario::load::read_file(path).map_err(|source| RulesError::Read {
            path: path.to_string(),
            source,
        })?;
        Ok(RulesSource {
            origin: path.to_string(),
            text,
        })
    }

    /// The name it gets in the rules directory: its own, with `.yml` added unless it ends
    /// in `.yml` or `.yaml` (Prometheus loads only those).
    pub fn file_name(&self) -> String {
        let base = std::path::Path::new(&self.origin)
            .file_name()
            .map_or_else(|| "rules".into(), |n| n.to_string_lossy().into_owned());
        match base.ends_with(".yml") || base.ends_with(".yaml") {
            true => base,
            false => format!("{base}.yml"),
        }
    }

    /// Where it goes in the Prometheus container.
    pub fn installed_path(&self) -> String {
        format!("{PROMETHEUS_RULES_DIR}/{}", self.file_name())
    }
}

/// The parts of a rules file spirelab reads; promtool checks the rest.
#[derive(Debug, Clone, Deserialize)]
pub struct RuleFile {
    /// Its groups.
    pub groups: Vec<GroupSpec>,
}

/// One group of a rules file.
#[derive(Debug, Clone, Deserialize)]
pub struct GroupSpec {
    /// The group's name.
    pub name: String,
    /// Its rules.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

/// One rule of a group.
#[derive(Debug, Clone, Deserialize)]
pub struct RuleSpec {
    /// An alerting rule's name.
    #[serde(default)]
    pub alert: Option<String>,
    /// A recording rule's name.
    #[serde(default)]
    pub record: Option<String>,
}

impl RuleFile {
    /// Parses `source`, rejecting a file without groups or with an unnamed or empty group.
    pub fn parse(source: &RulesSource) -> Result<RuleFile, RulesError> {
        let file: RuleFile =
            serde_saphyr::from_str(&source.text).map_err(|error| RulesError::Parse {
                origin: source.origin.clone(),
                source: Box::new(error),
            })?;
        let shape = |problem: &str| RulesError::Shape {
            origin: source.origin.clone(),
            problem: problem.to_string(),
        };
        if file.groups.is_empty() {
            return Err(shape("it has no groups"));
        }
        if file.groups.iter().any(|g| g.name.trim().is_empty()) {
            return Err(shape("every group needs a name"));
        }
        if let Some(group) = file.groups.iter().find(|g| g.rules.is_empty()) {
            return Err(shape(&format!("group {:?} has no rules", group.name)));
        }
        Ok(file)
    }

    /// The names of its alerting rules.
    pub fn alert_names(&self) -> Vec<String> {
        let rules = self.groups.iter().flat_map(|g| &g.rules);
        rules.filter_map(|r| r.alert.clone()).collect()
    }
}

/// What [`install`] loaded.
#[derive(Debug, Clone)]
pub struct Installed {
    /// The file's path in the Prometheus container.
    pub path: String,
    /// Each group as Prometheus reports it, every rule healthy.
    pub groups: Vec<RuleGroup>,
}

impl Installed {
    /// One line for the learner.
    pub fn summary(&self) -> String {
        let groups: Vec<String> = self
            .groups
            .iter()
            .map(|g| {
                let s = if g.rules.len() == 1 { "" } else { "s" };
                format!("group {} ({} rule{s}, health ok)", g.name, g.rules.len())
            })
            .collect();
        format!("{}: {}", self.path, groups.join(", "))
    }
}

/// Checks `source` with promtool in the lab's Prometheus, installs it in the rules
/// directory, reloads Prometheus and waits until every group of it evaluates cleanly.
pub async fn install(lab: &Lab, source: &RulesSource) -> Result<Installed, RulesError> {
    let file = RuleFile::parse(source)?;
    let container = lab.container("prometheus");
    check_with_promtool(lab, &container, source).await?;

    let path = source.installed_path();
    let installed = FileSpec::public(&path, source.text.as_bytes());
    lab.engine.upload_files(&container, &[installed]).await?;
    let prometheus = Prometheus::of(lab).await?;
    if let Err(error) = prometheus.reload().await {
        remove(lab, &container, &path).await;
        return Err(RulesError::Reload {
            origin: source.origin.clone(),
            source: Box::new(error),
        });
    }

    let groups = wait_until_evaluated(&prometheus, source, &file, &path).await?;
    let broken = groups
        .iter()
        .flat_map(|g| &g.rules)
        .find(|r| r.health != "ok");
    if let Some(rule) = broken {
        return Err(RulesError::Unhealthy {
            origin: source.origin.clone(),
            rule: rule.name.clone(),
            error: rule
                .last_error
                .clone()
                .unwrap_or_else(|| rule.health.clone()),
        });
    }
    tracing::info!(lab = %lab.name, file = %path, "rules loaded");
    Ok(Installed { path, groups })
}

async fn check_with_promtool(
    lab: &Lab,
    container: &str,
    source: &RulesSource,
) -> Result<(), RulesError> {
    let staged = format!("{STAGING_DIR}/{}", source.file_name());
    let file = FileSpec::public(&staged, source.text.as_bytes());
    lab.engine.upload_files(container, &[file]).await?;
    let command = [PROMTOOL_BIN, "check", "rules", staged.as_str()];
    let output = lab.engine.exec(container, &command, None).await?;
    remove(lab, container, &staged).await;
    match output.exit_code {
        Some(0) => Ok(()),
        // The runtime's codes for a command that cannot be found or run.
        Some(126 | 127) => Err(RulesError::NoPromtool),
        _ => Err(RulesError::Invalid {
            origin: source.origin.clone(),
            output: promtool_report(&output.combined(), &staged, &source.origin),
        }),
    }
}

/// promtool's output without blank lines, naming the file as the learner gave it.
fn promtool_report(output: &str, staged: &str, origin: &str) -> String {
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    lines.join("\n").replace(staged, origin)
}

async fn remove(lab: &Lab, container: &str, path: &str) {
    if let Err(error) = lab.engine.exec(container, &["rm", "-f", path], None).await {
        tracing::warn!(%error, file = path, "could not remove a rules file");
    }
}

/// Polls the rules API until each group of `file`, from `path`, is there and every rule of
/// it has been evaluated at least once.
async fn wait_until_evaluated(
    prometheus: &Prometheus,
    source: &RulesSource,
    file: &RuleFile,
    path: &str,
) -> Result<Vec<RuleGroup>, RulesError> {
    let wanted: Vec<&str> = file.groups.iter().map(|g| g.name.as_str()).collect();
    let what = format!("Prometheus to load and evaluate {}", source.origin);
    let poll = || async {
        let groups = match prometheus.rule_groups().await {
            Ok(groups) => groups,
            Err(error) => return Ok(Poll::Pending(error.to_string())),
        };
        let ours: Vec<RuleGroup> = groups.into_iter().filter(|g| g.file == path).collect();
        let loaded = wanted.iter().all(|w| ours.iter().any(|g| g.name == *w));
        let evaluated = ours
            .iter()
            .flat_map(|g| &g.rules)
            .all(|r| r.health != "unknown");
        Ok(match loaded && evaluated {
            true => Poll::Ready(ours),
            false => Poll::Pending(format!("{} of {} groups loaded", ours.len(), wanted.len())),
        })
    };
    match wait::until(&what, LOAD_TIMEOUT, poll).await {
        Ok(groups) => Ok(groups),
        Err(LabError::Timeout { waited, .. }) => Err(RulesError::NotLoaded {
            origin: source.origin.clone(),
            waited,
        }),
        Err(error) => Err(PrometheusError::Lab(error).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(origin: &str, text: &str) -> RulesSource {
        RulesSource {
            origin: origin.into(),
            text: text.into(),
        }
    }

    #[test]
    fn names_in_the_rules_directory_end_in_yml_or_yaml() {
        assert_eq!(source("dir/my-rules.yml", "").file_name(), "my-rules.yml");
        assert_eq!(source("a.yaml", "").file_name(), "a.yaml");
        assert_eq!(
            source("rules.txt", "").installed_path(),
            "/etc/prometheus/rules.d/rules.txt.yml"
        );
    }

    #[test]
    fn promtool_reports_name_the_file_as_given() {
        let output = "Checking /tmp/spirelab-rules-check/my.yml\n\n  FAILED:\n\
                      /tmp/spirelab-rules-check/my.yml: 5:15: group \"g\", rule 1: bad\n";
        assert_eq!(
            promtool_report(output, "/tmp/spirelab-rules-check/my.yml", "rules/my.yml"),
            "Checking rules/my.yml\n  FAILED:\nrules/my.yml: 5:15: group \"g\", rule 1: bad"
        );
    }

    #[test]
    fn alert_names_are_read_from_every_group() {
        let text = "groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up == 0\n\
                    \x20     - record: r:x:sum\n        expr: sum(x)\n  - name: b\n    rules:\n\
                    \x20     - alert: B\n        expr: vector(1)\n";
        let file = RuleFile::parse(&source("f.yml", text)).unwrap();
        assert_eq!(file.alert_names(), ["A", "B"]);
    }

    #[test]
    fn a_file_that_is_not_a_rules_file_is_rejected_naming_it() {
        let error = RuleFile::parse(&source("my.yml", "alert: A\n")).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("my.yml is not a Prometheus rules file")
        );
        let error = RuleFile::parse(&source("my.yml", "groups: []\n")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "my.yml is not a usable Prometheus rules file: it has no groups"
        );
        let error = RuleFile::parse(&source("my.yml", "groups:\n  - name: g\n")).unwrap_err();
        assert!(
            error.to_string().ends_with("group \"g\" has no rules"),
            "{error}"
        );
    }
}
