//! A Prometheus alert is firing, or has cleared; read from the lab's Prometheus. Label
//! matchers narrow the check to some alerts, such as those of one component.
//!
//! When an alert that should fire does not, the evidence says what stands in the way: no
//! loaded rule defines it, its rule fails to evaluate, or its expression reads metric names
//! Prometheus has never stored (course material often quotes names SPIRE does not expose).

use crate::grader::{CheckError, Finding, GradeOptions};
use crate::lab::Lab;
use crate::lab::paths::PROMETHEUS_RULES_DIR;
use crate::lab::wait::{self, Poll};
use crate::prometheus::{Alert, Prometheus, promql};
use crate::scenario::model::{AlertCheck, LabelMatchers};

/// The state a check wants an alert in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Wanted {
    /// Firing.
    Firing,
    /// Neither pending nor firing.
    Clear,
}

impl Wanted {
    /// The state in words.
    pub fn word(self) -> &'static str {
        match self {
            Wanted::Firing => "firing",
            Wanted::Clear => "clear",
        }
    }

    /// True when the alerts Prometheus reports put alert `name` (narrowed by `labels`) in
    /// this state.
    pub fn holds(self, alerts: &[Alert], name: &str, labels: &LabelMatchers) -> bool {
        let mut matching = alerts
            .iter()
            .filter(|a| a.name() == name && labels.matches(&a.labels));
        match self {
            Wanted::Firing => matching.any(|a| a.state == "firing"),
            Wanted::Clear => matching.next().is_none(),
        }
    }
}

/// Judges the alert now, or waits up to the check's bound when waiting is allowed.
pub async fn check(
    lab: &Lab,
    check: &AlertCheck,
    wanted: Wanted,
    options: GradeOptions,
) -> Result<Finding, CheckError> {
    let prometheus = Prometheus::of(lab).await?;
    let mut finding = match options.wait {
        true => wait_for(&prometheus, check, wanted).await?,
        false => judge(&prometheus, check, wanted).await?,
    };
    if !finding.passed && wanted == Wanted::Firing {
        let name = &check.alert.value;
        finding
            .evidence
            .extend(why_not_firing(&prometheus, name).await);
    }
    Ok(finding)
}

async fn wait_for(
    prometheus: &Prometheus,
    check: &AlertCheck,
    wanted: Wanted,
) -> Result<Finding, CheckError> {
    let what = format!(
        "alert {}{} to be {}",
        check.alert.value,
        check.labels.selector(),
        wanted.word()
    );
    let poll = || async {
        Ok(match judge(prometheus, check, wanted).await {
            Ok(finding) if finding.passed => Poll::Ready(()),
            Ok(finding) => Poll::Pending(finding.evidence.join("; ")),
            Err(error) => Poll::Pending(error.to_string()),
        })
    };
    match wait::until(&what, check.within.value, poll).await {
        Ok(()) | Err(crate::lab::LabError::Timeout { .. }) => {
            judge(prometheus, check, wanted).await
        }
        Err(error) => Err(error.into()),
    }
}

async fn judge(
    prometheus: &Prometheus,
    check: &AlertCheck,
    wanted: Wanted,
) -> Result<Finding, CheckError> {
    let alerts = prometheus.alerts().await?;
    let name = check.alert.value.as_str();
    let labels = &check.labels;
    let mut evidence: Vec<String> = alerts
        .iter()
        .filter(|a| a.name() == name)
        .map(|a| describe(a, labels))
        .collect();
    if Wanted::Clear.holds(&alerts, name, labels) {
        evidence.push(format!(
            "{name}{} is neither pending nor firing",
            labels.selector()
        ));
    }
    Ok(Finding {
        passed: wanted.holds(&alerts, name, labels),
        evidence,
    })
}

/// `NAME state {label=value, ...}`, marked when matchers decide whether it counts.
pub fn describe(alert: &Alert, labels: &LabelMatchers) -> String {
    let shown: Vec<String> = alert
        .labels
        .iter()
        .filter(|(name, _)| name.as_str() != "alertname")
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let note = match (labels.0.is_empty(), labels.matches(&alert.labels)) {
        (true, _) => "",
        (false, true) => " (matches)",
        (false, false) => " (other labels: does not count)",
    };
    format!(
        "{} {} {{{}}}{note}",
        alert.name(),
        alert.state,
        shown.join(", ")
    )
}

/// Why alert `name` may not be firing, from the rules Prometheus has loaded.
async fn why_not_firing(prometheus: &Prometheus, name: &str) -> Vec<String> {
    let groups = match prometheus.rule_groups().await {
        Ok(groups) => groups,
        Err(error) => return vec![format!("could not read the loaded rules: {error}")],
    };
    let rules: Vec<_> = groups
        .iter()
        .flat_map(|g| g.rules.iter().map(move |r| (g, r)))
        .filter(|(_, r)| r.is_alert() && r.name == name)
        .collect();
    if rules.is_empty() {
        return vec![format!(
            "no loaded rule defines alert {name} (learner rules go in {PROMETHEUS_RULES_DIR}/ \
             and count after a reload)"
        )];
    }
    let stored = prometheus.metric_names().await.ok();
    let mut lines = Vec::new();
    for (group, rule) in rules {
        let error = rule.last_error.as_deref().filter(|e| !e.is_empty());
        lines.push(format!(
            "rule {name} (group {}, {}): health {}{}",
            group.name,
            group.file,
            rule.health,
            error.map(|e| format!(": {e}")).unwrap_or_default()
        ));
        let Some(stored) = &stored else { continue };
        let unknown: Vec<String> = promql::metric_names(&rule.query)
            .into_iter()
            .filter(|n| !stored.contains(n))
            .collect();
        if !unknown.is_empty() {
            lines.push(format!(
                "its expression reads {}, which Prometheus has never stored; the names it has: \
                 {}/api/v1/label/__name__/values",
                unknown.join(", "),
                prometheus.url()
            ));
        }
    }
    lines
}
