//! Whether a scenario's checks can do their job, judged from the file alone: the grade can
//! tell a fixed lab from a broken one, each list of checks can pass as a whole, and every
//! wrong fix names checks the grade can fail with a hint. `spirelab run` finds these
//! mistakes too, but only after starting a lab; here they are reported at their line and
//! column. This module relates checks to each other; names and durations are checked
//! before it runs (load.rs, bounds.rs).

use serde_saphyr::Spanned;

use super::bounds;
use super::load::{Flaw, key_position, position, written_at};
use super::model::{AlertCheck, Check, ClockCheck, Scenario, Step, Subject};
use crate::lab::clock;

/// Checks how `scenario`'s checks relate; `text` is its YAML, for the positions of keys.
pub(super) fn check(scenario: &Scenario, text: &str) -> Result<(), Flaw> {
    grade_scores(&scenario.grade, text)?;
    consistent(&scenario.broken.checks, "broken.checks")?;
    consistent(&scenario.grade, "grade")?;
    grade_can_fail_before_the_fix(scenario)?;
    clock_checks_see_the_break(scenario, text)?;
    wrong_fixes_can_be_caught(scenario)
}

/// Where a check is written: where its subject is.
fn at(check: &Check) -> (u64, u64) {
    match check.subject() {
        Subject::Workload(name)
        | Subject::Agent(name)
        | Subject::Component(name)
        | Subject::Alert(name) => position(name),
    }
}

/// A check as messages name it, such as `svid` of workload-1.
fn named(check: &Check) -> String {
    format!("`{}` of {}", check.kind(), check.subject_text())
}

/// The grade has a check, and some check is worth points.
fn grade_scores(grade: &[Check], text: &str) -> Result<(), Flaw> {
    let at = key_position(text, "grade");
    if grade.is_empty() {
        return Err(Flaw {
            at,
            message: "grade: a scenario needs at least one graded check, such as \
                      `- svid: { workload: workload-1, points: 1 }`"
                .into(),
        });
    }
    if grade.iter().all(|c| c.scoring().0 == 0) {
        return Err(Flaw {
            at,
            message: "grade: every check is worth 0 points, so any fix scores 0 of 0; give \
                      the checks a fix must pass `points: 1` or more"
                .into(),
        });
    }
    Ok(())
}

/// Some check worth points must test what the break does not confirm. A broken check
/// passes once the lab is broken, so when every scored check of the grade is also a
/// broken check, the whole grade passes before any fix. One such check next to others is
/// a guard, not a flaw: that another workload keeps its SVID, say.
fn grade_can_fail_before_the_fix(scenario: &Scenario) -> Result<(), Flaw> {
    let confirmed_by = |graded: &Check| {
        let condition = graded.condition();
        let broken = scenario.broken.checks.iter();
        broken.clone().find(|b| b.condition() == condition)
    };
    let scored = scenario.grade.iter().filter(|c| c.scoring().0 > 0);
    let pairs: Option<Vec<(&Check, &Check)>> = scored
        .map(|graded| confirmed_by(graded).map(|broken| (graded, broken)))
        .collect();
    let Some(&(graded, broken)) = pairs.as_deref().and_then(<[_]>::first) else {
        return Ok(());
    };
    let (line, column) = at(broken);
    let message = format!(
        "every graded check is also a broken check ({} is the same as the broken check at \
         line {line}, column {column}): the grade passes while the lab is still broken; \
         grade what the fix restores, such as `svid` or `rotation`",
        named(graded)
    );
    Err(Flaw {
        at: at(graded),
        message,
    })
}

/// No two checks of one list need opposite outcomes, since then the list never passes
/// as a whole: the break is never confirmed, or the grade never passed.
fn consistent(checks: &[Check], list: &str) -> Result<(), Flaw> {
    for (i, later) in checks.iter().enumerate() {
        for earlier in &checks[..i] {
            let Some(why) = opposed(earlier, later).or_else(|| opposed(later, earlier)) else {
                continue;
            };
            let (line, column) = at(earlier);
            let message = format!(
                "{list}: {} can never pass together with {} at line {line}, column {column} \
                 ({why}); keep only the one the {} needs",
                named(later),
                named(earlier),
                if list == "grade" { "fix" } else { "break" }
            );
            return Err(Flaw {
                at: at(later),
                message,
            });
        }
    }
    Ok(())
}

/// Why `a` and `b` cannot both pass, if they cannot.
fn opposed(a: &Check, b: &Check) -> Option<&'static str> {
    match (a, b) {
        (Check::Svid(svid), Check::FetchFails(fails))
            if svid.workload.value == fails.workload.value =>
        {
            Some("one needs the workload's fetch to succeed, the other needs it to fail")
        }
        (Check::AlertFiring(firing), Check::AlertClear(clear)) if covers(clear, firing) => {
            Some("an alert that `alert_firing` wants firing is one `alert_clear` wants gone")
        }
        _ => None,
    }
}

/// True when every alert `firing` looks for also counts for `clear`: the same alert, and
/// each of `clear`'s label matchers among `firing`'s.
fn covers(clear: &AlertCheck, firing: &AlertCheck) -> bool {
    let same = |a: &Spanned<String>, b: &Spanned<String>| a.value == b.value;
    same(&clear.alert, &firing.alert)
        && clear.labels.0.iter().all(|(name, value)| {
            let mut matchers = firing.labels.0.iter();
            matchers.any(|(n, v)| same(n, name) && same(v, value))
        })
}

/// A graded `clock_offset` fails on the broken lab: its tolerance is smaller than the
/// offset the break leaves on that agent.
fn clock_checks_see_the_break(scenario: &Scenario, text: &str) -> Result<(), Flaw> {
    for check in &scenario.grade {
        let Check::ClockOffset(c) = check else {
            continue;
        };
        let Some((offset, written)) = offset_after_break(&scenario.break_steps, c) else {
            continue;
        };
        if offset.unsigned_abs() <= c.tolerance.value.as_secs() {
            let (line, column) = position(written);
            let message = format!(
                "clock_offset.tolerance {} accepts the offset {:?} that the break sets on {} \
                 (line {line}, column {column}), so this check passes before any fix; make \
                 it smaller than {}s",
                bounds::as_written(&c.tolerance, text),
                written.value,
                c.component.value,
                offset.unsigned_abs()
            );
            return Err(Flaw {
                at: written_at(&c.tolerance, &c.component),
                message,
            });
        }
    }
    Ok(())
}

/// The offset in seconds the last `clock` step of the break sets on the check's agent, and
/// where it is written; `None` when the break sets none, or recreates the agent afterwards
/// (which may put its clock right).
fn offset_after_break<'a>(
    steps: &'a [Step],
    check: &ClockCheck,
) -> Option<(i64, &'a Spanned<String>)> {
    let agent = check.component.value.as_str();
    let mut last = None;
    for step in steps {
        match step {
            Step::Clock(c) if c.component.value == agent => {
                let seconds = clock::parse_offset(&c.offset.value).ok()?;
                last = Some((seconds, &c.offset));
            }
            Step::Recreate(r) if r.component.value == agent => last = None,
            _ => {}
        }
    }
    last
}

/// Every kind a wrong fix expects to fail is graded, by a check with a hint: `spirelab run
/// --wrong-fixes` demands that each named kind fail with one.
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
    let of_kind: Vec<&Check> = grade.iter().filter(|c| c.kind() == kind).collect();
    if of_kind.is_empty() {
        let mut kinds: Vec<&str> = grade.iter().map(Check::kind).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let graded = kinds.join(", ");
        return Some(format!(
            "wrong fix {fix:?} expects check {kind:?} to fail, but the grade has only \
             {graded}; name one of those"
        ));
    }
    of_kind.iter().all(|c| c.scoring().1.is_none()).then(|| {
        format!(
            "wrong fix {fix:?} expects {kind:?} to fail with a hint, but no {kind:?} check of \
             the grade has a hint; add `hint:` to one"
        )
    })
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
    fn a_grade_worth_no_points_is_reported_at_the_grade_key() {
        let grade = "grade:\n  - svid: { workload: workload-1, points: 0 }\n  \
                     - entry_pinned: { workload: workload-1, points: 0 }\n";
        assert_eq!(
            error_of(&scenario(FETCH_FAILS, "  []\n", grade)),
            "s.yaml:10:1: grade: every check is worth 0 points, so any fix scores 0 of 0; give \
             the checks a fix must pass `points: 1` or more"
        );
    }

    #[test]
    fn a_grade_the_break_confirms_whole_is_reported_with_both_positions() {
        let grade = "grade:\n  - svid: { workload: workload-2, points: 0 }\n  \
                     - fetch_fails: { workload: workload-1, contains: No Identity Issued }\n";
        let error = error_of(&scenario(FETCH_FAILS, "  []\n", grade));
        assert_eq!(
            error,
            "s.yaml:12:30: every graded check is also a broken check (`fetch_fails` of \
             workload-1 is the same as the broken check at line 7, column 32): the grade \
             passes while the lab is still broken; grade what the fix restores, such as \
             `svid` or `rotation`"
        );
    }

    #[test]
    fn a_broken_check_may_guard_the_grade_next_to_what_the_fix_restores() {
        let grade = "grade:\n  - svid: { workload: workload-1 }\n  \
                     - fetch_fails: { workload: workload-2, contains: no identity issued }\n";
        let broken = "    - fetch_fails: { workload: workload-2, contains: no identity issued }\n";
        assert!(load("s.yaml", &scenario(broken, "  []\n", grade)).is_ok());
    }

    #[test]
    fn a_symptom_the_break_does_not_confirm_may_be_graded() {
        let grade = "grade:\n  - fetch_fails: { workload: workload-2, contains: denied }\n";
        let text = scenario(FETCH_FAILS, "  []\n", grade);
        assert!(load("s.yaml", &text).is_ok());
    }

    #[test]
    fn opposite_checks_in_one_list_are_reported_at_the_later_one() {
        let grade = concat!(
            "grade:\n",
            "  - alert_firing: { alert: SpireWorkloadWithoutSVID,",
            " labels: { component: agent-1 } }\n",
            "  - alert_clear: { alert: SpireWorkloadWithoutSVID }\n"
        );
        assert_eq!(
            error_of(&scenario(FETCH_FAILS, "  []\n", grade)),
            "s.yaml:12:27: grade: `alert_clear` of SpireWorkloadWithoutSVID can never pass \
             together with `alert_firing` of SpireWorkloadWithoutSVID{component=\"agent-1\"} at \
             line 11, column 28 (an alert that `alert_firing` wants firing is one `alert_clear` \
             wants gone); keep only the one the fix needs"
        );
        let broken = format!("{FETCH_FAILS}    - svid: {{ workload: workload-1 }}\n");
        let error = error_of(&scenario(&broken, "  []\n", SVID));
        assert!(
            error.starts_with(
                "s.yaml:8:25: broken.checks: `svid` of workload-1 can never pass together \
                 with `fetch_fails` of workload-1 at line 7, column 32"
            ),
            "{error}"
        );
    }

    #[test]
    fn alert_checks_on_different_labels_are_not_opposed() {
        let grade = "grade:\n  - alert_firing: { alert: SpireWorkloadWithoutSVID, labels: \
                     { component: agent-1 } }\n  - alert_clear: { alert: SpireWorkloadWithoutSVID, \
                     labels: { component: agent-2 } }\n";
        assert!(load("s.yaml", &scenario(FETCH_FAILS, "  []\n", grade)).is_ok());
    }

    #[test]
    fn a_clock_tolerance_that_accepts_the_break_offset_is_rejected() {
        let steps = "  - clock: { component: agent-1, offset: +40s }\n";
        let grade = "grade:\n  - clock_offset: { component: agent-1, tolerance: 45s }\n";
        assert_eq!(
            error_of(&scenario(FETCH_FAILS, steps, grade)),
            "s.yaml:11:52: clock_offset.tolerance 45s accepts the offset \"+40s\" that the \
             break sets on agent-1 (line 9, column 42), so this check passes before any fix; \
             make it smaller than 40s"
        );
        let default = "grade:\n  - clock_offset: { component: agent-1 }\n";
        let small = "  - clock: { component: agent-1, offset: -1s }\n";
        let error = error_of(&scenario(FETCH_FAILS, small, default));
        assert!(
            error.starts_with("s.yaml:11:32: clock_offset.tolerance 2s accepts"),
            "{error}"
        );
        let written = "grade:\n  - clock_offset: { component: agent-1, tolerance: 45000ms }\n";
        let error = error_of(&scenario(FETCH_FAILS, steps, written));
        assert!(
            error.starts_with("s.yaml:11:52: clock_offset.tolerance 45000ms accepts"),
            "{error}"
        );
        let recreated = format!("{steps}  - recreate: {{ component: agent-1 }}\n");
        assert!(load("s.yaml", &scenario(FETCH_FAILS, &recreated, grade)).is_ok());
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

    #[test]
    fn a_wrong_fix_needs_a_graded_check_with_a_hint() {
        let rest = "grade:\n  - svid: { workload: workload-1 }\nwrong_fixes:\n  - name: f\n    \
                    steps: []\n    fails:\n      - svid\n";
        assert_eq!(
            error_of(&scenario(FETCH_FAILS, "  []\n", rest)),
            "s.yaml:16:9: wrong fix \"f\" expects \"svid\" to fail with a hint, but no \"svid\" \
             check of the grade has a hint; add `hint:` to one"
        );
    }
}
