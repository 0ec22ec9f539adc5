//! The agent holds a current SVID, and renewed it after the fix: the server's record of
//! the agent's SVID serial changes while the check watches. Judged at once, the agent's
//! own health check must pass too.

use std::time::Duration;

use time::OffsetDateTime;

use crate::grader::{CheckError, Finding, GradeOptions};
use crate::lab::Lab;
use crate::lab::wait::{self, Poll};
use crate::probe::svid::decimal_serial_as_hex;
use crate::spire::{AgentCli, AgentInfo};

/// Agent and scheduling slack on top of the half-life at which agents renew.
const SLACK: Duration = Duration::from_secs(25);

/// Judges the agent's SVID now, and when waiting is allowed, waits for a renewal.
pub async fn check(lab: &Lab, agent: &str, options: GradeOptions) -> Result<Finding, CheckError> {
    let Some(first) = lab.attested_agent(agent).await? else {
        return Ok(Finding::fail(vec![format!(
            "the server lists no node attested as {agent}"
        )]));
    };
    if !options.wait {
        return judged_now(lab, agent, &first).await;
    }
    let lifetime = lab.spec.svid_ttl + Duration::from_secs(10);
    let what = format!("{agent} to renew its SVID");
    let renewed = || async {
        let now = lab.attested_agent(agent).await.ok().flatten();
        Ok(match now {
            // Right after a fix the server may still hold the agent's expired SVID until the
            // agent attests again: wait for a current one with a new serial.
            Some(info)
                if is_current(&info)
                    && info.x509svid_serial_number != first.x509svid_serial_number =>
            {
                Poll::Ready(info)
            }
            _ => Poll::Pending(format!(
                "serial still {}",
                decimal_serial_as_hex(&first.x509svid_serial_number)
            )),
        })
    };
    Ok(
        match wait::until(&what, lifetime.mul_f64(0.55) + SLACK, renewed).await {
            Ok(info) => judged(&info, true, Some(&first.x509svid_serial_number)),
            Err(_) if !is_current(&first) => {
                let mut finding = judged(&first, false, None);
                finding
                    .evidence
                    .push(format!("{agent} did not attest again with a current SVID"));
                finding
            }
            Err(_) => Finding::fail(vec![format!(
                "{agent} kept serial {} for longer than its renewal point",
                decimal_serial_as_hex(&first.x509svid_serial_number)
            )]),
        },
    )
}

/// Without waiting, the server's record alone can mislead: an agent that lost its data
/// leaves a record whose SVID is current for up to a TTL. The agent must also pass its own
/// health check, which it does only once it has attested and serves the Workload API.
async fn judged_now(lab: &Lab, agent: &str, record: &AgentInfo) -> Result<Finding, CheckError> {
    let mut finding = judged(record, is_current(record), None);
    let cli = AgentCli::new(&lab.engine, lab.container(agent));
    if !cli.healthy().await.unwrap_or(false) {
        finding.passed = false;
        finding.evidence.push(format!(
            "{agent} fails `spire-agent healthcheck`: it has not attested, or does not serve \
             the Workload API"
        ));
    }
    Ok(finding)
}

fn is_current(agent: &AgentInfo) -> bool {
    !agent.banned && agent.x509svid_expires_at > OffsetDateTime::now_utc().unix_timestamp()
}

fn judged(agent: &AgentInfo, current: bool, renewed_from: Option<&str>) -> Finding {
    let expires = OffsetDateTime::from_unix_timestamp(agent.x509svid_expires_at)
        .map(crate::probe::show_time)
        .unwrap_or_else(|_| agent.x509svid_expires_at.to_string());
    let mut evidence = vec![format!(
        "{} serial {} expires {expires}",
        agent.id,
        decimal_serial_as_hex(&agent.x509svid_serial_number)
    )];
    if let Some(old) = renewed_from {
        evidence.push(format!(
            "renewed from serial {}",
            decimal_serial_as_hex(old)
        ));
    }
    if agent.banned {
        evidence.push("the agent is banned".into());
    }
    Finding {
        passed: current,
        evidence,
    }
}
