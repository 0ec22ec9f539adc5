//! Whether a scenario's grade can do its job, judged from the file alone: it has checks
//! worth points, and every wrong fix names checks the grade can fail. `spirelab run` finds
//! these mistakes too, but only after starting a lab; here they are reported at their line
//! and column. This module relates checks to each other; names and durations are checked
//! before it runs (load.rs, bounds.rs).

use super::load::{Flaw, key_position, position};
use super::model::{Check, Scenario};

/// Checks how `scenario`'s checks relate; `text` is its YAML, for the positions of keys.
pub(super) fn check(scenario: &Scenario, text: &str) -> Result<(), Flaw> {
    grade_has_checks(&scenario.grade, text)?;
    wrong_fixes_can_be_caught(scenario)
}

/// The grade has a check.
fn grade_has_checks(grade: &[Check], text: &str) -> Result<(), Flaw> {
    if grade.is_empty() {
        return Err(Flaw {
            at: key_position(text, "grade"),
            message: "grade: a scenario needs at least one graded check, such as \
                      `- svid: { workload: workload-1, points: 1 }`"
                .into(),
        });
    }
    Ok(())
}

/// Every kind a wrong fix expects to fail is graded: `spirelab run --wrong-fixes` demands
/// that each named kind fail.
fn wrong_fixes_can_be_caught(scenario: &Scenario) -> Result<(), Flaw> {
    for fix in &scenario.wrong_fixes {
        for kind in &fix.fails {
            if let Some(message) = uncatchable(&scenario.grade, &fix.name, &kind.value) {
                return Err(Flaw {
                    at: position(kind),
                    message,
                });
            }
        }
    }
    Ok(())
}

/// Why wrong fix `fix` cannot be caught failing a check of `kind`, if it cannot.
fn uncatchable(grade: &[Check], fix: &str, kind: &str) -> Option<String> {
    if grade.iter().any(|c| c.kind() == kind) {
        return None;
    }
    let mut kinds: Vec<&str> = grade.iter().map(Check::kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let graded = kinds.join(", ");
    Some(format!(
        "wrong fix {fix:?} expects check {kind:?} to fail, but the grade has only {graded}; \
         name one of those"
    ))
}

#[cfg(test)]
mod tests {
    use crate::scenario::load;

    fn error_of(text: &str) -> String {
        load("s.yaml", text).unwrap_err().to_string()
    }

    /// A scenario with the given broken checks, break steps and the rest (grade and
    /// wrong fixes): the broken checks start on line 7, the steps follow them.
    fn scenario(broken: &str, steps: &str, rest: &str) -> String {
        format!(
            "name: n\nsummary: s\nsolve: []\nbroken:\n  within: 60s\n  checks:\n{broken}\
             break:\n{steps}{rest}"
        )
    }

    const FETCH_FAILS: &str =
        "    - fetch_fails: { workload: workload-1, contains: no identity issued }\n";
    const SVID: &str = "grade:\n  - svid: { workload: workload-1, hint: h }\n";

    #[test]
    fn an_empty_grade_is_reported_at_the_grade_key() {
        let text = scenario(FETCH_FAILS, "  []\n", "grade: []\n");
        assert_eq!(
            error_of(&text),
            "s.yaml:10:1: grade: a scenario needs at least one graded check, such as \
             `- svid: { workload: workload-1, points: 1 }`"
        );
    }

    #[test]
    fn a_quoted_grade_key_is_found_too() {
        let text = scenario(FETCH_FAILS, "  []\n", "\"grade\" : []\n");
        assert!(
            error_of(&text).starts_with("s.yaml:10:1: grade: "),
            "{}",
            error_of(&text)
        );
    }

    #[test]
    fn a_wrong_fix_naming_an_ungraded_kind_is_reported_at_the_kind() {
        let rest = format!(
            "{SVID}wrong_fixes:\n  - name: f\n    steps: []\n    fails: [svid, rotation]\n"
        );
        assert_eq!(
            error_of(&scenario(FETCH_FAILS, "  []\n", &rest)),
            "s.yaml:15:19: wrong fix \"f\" expects check \"rotation\" to fail, but the grade has \
             only svid; name one of those"
        );
    }
}
