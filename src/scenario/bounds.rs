//! Bounds on a scenario's durations: a wait or a bound must fit in a lab session, and be
//! long enough to mean something, so that a typo such as `10000h` or `0s` is caught when
//! the file is checked rather than an hour into a session. Each duration is reported at
//! its own line and column. Names, and how checks relate to each other, are checked
//! elsewhere.

use std::ops::RangeInclusive;
use std::time::Duration;

use serde_saphyr::Spanned;

use super::load::{Flaw, position, written_at};
use super::model::{Check, Scenario, Step};
use crate::lab::LabSpec;

/// The shortest wait or bound: conditions are polled once a second, and a bound shorter
/// than that never sees its condition pass.
const SHORTEST: Duration = Duration::from_secs(1);

/// The longest wait or bound: half an hour, longer than any step of a lab session.
const LONGEST: Duration = Duration::from_secs(30 * 60);

/// The widest clock tolerance: a check that accepts a clock off by more than a minute no
/// longer says the clock is right (an agent a minute behind already sees the server's new
/// certificates as not yet valid).
const WIDEST_TOLERANCE: Duration = Duration::from_secs(60);

/// What a duration field may be.
struct Bound {
    /// The field as scenario files write it, such as `broken.within`.
    field: &'static str,
    /// The values accepted.
    range: RangeInclusive<Duration>,
    /// A good value, for the message.
    example: &'static str,
    /// Why a shorter value is wrong.
    too_short: String,
    /// Why a longer value is wrong.
    too_long: &'static str,
}

impl Bound {
    /// A bound on how long to wait for something that is polled once a second.
    fn wait(field: &'static str, example: &'static str) -> Self {
        Bound {
            field,
            range: SHORTEST..=LONGEST,
            example,
            too_short: "shorter than the one-second poll, so the condition is never seen".into(),
            too_long: "longer than a lab session should wait",
        }
    }

    /// A `wait` step's pause.
    fn pause() -> Self {
        Bound {
            too_short: "too short to let anything happen".into(),
            ..Bound::wait("wait", "10s")
        }
    }

    /// `rotation_stalled`'s `for`: longer than a healthy workload goes without a new SVID,
    /// which is half of the lab's `svid_ttl`.
    fn stalled(lab: &LabSpec) -> Self {
        let between = lab.svid_ttl / 2;
        Bound {
            field: "rotation_stalled.for",
            range: between..=LONGEST,
            example: "40s",
            too_short: format!(
                "shorter than the {} a healthy workload goes between rotations (half of \
                 svid_ttl {}), so a healthy lab passes it too",
                show(between),
                show(lab.svid_ttl)
            ),
            too_long: "longer than a lab session should wait",
        }
    }

    /// `clock_offset`'s `tolerance`.
    fn tolerance() -> Self {
        Bound {
            field: "clock_offset.tolerance",
            range: Duration::ZERO..=WIDEST_TOLERANCE,
            example: "2s",
            too_short: String::new(), // never used: no duration is shorter than 0s
            too_long: "so wide it passes clocks that break SVIDs",
        }
    }

    /// Accepts `value`, written as `written`, or says what is wrong with it and what to
    /// write.
    fn admit(&self, value: Duration, written: &str) -> Result<(), String> {
        let reason = match value {
            v if v < *self.range.start() => &self.too_short,
            v if v > *self.range.end() => self.too_long,
            _ => return Ok(()),
        };
        Err(format!(
            "{} is {written}, {reason}; write a duration from {} to {}, such as {}",
            self.field,
            show(*self.range.start()),
            show(*self.range.end()),
            self.example
        ))
    }
}

/// A duration the file does not write (a bound, a default, half the lab's `svid_ttl`), in
/// humantime's words: `30m`, `30m 1s`.
pub(super) fn show(duration: Duration) -> String {
    humantime::format_duration(duration).to_string()
}

/// `value` as the file writes it (`30m1s`, not `1801s`), or [`show`]n when it is not
/// written there (a default).
pub(super) fn as_written(value: &Spanned<Duration>, text: &str) -> String {
    let span = value.referenced.span();
    let range = span.byte_offset().zip(span.byte_len());
    let written = range.and_then(|(at, len)| text.get(at as usize..(at + len) as usize));
    match written.map(|w| w.trim_matches(['"', '\''])) {
        Some(w) if !w.is_empty() => w.to_string(),
        _ => show(value.value),
    }
}

/// Checks every bounded duration of `scenario`; `text` is its YAML, to quote durations as
/// written.
pub(super) fn check(scenario: &Scenario, text: &str) -> Result<(), Flaw> {
    let broken = Bound::wait("broken.within", "60s");
    admit_written(&scenario.broken.within, &broken, text)?;
    if let Some(alerts) = &scenario.alerts {
        let fire = Bound::wait("alerts.fire_within", "150s");
        admit_written(&alerts.fire_within, &fire, text)?;
        let clear = Bound::wait("alerts.clear_within", "120s");
        admit_written(&alerts.clear_within, &clear, text)?;
    }
    let fixes = scenario.wrong_fixes.iter().flat_map(|f| &f.steps);
    let steps = scenario.break_steps.iter().chain(&scenario.solve);
    for step in steps.chain(fixes) {
        step_durations(&scenario.lab, step, text)?;
    }
    for check in scenario.broken.checks.iter().chain(&scenario.grade) {
        check_durations(&scenario.lab, check, text)?;
    }
    Ok(())
}

/// Holds `value`, reported at `at`, to `bound`.
fn admit(value: &Spanned<Duration>, at: (u64, u64), bound: &Bound, text: &str) -> Result<(), Flaw> {
    bound
        .admit(value.value, &as_written(value, text))
        .map_err(|message| Flaw { at, message })
}

/// Holds `value`, a duration the file must write (it has no default), to `bound`.
fn admit_written(value: &Spanned<Duration>, bound: &Bound, text: &str) -> Result<(), Flaw> {
    admit(value, position(value), bound, text)
}

fn step_durations(lab: &LabSpec, step: &Step, text: &str) -> Result<(), Flaw> {
    match step {
        Step::Wait(wait) => admit_written(wait, &Bound::pause(), text),
        Step::WaitFor(w) => {
            admit_written(&w.within, &Bound::wait("wait_for.within", "60s"), text)?;
            check_durations(lab, &w.check, text)
        }
        _ => Ok(()),
    }
}

/// The durations of one check; a new kind of check with a duration adds an arm here.
fn check_durations(lab: &LabSpec, check: &Check, text: &str) -> Result<(), Flaw> {
    match check {
        Check::AlertFiring(c) | Check::AlertClear(c) => {
            let field = match check {
                Check::AlertFiring(_) => "alert_firing.within",
                _ => "alert_clear.within",
            };
            let at = written_at(&c.within, &c.alert);
            admit(&c.within, at, &Bound::wait(field, "3m"), text)
        }
        Check::RotationStalled(c) => admit_written(&c.for_at_least, &Bound::stalled(lab), text),
        Check::ClockOffset(c) => {
            let at = written_at(&c.tolerance, &c.component);
            admit(&c.tolerance, at, &Bound::tolerance(), text)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::load;

    fn error_of(text: &str) -> String {
        load("s.yaml", text).unwrap_err().to_string()
    }

    /// A scenario whose broken section, break steps and grade are given: the broken
    /// section starts on line 3, the steps on line 6.
    fn scenario(broken: &str, steps: &str, grade: &str) -> String {
        format!("name: n\nsummary: s\nbroken: {broken}\nsolve: []\nbreak:\n{steps}grade:\n{grade}")
    }

    const BROKEN: &str = "{ within: 10s, checks: [] }";
    const GRADE: &str = "  - svid: { workload: workload-1 }\n";

    #[test]
    fn broken_within_of_hours_is_rejected_at_its_value() {
        let text = scenario("{ within: 10000h, checks: [] }", "  []\n", GRADE);
        assert_eq!(
            error_of(&text),
            "s.yaml:3:19: broken.within is 10000h, longer than a lab session should wait; \
             write a duration from 1s to 30m, such as 60s"
        );
    }

    #[test]
    fn a_zero_wait_for_never_sees_its_check_and_is_rejected() {
        let steps =
            "  - wait_for:\n      within: 0s\n      check: { svid: { workload: workload-1 } }\n";
        assert_eq!(
            error_of(&scenario(BROKEN, steps, GRADE)),
            "s.yaml:7:15: wait_for.within is 0s, shorter than the one-second poll, so the \
             condition is never seen; write a duration from 1s to 30m, such as 60s"
        );
    }

    #[test]
    fn waits_are_bounded_in_break_solve_and_wrong_fixes() {
        let text = scenario(BROKEN, "  - wait: 5000h\n", GRADE);
        assert!(
            error_of(&text).starts_with("s.yaml:6:11: wait is 5000h, longer than"),
            "{}",
            error_of(&text)
        );
        let text = scenario(BROKEN, "  - wait: 0s\n", GRADE);
        assert_eq!(
            error_of(&text),
            "s.yaml:6:11: wait is 0s, too short to let anything happen; write a duration from \
             1s to 30m, such as 10s"
        );
        let text = format!(
            "{}wrong_fixes:\n  - name: f\n    steps: [wait: 31m]\n    fails: [svid]\n",
            scenario(BROKEN, "  []\n", GRADE)
        );
        assert!(
            error_of(&text).starts_with("s.yaml:11:19: wait is 31m, longer than"),
            "{}",
            error_of(&text)
        );
    }

    #[test]
    fn alert_bounds_are_rejected_at_their_values() {
        let text = format!(
            "{}alerts:\n  expected: [SpireWorkloadWithoutSVID]\n  fire_within: 2h\n  \
             clear_within: 120s\n",
            scenario(BROKEN, "  []\n", GRADE)
        );
        assert!(
            error_of(&text).starts_with("s.yaml:11:16: alerts.fire_within is 2h, longer"),
            "{}",
            error_of(&text)
        );
        let grade = "  - alert_clear: { alert: SpireWorkloadWithoutSVID, within: 0s }\n";
        assert!(
            error_of(&scenario(BROKEN, "  []\n", grade))
                .starts_with("s.yaml:8:61: alert_clear.within is 0s, shorter than"),
            "{}",
            error_of(&scenario(BROKEN, "  []\n", grade))
        );
    }

    #[test]
    fn a_stall_no_longer_than_half_the_svid_ttl_passes_on_a_healthy_lab() {
        let broken = concat!(
            "\n  within: 60s\n  checks:\n",
            "    - rotation_stalled: { workload: workload-1, for: 20s }"
        );
        assert_eq!(
            error_of(&scenario(broken, "  []\n", GRADE)),
            "s.yaml:6:54: rotation_stalled.for is 20s, shorter than the 30s a healthy \
             workload goes between rotations (half of svid_ttl 1m), so a healthy lab passes it \
             too; write a duration from 30s to 30m, such as 40s"
        );
    }

    #[test]
    fn durations_are_quoted_as_written_and_others_in_humantime_words() {
        let text = scenario(BROKEN, "  - wait: 30m1s\n", GRADE);
        assert_eq!(
            error_of(&text),
            "s.yaml:6:11: wait is 30m1s, longer than a lab session should wait; write a \
             duration from 1s to 30m, such as 10s"
        );
        let text = scenario(BROKEN, "  - wait: \"45m\"\n", GRADE);
        assert!(
            error_of(&text).starts_with("s.yaml:6:11: wait is 45m, longer"),
            "{}",
            error_of(&text)
        );
        let broken = concat!(
            "\n  within: 60s\n  checks:\n",
            "    - rotation_stalled: { workload: workload-1, for: 0m20s }"
        );
        let lab = "lab: { svid_ttl: 61s }\n";
        assert!(
            error_of(&format!("{lab}{}", scenario(broken, "  []\n", GRADE))).starts_with(
                "s.yaml:7:54: rotation_stalled.for is 0m20s, shorter than the 30s 500ms a \
                 healthy workload goes between rotations (half of svid_ttl 1m 1s)"
            ),
            "{}",
            error_of(&format!("{lab}{}", scenario(broken, "  []\n", GRADE)))
        );
    }

    #[test]
    fn a_clock_tolerance_of_minutes_is_rejected() {
        let grade = "  - clock_offset: { component: agent-1, tolerance: 20m }\n";
        assert_eq!(
            error_of(&scenario(BROKEN, "  []\n", grade)),
            "s.yaml:8:52: clock_offset.tolerance is 20m, so wide it passes clocks that \
             break SVIDs; write a duration from 0s to 1m, such as 2s"
        );
    }

    #[test]
    fn a_duration_that_is_not_one_is_still_a_syntax_error() {
        let error = error_of(&scenario("{ within: soon, checks: [] }", "  []\n", GRADE));
        assert_eq!(
            error,
            "s.yaml:3:19: expected a duration such as 90s, 5m or 1h30m, got \"soon\""
        );
    }
}
