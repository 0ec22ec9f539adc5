//! A Prometheus alert is firing, or has cleared; read from the lab's Prometheus.

use crate::grader::{CheckError, Finding, GradeOptions};
use crate::lab::Lab;
use crate::lab::wait::{self, Poll};
use crate::prometheus::Prometheus;
use crate::scenario::model::AlertCheck;

/// The state a check wants an alert in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Wanted {
    /// Firing.
    Firing,
    /// Neither pending nor firing.
    Clear,
}

/// Judges the alert now, or waits up to the check's bound when waiting is allowed.
pub async fn check(
    lab: &Lab,
    check: &AlertCheck,
    wanted: Wanted,
    options: GradeOptions,
) -> Result<Finding, CheckError> {
    let prometheus = Prometheus::of(lab).await?;
    let name = check.alert.value.as_str();
    if !options.wait {
        return judge(&prometheus, name, wanted).await;
    }
    let what = format!(
        "alert {name} to be {}",
        if wanted == Wanted::Firing {
            "firing"
        } else {
            "clear"
        }
    );
    let poll = || async {
        Ok(match judge(&prometheus, name, wanted).await {
            Ok(finding) if finding.passed => Poll::Ready(()),
            Ok(finding) => Poll::Pending(finding.evidence.join("; ")),
            Err(error) => Poll::Pending(error.to_string()),
        })
    };
    match wait::until(&what, check.within, poll).await {
        Ok(()) | Err(crate::lab::LabError::Timeout { .. }) => {
            judge(&prometheus, name, wanted).await
        }
        Err(error) => Err(error.into()),
    }
}

async fn judge(prometheus: &Prometheus, name: &str, wanted: Wanted) -> Result<Finding, CheckError> {
    let alerts = prometheus.alerts().await?;
    let states: Vec<String> = alerts
        .iter()
        .filter(|a| a.name() == name)
        .map(|a| format!("{name} {} {:?}", a.state, a.labels))
        .collect();
    let firing = alerts
        .iter()
        .any(|a| a.name() == name && a.state == "firing");
    let passed = match wanted {
        Wanted::Firing => firing,
        Wanted::Clear => states.is_empty(),
    };
    let evidence = if states.is_empty() {
        vec![format!("{name} is neither pending nor firing")]
    } else {
        states
    };
    Ok(Finding { passed, evidence })
}
