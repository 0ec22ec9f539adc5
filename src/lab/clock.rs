//! Node clocks: agents run under `clockshift`, which shifts their wall clock by the offset
//! in a file inside the container. Setting an offset writes that file; reading the
//! clocks runs `clockshift now`, the lab's equivalent of asking a node for its NTP offset.
//! The host's clock is never touched.

use serde::{Deserialize, Serialize};

use super::{Lab, LabError};
use crate::engine::files::FileSpec;

/// The clock supervisor inside agent images.
pub const CLOCKSHIFT_BIN: &str = "/usr/local/bin/clockshift";
/// The file an agent's supervisor reads its offset from.
pub const OFFSET_FILE: &str = "/run/spirelab/clock-offset";

/// The largest offset accepted, a year: more is a typo, not a clock fault.
const MAX_OFFSET_SECS: u64 = 365 * 86_400;

/// An offset that is not a signed duration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("clock offset {0:?} must be a signed duration of at most a year, such as +15m, -10m or 0")]
pub struct BadOffset(pub String);

/// Parses `+15m`, `-10m`, `+900s`, `0` into signed seconds.
pub fn parse_offset(text: &str) -> Result<i64, BadOffset> {
    let bad = || BadOffset(text.to_string());
    let text = text.trim();
    if text == "0" {
        return Ok(0);
    }
    let (sign, rest) = match text.split_at_checked(1) {
        Some(("+", rest)) => (1, rest),
        Some(("-", rest)) => (-1, rest),
        _ => (1, text),
    };
    let duration = humantime::parse_duration(rest).map_err(|_| bad())?;
    if duration > std::time::Duration::from_secs(MAX_OFFSET_SECS) {
        return Err(bad());
    }
    Ok(sign * duration.as_secs() as i64)
}

/// One node's clock as `spirelab clock` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeClock {
    /// The component.
    #[serde(default)]
    pub node: String,
    /// The host's time when read.
    pub true_time: String,
    /// The time the node's SPIRE process sees.
    pub node_time: String,
    /// The offset in seconds (node minus true).
    pub offset_seconds: f64,
}

impl Lab {
    /// Sets agent `agent`'s clock offset in seconds; it applies within a fraction of a
    /// second, without restarting the agent.
    pub async fn set_clock_offset(&self, agent: &str, seconds: i64) -> Result<(), LabError> {
        self.require_shiftable(agent)?;
        let text = format!("{seconds:+}s\n");
        let file = FileSpec::public(OFFSET_FILE, text);
        self.engine
            .upload_files(&self.container(agent), &[file])
            .await?;
        Ok(())
    }

    /// Only agents run under the clock supervisor, and only when the lab starts them so.
    fn require_shiftable(&self, agent: &str) -> Result<(), LabError> {
        let refuse = |reason: String| LabError::ClockNotShiftable {
            lab: self.name.clone(),
            agent: agent.to_string(),
            reason,
        };
        if self.spec.agent(agent).is_none() {
            let agents: Vec<&str> = self.spec.agents.iter().map(|a| a.name.as_str()).collect();
            return Err(refuse(format!(
                "it is not an agent; the agents: {}",
                agents.join(", ")
            )));
        }
        if !self.spec.clock_supervisor {
            return Err(refuse(
                "the lab runs its agents without the clock supervisor".into(),
            ));
        }
        Ok(())
    }

    /// Reads every agent's clock through its supervisor.
    pub async fn clocks(&self) -> Result<Vec<NodeClock>, LabError> {
        let mut clocks = Vec::new();
        for agent in &self.spec.agents {
            clocks.push(self.clock(&agent.name).await?);
        }
        Ok(clocks)
    }

    /// Reads one agent's clock through its supervisor.
    pub async fn clock(&self, agent: &str) -> Result<NodeClock, LabError> {
        let cmd = [CLOCKSHIFT_BIN, "now", "--offset-file", OFFSET_FILE];
        let output = self.engine.exec(&self.container(agent), &cmd, None).await?;
        let parsed: Result<NodeClock, _> = serde_json::from_str(output.stdout.trim());
        let mut clock = parsed.map_err(|_| LabError::Clock {
            agent: agent.to_string(),
            output: output.combined(),
        })?;
        clock.node = agent.to_string();
        Ok(clock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_signed_offsets() {
        assert_eq!(parse_offset("+15m"), Ok(900));
        assert_eq!(parse_offset("-10m"), Ok(-600));
        assert_eq!(parse_offset("90s"), Ok(90));
        assert_eq!(parse_offset("0"), Ok(0));
        assert_eq!(parse_offset("soon"), Err(BadOffset("soon".into())));
        assert!(parse_offset("+").is_err());
    }
}
