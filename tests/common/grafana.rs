//! The Grafana dashboard (monitoring/grafana/dashboards/spire.json): its panels' queries,
//! and Grafana's variables replaced so that Prometheus can run them directly.

use serde_json::Value;

/// The dashboard as shipped.
pub const DASHBOARD_JSON: &str = include_str!("../../monitoring/grafana/dashboards/spire.json");

/// Values for Grafana's built-in variables: the lab scrapes every 5 s, so a minute holds
/// enough samples for any rate.
const BUILTINS: &[(&str, &str)] = &[
    ("__rate_interval", "1m"),
    ("__interval_ms", "15000"),
    ("__interval", "15s"),
    ("__range_s", "300"),
    ("__range_ms", "300000"),
    ("__range", "5m"),
];

/// One query of one panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The panel's title.
    pub panel: String,
    /// The query's refId (`A`, `B`, ...).
    pub ref_id: String,
    /// The PromQL expression as written in the dashboard.
    pub expr: String,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "panel {:?} query {}: {}",
            self.panel, self.ref_id, self.expr
        )
    }
}

/// Parses dashboard JSON.
pub fn parse(json: &str) -> Value {
    serde_json::from_str(json).expect("the dashboard must be valid JSON")
}

/// Every query with an `expr` in every panel, rows' nested panels included.
pub fn targets(dashboard: &Value) -> Vec<Target> {
    let mut found = Vec::new();
    collect(dashboard["panels"].as_array(), &mut found);
    found
}

fn collect(panels: Option<&Vec<Value>>, found: &mut Vec<Target>) {
    for panel in panels.into_iter().flatten() {
        let title = panel["title"].as_str().unwrap_or("(untitled)");
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = target["expr"].as_str() {
                found.push(Target {
                    panel: title.to_string(),
                    ref_id: target["refId"].as_str().unwrap_or("?").to_string(),
                    expr: expr.to_string(),
                });
            }
        }
        collect(panel["panels"].as_array(), found);
    }
}

/// `expr` with Grafana's variables replaced: built-ins by fixed durations, label matchers
/// on the dashboard's template variables by `=~".*"` (every value), and any other use of
/// a template variable by its current value. Fails on a variable it cannot replace.
pub fn substitute(expr: &str, dashboard: &Value) -> Result<String, String> {
    let mut text = expr.to_string();
    for (name, value) in BUILTINS {
        text = replace_variable(&text, name, value);
    }
    for variable in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(name) = variable["name"].as_str() else {
            continue;
        };
        text = match_everything(&text, name);
        let current = &variable["current"]["value"];
        let value = current.as_str().or_else(|| current[0].as_str());
        let value = value.filter(|v| !v.starts_with('$')).unwrap_or(".*");
        text = replace_variable(&text, name, value);
    }
    match text.contains('$') {
        true => Err(format!("unreplaced Grafana variable in {text:?}")),
        false => Ok(text),
    }
}

/// Replaces `$name`, `${name}` and `[[name]]`, leaving longer names alone.
fn replace_variable(text: &str, name: &str, value: &str) -> String {
    let text = text
        .replace(&format!("${{{name}}}"), value)
        .replace(&format!("[[{name}]]"), value);
    let needle = format!("${name}");
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find(&needle) {
        let after = &rest[at + needle.len()..];
        let longer = after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
        out.push_str(&rest[..at]);
        out.push_str(if longer { &needle } else { value });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Turns `label="$name"` and `label=~"$name"` (also `${name}`) into `label=~".*"`.
fn match_everything(text: &str, name: &str) -> String {
    let mut text = text.to_string();
    for reference in [format!("${{{name}}}"), format!("${name}")] {
        for op in ["=~", "="] {
            text = text.replace(&format!("{op}\"{reference}\""), "=~\".*\"");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_of_the_shipped_dashboard_is_found() {
        let dashboard = parse(DASHBOARD_JSON);
        let targets = targets(&dashboard);
        assert!(targets.len() >= 10, "{targets:#?}");
        assert!(targets.iter().any(|t| t.panel == "Firing alerts"));
        for target in &targets {
            substitute(&target.expr, &dashboard).unwrap();
        }
    }

    #[test]
    fn builtins_are_replaced_and_longer_names_kept_apart() {
        let dashboard = parse(r#"{"panels": []}"#);
        let expr = "rate(x[$__rate_interval]) + rate(y[${__interval}]) * $__interval_ms";
        assert_eq!(
            substitute(expr, &dashboard).unwrap(),
            "rate(x[1m]) + rate(y[15s]) * 15000"
        );
    }

    #[test]
    fn template_variables_match_everything_in_label_matchers() {
        let dashboard = parse(
            r#"{"templating": {"list": [
                {"name": "agent", "current": {"value": ["agent-1"]}},
                {"name": "window", "current": {"value": "10m"}}]}}"#,
        );
        let expr = r#"increase(x{component=~"$agent", job="${agent}"}[$window])"#;
        assert_eq!(
            substitute(expr, &dashboard).unwrap(),
            r#"increase(x{component=~".*", job=~".*"}[10m])"#
        );
    }

    #[test]
    fn an_unknown_variable_is_an_error() {
        let dashboard = parse(r#"{"panels": []}"#);
        let error = substitute("x{component=~\"$node\"}", &dashboard).unwrap_err();
        assert!(error.contains("$node"), "{error}");
    }

    #[test]
    fn nested_row_panels_are_searched() {
        let dashboard = parse(
            r#"{"panels": [{"type": "row", "title": "r", "panels": [
                {"title": "inner", "targets": [{"refId": "A", "expr": "up"}]}]}]}"#,
        );
        let target = Target {
            panel: "inner".into(),
            ref_id: "A".into(),
            expr: "up".into(),
        };
        assert_eq!(targets(&dashboard), [target]);
    }
}
