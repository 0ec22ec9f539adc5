//! The Prometheus rules file (monitoring/prometheus/alerts.yml): its rules and the metric
//! names their expressions read.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::promql;

/// The rules file as shipped.
pub const RULES_YAML: &str = include_str!("../../monitoring/prometheus/alerts.yml");

#[derive(Debug, Deserialize)]
struct RulesFile {
    groups: Vec<Group>,
}

#[derive(Debug, Deserialize)]
struct Group {
    rules: Vec<Rule>,
}

/// One recording or alerting rule.
#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    /// The name a recording rule records under.
    #[serde(default)]
    pub record: Option<String>,
    /// The name of an alerting rule.
    #[serde(default)]
    pub alert: Option<String>,
    /// The PromQL expression.
    pub expr: String,
}

impl Rule {
    /// The rule's name, as Prometheus's `/api/v1/rules` reports it.
    pub fn name(&self) -> &str {
        self.alert
            .as_deref()
            .or(self.record.as_deref())
            .unwrap_or("")
    }
}

/// Every rule of every group in `yaml`.
pub fn parse(yaml: &str) -> Vec<Rule> {
    let file: RulesFile = serde_saphyr::from_str(yaml).expect("the rules file must parse");
    file.groups.into_iter().flat_map(|g| g.rules).collect()
}

/// The metric names `rules` and the expressions in `others` read, without the names the
/// rules record themselves.
pub fn used_metric_names(rules: &[Rule], others: &[String]) -> BTreeSet<String> {
    let recorded: BTreeSet<&str> = rules.iter().filter_map(|r| r.record.as_deref()).collect();
    rules
        .iter()
        .map(|r| r.expr.as_str())
        .chain(others.iter().map(String::as_str))
        .flat_map(promql::metric_names)
        .filter(|name| !recorded.contains(name.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped_names() -> BTreeSet<String> {
        used_metric_names(&parse(RULES_YAML), &[])
    }

    #[test]
    fn shipped_rules_read_the_documented_names() {
        let names = shipped_names();
        for expected in [
            "spire_agent_agent_svid_rotate",
            "spire_agent_node_attest",
            "spire_agent_uptime_in_ms",
            "spire_server_rpc_agent_v1_agent_attest_agent",
            "spirelab_probe_errors_total",
            "up",
        ] {
            assert!(names.contains(expected), "{expected} not in {names:?}");
        }
        assert!(
            !names.iter().any(|n| n.contains("svid_renewal")),
            "recording-rule names leaked: {names:?}"
        );
    }

    #[test]
    fn a_name_added_to_a_copy_of_the_rules_is_found() {
        let extra = "      - alert: Fake\n        expr: spire_agent_made_up_total > 0\n";
        let copy = format!("{}\n{extra}", RULES_YAML.trim_end());
        let names = used_metric_names(&parse(&copy), &[]);
        let shipped = shipped_names();
        let added: Vec<&String> = names.difference(&shipped).collect();
        assert_eq!(added, ["spire_agent_made_up_total"]);
    }

    #[test]
    fn recorded_names_are_excluded_even_without_colons() {
        let yaml = "groups:\n  - name: g\n    rules:\n      - record: spire_agent_sum\n        \
                    expr: sum(spire_agent_started)\n      - alert: A\n        \
                    expr: spire_agent_sum > 1\n";
        let names = used_metric_names(&parse(yaml), &["up == 0".to_string()]);
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            ["spire_agent_started", "up"]
        );
    }

    #[test]
    fn rule_names_are_alert_or_record_names() {
        let rules = parse(RULES_YAML);
        assert!(rules.iter().all(|r| !r.name().is_empty()));
        assert!(
            rules
                .iter()
                .any(|r| r.name() == "SpireWorkloadSVIDRotationStalled")
        );
    }
}
