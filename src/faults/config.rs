//! Changing keys of a SPIRE config file and restarting the component, as an operator
//! editing server.conf or agent.conf would.

use super::FaultError;
use crate::engine::files::FileSpec;
use crate::lab::Lab;
use crate::lab::paths::{AGENT_CONF, SERVER_CONF};
use crate::scenario::model::ConfigStep;

/// Sets each key in the component's `server` or `agent` block and restarts it.
pub async fn set(lab: &Lab, step: &ConfigStep) -> Result<(), FaultError> {
    let keys: Vec<(&str, &str)> = step
        .set
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    set_keys(lab, &step.component.value, &keys).await
}

/// Sets `keys` in the `server` block of server.conf or the `agent` block of an agent's
/// agent.conf, then restarts the component. The file is read and written through Docker,
/// so a stopped or restarting component can be changed too.
pub async fn set_keys(lab: &Lab, component: &str, keys: &[(&str, &str)]) -> Result<(), FaultError> {
    let (file, block) = if component == "server" {
        (SERVER_CONF, "server")
    } else {
        (AGENT_CONF, "agent")
    };
    let container = lab.container(component);
    let mut text =
        String::from_utf8_lossy(&lab.engine.download_file(&container, file).await?).into_owned();
    for (key, value) in keys {
        text = set_key(&text, block, key, value).ok_or_else(|| FaultError::NoConfigBlock {
            component: component.to_string(),
            file: file.to_string(),
            block: block.to_string(),
        })?;
    }
    lab.engine
        .upload_files(&container, &[FileSpec::public(file, text)])
        .await?;
    restart(lab, component).await
}

/// Restarts the component; an agent's workloads are restarted after it, since they share
/// its PID namespace, die with it, and Docker stops restarting one whose agent failed.
pub async fn restart(lab: &Lab, component: &str) -> Result<(), FaultError> {
    lab.engine
        .restart_container(&lab.container(component))
        .await?;
    for workload in lab.spec.workloads.iter().filter(|w| w.agent == component) {
        let container = lab.container(&workload.name);
        lab.engine.restart_container(&container).await?;
    }
    Ok(())
}

/// Sets `key = value` in the top-level `block { ... }` of an HCL file: replaces the key's
/// line if there is one, otherwise adds it at the end of the block. Numbers and booleans
/// are written bare, everything else quoted.
pub fn set_key(text: &str, block: &str, key: &str, value: &str) -> Option<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let start = lines
        .iter()
        .position(|l| l.trim_end() == format!("{block} {{"))?;
    let end = start + lines[start..].iter().position(|l| l.trim_end() == "}")?;
    let assignment = format!("    {key} = {}", literal(value));
    let is_key = |line: &String| {
        let trimmed = line.trim_start();
        trimmed
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
    };
    match lines[start..end].iter().position(is_key) {
        Some(offset) => lines[start + offset] = assignment,
        None => lines.insert(end, assignment),
    }
    Some(lines.join("\n") + "\n")
}

fn literal(value: &str) -> String {
    let bare = value.parse::<i64>().is_ok() || value == "true" || value == "false";
    if bare {
        return value.to_string();
    }
    let mut quoted = String::from('"');
    for c in value.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str =
        "agent {\n    trust_domain = \"lab.test\"\n    log_level = \"DEBUG\"\n}\n\nplugins {\n}\n";

    #[test]
    fn replaces_an_existing_key_in_its_block() {
        let changed = set_key(CONF, "agent", "trust_domain", "other.test").unwrap();
        assert!(
            changed.contains("    trust_domain = \"other.test\"\n"),
            "{changed}"
        );
        assert!(!changed.contains("lab.test"));
    }

    #[test]
    fn adds_a_missing_key_at_the_end_of_the_block() {
        let changed = set_key(CONF, "agent", "insecure_bootstrap", "true").unwrap();
        assert!(
            changed.contains("    insecure_bootstrap = true\n}\n\nplugins"),
            "{changed}"
        );
    }

    #[test]
    fn values_are_quoted_as_hcl_strings() {
        let changed = set_key(CONF, "agent", "join_token", "a\"b\\c\nd").unwrap();
        assert!(
            changed.contains("    join_token = \"a\\\"b\\\\c\\nd\"\n"),
            "{changed}"
        );
    }

    #[test]
    fn a_missing_block_is_reported() {
        assert_eq!(set_key(CONF, "server", "ca_ttl", "1h"), None);
    }
}
