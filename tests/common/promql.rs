//! Metric names in PromQL expressions, found with a small lexer rather than a regex over the
//! whole text, so that recording-rule names such as `instance:spire_agent_x:sum` are not
//! mistaken for the SPIRE names inside them.

use std::collections::BTreeSet;

/// The SPIRE, probe and `up` metric names an expression reads.
///
/// Identifiers outside string literals count when they are `up` or match
/// `spire_[a-z0-9_]+` / `spirelab_probe_[a-z0-9_]+` as a whole (identifiers may contain `:`,
/// so a recording-rule name stays one identifier and never matches). Inside string
/// literals, only the SPIRE and probe patterns count, so that `{__name__=~"a|b"}` yields
/// both names while label values such as `job="spire-agent"` yield nothing.
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut chars = expr.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            '"' | '\'' | '`' => {
                let literal = take_string(&mut chars, c);
                names.extend(names_in_string(&literal));
            }
            '#' => while chars.next_if(|&(_, c)| c != '\n').is_some() {},
            c if is_ident_start(c) => {
                let mut end = start + c.len_utf8();
                while let Some((i, c)) = chars.next_if(|&(_, c)| is_ident(c)) {
                    end = i + c.len_utf8();
                }
                let ident = &expr[start..end];
                if ident == "up" || is_lab_metric(ident) {
                    names.insert(ident.to_string());
                }
            }
            c if c.is_ascii_digit() => {
                // Numbers and durations (`5m`, `1e3`): skip their letters with them.
                while chars.next_if(|&(_, c)| c.is_ascii_alphanumeric()).is_some() {}
            }
            _ => {}
        }
    }
    names
}

/// True for a whole SPIRE or probe metric name.
pub fn is_lab_metric(name: &str) -> bool {
    let tail = name
        .strip_prefix("spirelab_probe_")
        .or_else(|| name.strip_prefix("spire_"));
    tail.is_some_and(|t| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    })
}

fn take_string(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, quote: char) -> String {
    let mut literal = String::new();
    while let Some((_, c)) = chars.next() {
        match c {
            '\\' if quote != '`' => {
                if let Some((_, escaped)) = chars.next() {
                    literal.push(escaped);
                }
            }
            c if c == quote => break,
            c => literal.push(c),
        }
    }
    literal
}

fn names_in_string(literal: &str) -> impl Iterator<Item = String> + '_ {
    literal
        .split(|c: char| !is_ident(c))
        .filter(|part| is_lab_metric(part))
        .map(str::to_string)
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(expr: &str) -> Vec<String> {
        metric_names(expr).into_iter().collect()
    }

    #[test]
    fn names_in_selectors_and_functions_are_found() {
        let expr = concat!(
            r#"sum by (component, status) (increase(spire_agent_node_attest{status!="OK"}[5m]))"#,
            "\n            / on (job) spirelab_probe_up"
        );
        assert_eq!(
            names(expr),
            ["spire_agent_node_attest", "spirelab_probe_up"]
        );
    }

    #[test]
    fn name_regex_inside_a_string_yields_each_name() {
        let expr =
            r#"{__name__=~"spire_agent_agent_svid_rotate|spire_agent_node_attest", status="OK"}"#;
        assert_eq!(
            names(expr),
            ["spire_agent_agent_svid_rotate", "spire_agent_node_attest"]
        );
    }

    #[test]
    fn recording_rule_names_and_label_values_are_not_metrics() {
        let expr = r#"instance:spire_agent_svid_renewals:sum > 0 and on (job)
            count(spire_agent_started{job="spire-agent", component="spirelab_probe"})"#;
        assert_eq!(names(expr), ["spire_agent_started"]);
    }

    #[test]
    fn up_counts_outside_strings_only() {
        assert_eq!(names(r#"up{job=~"spire-server|up"} == 0"#), ["up"]);
        assert!(names(r#"ALERTS{alertstate="up"}"#).is_empty());
        assert!(names("sum by (upstream) (x)").is_empty());
    }

    #[test]
    fn durations_and_comments_are_skipped() {
        let expr = "max_over_time(x[30m:1m]) # spire_in_a_comment\n+ spire_server_up";
        assert_eq!(names(expr), ["spire_server_up"]);
    }
}
