//! How long a scenario's expected alerts take to fire after the break and to clear after the
//! fix, each held to its bound from a fixed start (the break applied, the fix applied).
//!
//! `spirelab run` watches while it confirms the break or grades the fix, so the figures are
//! the alerts' own, not the length of whatever ran before the watch began.

use std::time::Duration;

use serde_saphyr::Spanned;
use time::OffsetDateTime;

use crate::grader::checks::alert::{Wanted, describe};
use crate::lab::Lab;
use crate::lab::wait::POLL;
use crate::prometheus::Prometheus;
use crate::scenario::model::LabelMatchers;

/// When one alert reached the wanted state.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// The alert's name.
    pub alert: String,
    /// How long after the start it was first seen in the wanted state; `None` if it never
    /// was within the bound.
    pub after: Option<Duration>,
    /// What was seen of it last, while it was not yet in the wanted state.
    pub last: String,
}

/// Polls the lab's Prometheus every second from now until every alert of `names` is in the
/// `wanted` state or `bound` has passed since `from`.
pub async fn watch(
    lab: &Lab,
    names: &[Spanned<String>],
    wanted: Wanted,
    from: OffsetDateTime,
    bound: Duration,
) -> Vec<Timing> {
    let mut timings: Vec<Timing> = names
        .iter()
        .map(|name| Timing {
            alert: name.value.clone(),
            after: None,
            last: "not polled yet".into(),
        })
        .collect();
    let prometheus = match Prometheus::of(lab).await {
        Ok(prometheus) => prometheus,
        Err(error) => {
            timings.iter_mut().for_each(|t| t.last = error.to_string());
            return timings;
        }
    };
    loop {
        poll_once(&prometheus, &mut timings, wanted, from).await;
        if timings.iter().all(|t| t.after.is_some()) || elapsed_since(from) >= bound {
            return timings;
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn poll_once(
    prometheus: &Prometheus,
    timings: &mut [Timing],
    wanted: Wanted,
    from: OffsetDateTime,
) {
    let alerts = prometheus.alerts().await;
    let elapsed = elapsed_since(from);
    let any = LabelMatchers::default();
    for timing in timings.iter_mut().filter(|t| t.after.is_none()) {
        match &alerts {
            Ok(alerts) if wanted.holds(alerts, &timing.alert, &any) => {
                tracing::info!(alert = %timing.alert, ?elapsed, "alert {}", wanted.word());
                timing.after = Some(elapsed);
            }
            Ok(alerts) => {
                let states: Vec<String> = alerts
                    .iter()
                    .filter(|a| a.name() == timing.alert)
                    .map(|a| describe(a, &any))
                    .collect();
                timing.last = match states.is_empty() {
                    true => "neither pending nor firing".into(),
                    false => states.join("; "),
                };
            }
            Err(error) => timing.last = error.to_string(),
        }
    }
}

/// Time passed since `from` on the host's wall clock (never shifted by a lab).
pub fn elapsed_since(from: OffsetDateTime) -> Duration {
    (OffsetDateTime::now_utc() - from)
        .try_into()
        .unwrap_or_default()
}

/// One line per alert, such as `X fired 63s after the break (bound 150s)`; an error when any
/// alert did not reach the state within the bound.
pub fn verdict(
    timings: &[Timing],
    wanted: Wanted,
    event: &str,
    bound: Duration,
) -> Result<String, String> {
    let bound_s = bound.as_secs();
    let lines: Vec<String> = timings
        .iter()
        .map(|t| match (t.after, wanted) {
            (Some(after), Wanted::Firing) if after <= bound => {
                format!(
                    "{} fired {}s after {event} (bound {bound_s}s)",
                    t.alert,
                    after.as_secs()
                )
            }
            (Some(after), Wanted::Clear) if after <= bound => format!(
                "{} cleared {}s after {event} (bound {bound_s}s)",
                t.alert,
                after.as_secs()
            ),
            (Some(after), _) => format!(
                "{} {} only {}s after {event}, beyond the bound of {bound_s}s",
                t.alert,
                wanted.word(),
                after.as_secs()
            ),
            (None, _) => format!(
                "{} not {} {bound_s}s after {event} (the bound); last seen: {}",
                t.alert,
                wanted.word(),
                t.last
            ),
        })
        .collect();
    let in_time = |t: &Timing| t.after.is_some_and(|after| after <= bound);
    match timings.iter().all(in_time) {
        true => Ok(lines.join("; ")),
        false => Err(lines.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(alert: &str, after: Option<u64>) -> Timing {
        Timing {
            alert: alert.into(),
            after: after.map(Duration::from_secs),
            last: "X pending {component=agent-1}".into(),
        }
    }

    #[test]
    fn alerts_in_time_give_each_figure_with_its_bound() {
        let timings = [timing("A", Some(63)), timing("B", Some(150))];
        let bound = Duration::from_secs(150);
        assert_eq!(
            verdict(&timings, Wanted::Firing, "the break", bound),
            Ok(
                "A fired 63s after the break (bound 150s); B fired 150s after the break \
                (bound 150s)"
                    .into()
            )
        );
    }

    #[test]
    fn an_alert_late_or_never_seen_fails_the_phase() {
        let bound = Duration::from_secs(120);
        let late = [timing("A", Some(121))];
        assert_eq!(
            verdict(&late, Wanted::Clear, "the fix", bound),
            Err("A clear only 121s after the fix, beyond the bound of 120s".into())
        );
        let never = [timing("A", Some(5)), timing("B", None)];
        let error = verdict(&never, Wanted::Firing, "the break", bound).unwrap_err();
        assert!(
            error.ends_with(
                "B not firing 120s after the break (the bound); last seen: X pending \
                 {component=agent-1}"
            ),
            "{error}"
        );
    }
}
