//! Prometheus has loaded a rule that defines an alert, and the rule's last evaluation
//! worked: a learner's rules file is in place and its expression runs.

use std::time::Duration;

use crate::grader::{CheckError, Finding, GradeOptions};
use crate::lab::Lab;
use crate::lab::paths::PROMETHEUS_RULES_DIR;
use crate::lab::wait::{self, Poll};
use crate::prometheus::{Prometheus, RuleGroup};
use crate::scenario::model::RuleCheck;

/// How long a waiting grade gives a rule loaded a moment ago to be evaluated (rules are
/// evaluated every 5 s in a lab).
const FIRST_EVALUATION: Duration = Duration::from_secs(15);

/// Looks the alert up among the loaded rules; when grading may wait, gives a rule not yet
/// evaluated the time of a few evaluations.
pub async fn check(
    lab: &Lab,
    check: &RuleCheck,
    options: GradeOptions,
) -> Result<Finding, CheckError> {
    let prometheus = Prometheus::of(lab).await?;
    let name = check.alert.value.as_str();
    if options.wait {
        let what = format!("rule {name} to be evaluated");
        let poll = || async {
            Ok(match prometheus.rule_groups().await {
                Ok(groups) if unevaluated(&groups, name) => Poll::Pending("not yet".into()),
                Ok(_) => Poll::Ready(()),
                Err(error) => Poll::Pending(error.to_string()),
            })
        };
        match wait::until(&what, FIRST_EVALUATION, poll).await {
            Ok(()) | Err(crate::lab::LabError::Timeout { .. }) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(judge(&prometheus.rule_groups().await?, name))
}

fn defining<'a>(
    groups: &'a [RuleGroup],
    name: &'a str,
) -> impl Iterator<Item = (&'a RuleGroup, &'a crate::prometheus::LoadedRule)> {
    groups
        .iter()
        .flat_map(|g| g.rules.iter().map(move |r| (g, r)))
        .filter(move |(_, r)| r.is_alert() && r.name == name)
}

fn unevaluated(groups: &[RuleGroup], name: &str) -> bool {
    defining(groups, name).any(|(_, r)| r.health == "unknown")
}

fn judge(groups: &[RuleGroup], name: &str) -> Finding {
    let found: Vec<_> = defining(groups, name).collect();
    if found.is_empty() {
        let mut files: Vec<&str> = groups.iter().map(|g| g.file.as_str()).collect();
        files.dedup();
        return Finding::fail(vec![format!(
            "no loaded rule defines alert {name}; Prometheus loaded {} (learner rules go in \
             {PROMETHEUS_RULES_DIR}/ and count after a reload)",
            files.join(", ")
        )]);
    }
    let evidence: Vec<String> = found
        .iter()
        .map(|(group, rule)| {
            let error = rule.last_error.as_deref().filter(|e| !e.is_empty());
            format!(
                "{name} in group {} of {}: health {}{}",
                group.name,
                group.file,
                rule.health,
                error.map(|e| format!(" ({e})")).unwrap_or_default()
            )
        })
        .collect();
    match found.iter().all(|(_, rule)| rule.health == "ok") {
        true => Finding::pass(evidence),
        false => Finding::fail(evidence),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prometheus::LoadedRule;

    fn group(file: &str, rule: &str, health: &str, error: Option<&str>) -> RuleGroup {
        RuleGroup {
            name: "g".into(),
            file: file.into(),
            rules: vec![LoadedRule {
                name: rule.into(),
                query: "vector(1)".into(),
                health: health.into(),
                last_error: error.map(str::to_string),
                kind: "alerting".into(),
            }],
        }
    }

    #[test]
    fn a_healthy_rule_passes_and_names_its_file() {
        let groups = [group(
            "/etc/prometheus/rules.d/my.yml",
            "MyAlert",
            "ok",
            None,
        )];
        let finding = judge(&groups, "MyAlert");
        assert!(finding.passed);
        assert_eq!(
            finding.evidence,
            ["MyAlert in group g of /etc/prometheus/rules.d/my.yml: health ok"]
        );
    }

    #[test]
    fn a_missing_or_failing_rule_fails_with_what_was_loaded() {
        let groups = [group(
            "/etc/prometheus/rules/spire.yml",
            "Other",
            "ok",
            None,
        )];
        let finding = judge(&groups, "MyAlert");
        assert!(!finding.passed);
        assert!(finding.evidence[0].contains("no loaded rule defines alert MyAlert"));
        assert!(finding.evidence[0].contains("/etc/prometheus/rules/spire.yml"));

        let groups = [group(
            "f.yml",
            "MyAlert",
            "err",
            Some("many-to-many matching"),
        )];
        let finding = judge(&groups, "MyAlert");
        assert!(!finding.passed);
        assert!(finding.evidence[0].ends_with("health err (many-to-many matching)"));
    }
}
