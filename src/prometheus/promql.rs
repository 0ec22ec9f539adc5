//! The metric names a PromQL expression reads, found with a small lexer, so a check can say
//! which names of a learner's rule Prometheus has never stored.
//!
//! It is not a PromQL parser: it skips string literals, label matchers (`{...}`), ranges
//! (`[5m]`), numbers, comments, keywords, the label lists of `by`, `without`, `on`,
//! `ignoring` and `group_left`/`group_right`, and identifiers followed by `(` (functions).
//! What is left are the metric names. A name given only as `{__name__="x"}` is not found.

use std::collections::BTreeSet;
use std::iter::Peekable;
use std::str::CharIndices;

/// Words that are operators or modifiers, never metric names.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "atan2",
];

/// Keywords followed by a parenthesised list of label names.
const LABEL_LISTS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

type Chars<'a> = Peekable<CharIndices<'a>>;

/// The metric names `expr` reads, sorted, without repeats.
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut chars = expr.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            '"' | '\'' | '`' => skip_string(&mut chars, c),
            '{' => skip_until(&mut chars, '}'),
            '[' => skip_until(&mut chars, ']'),
            '#' => while chars.next_if(|&(_, c)| c != '\n').is_some() {},
            c if c.is_ascii_digit() => {
                while chars.next_if(|&(_, c)| c.is_ascii_alphanumeric()).is_some() {}
            }
            c if is_ident_start(c) => {
                let ident = take_ident(expr, start, &mut chars);
                let word = ident.to_ascii_lowercase();
                skip_spaces(&mut chars);
                let before_paren = chars.peek().is_some_and(|&(_, c)| c == '(');
                if LABEL_LISTS.contains(&word.as_str()) {
                    if before_paren {
                        skip_until(&mut chars, ')');
                    }
                } else if !before_paren && !KEYWORDS.contains(&word.as_str()) {
                    names.insert(ident.to_string());
                }
            }
            _ => {}
        }
    }
    names
}

fn take_ident<'a>(expr: &'a str, start: usize, chars: &mut Chars<'_>) -> &'a str {
    let mut end = start + 1;
    while let Some((i, c)) = chars.next_if(|&(_, c)| is_ident(c)) {
        end = i + c.len_utf8();
    }
    &expr[start..end]
}

fn skip_spaces(chars: &mut Chars<'_>) {
    while chars.next_if(|&(_, c)| c.is_whitespace()).is_some() {}
}

/// Skips to just after `close`, stepping over string literals on the way.
fn skip_until(chars: &mut Chars<'_>, close: char) {
    while let Some((_, c)) = chars.next() {
        match c {
            '"' | '\'' | '`' => skip_string(chars, c),
            c if c == close => return,
            _ => {}
        }
    }
}

fn skip_string(chars: &mut Chars<'_>, quote: char) {
    while let Some((_, c)) = chars.next() {
        match c {
            '\\' if quote != '`' => {
                chars.next();
            }
            c if c == quote => return,
            _ => {}
        }
    }
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
    fn functions_aggregations_and_label_lists_are_not_names() {
        let expr = r#"sum by (job, instance, component) (
            increase(spire_agent_rpc_workload_api_fetch_x509svid{status="PermissionDenied"}[5m]) > 0
            or (x unless x offset 5m) > 1) > 0"#;
        assert_eq!(
            names(expr),
            ["spire_agent_rpc_workload_api_fetch_x509svid", "x"]
        );
    }

    #[test]
    fn label_values_matchers_and_comments_are_skipped() {
        let expr = "up{job=\"spire-agent\", x=~\"a}b\"} == 0 # not_a_name\n\
                    and on (component) group_left (host) spirelab_probe_up";
        assert_eq!(names(expr), ["spirelab_probe_up", "up"]);
    }

    #[test]
    fn recording_rule_names_and_invented_names_are_kept_whole() {
        let expr =
            "instance:spire_agent_svid_renewals:sum - spire_agent_workload_api_denied_total * 2e3";
        assert_eq!(
            names(expr),
            [
                "instance:spire_agent_svid_renewals:sum",
                "spire_agent_workload_api_denied_total"
            ]
        );
    }

    #[test]
    fn an_aggregation_written_with_its_clause_after_is_skipped() {
        assert_eq!(
            names("count (spire_agent_started) without (host)"),
            ["spire_agent_started"]
        );
        assert_eq!(names("max(foo) BY (job)"), ["foo"]);
    }
}
