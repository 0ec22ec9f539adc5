//! SPIRE and Prometheus configuration files, rendered from a [`LabSpec`].
//!
//! Only text is produced here; [`super::up`] decides where it goes.

use std::fmt::Write;
use std::time::Duration;

use super::paths::*;
use super::spec::LabSpec;

/// SPIRE durations are Go durations; whole seconds are exact and always accepted.
fn go_duration(d: Duration) -> String {
    format!("{}s", d.as_secs())
}

const HEALTH_AND_TELEMETRY: &str = r#"
health_checks {
    listener_enabled = true
    bind_address = "0.0.0.0"
    bind_port = "HEALTH_PORT"
    live_path = "/live"
    ready_path = "/ready"
}

telemetry {
    Prometheus {
        host = "0.0.0.0"
        port = TELEMETRY_PORT
    }
}
"#;

fn health_and_telemetry() -> String {
    HEALTH_AND_TELEMETRY
        .replace("HEALTH_PORT", &HEALTH_PORT.to_string())
        .replace("TELEMETRY_PORT", &TELEMETRY_PORT.to_string())
}

/// The server's `server.conf`: sqlite datastore, disk key manager, x509pop node attestation
/// (join tokens need no plugin on the server).
pub fn server_conf(spec: &LabSpec) -> String {
    let ttl = go_duration(spec.svid_ttl);
    format!(
        r#"server {{
    bind_address = "0.0.0.0"
    bind_port = "{SERVER_PORT}"
    socket_path = "{SERVER_SOCKET}"
    trust_domain = "{td}"
    data_dir = "{SERVER_DATA}"
    log_level = "DEBUG"
    ca_ttl = "{ca_ttl}"
    default_x509_svid_ttl = "{ttl}"
    default_jwt_svid_ttl = "{ttl}"
    agent_ttl = "{ttl}"
}}

plugins {{
    DataStore "sql" {{
        plugin_data {{
            database_type = "sqlite3"
            connection_string = "{SERVER_DATA}/datastore.sqlite3"
        }}
    }}
    KeyManager "disk" {{
        plugin_data {{
            keys_path = "{SERVER_DATA}/keys.json"
        }}
    }}
    NodeAttestor "x509pop" {{
        plugin_data {{
            ca_bundle_path = "{X509POP_CA}"
        }}
    }}
}}
{rest}"#,
        td = spec.trust_domain,
        ca_ttl = go_duration(spec.ca_ttl),
        rest = health_and_telemetry(),
    )
}

/// How an agent's config has it attest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Attestation<'a> {
    /// With its x509pop key and certificate.
    X509pop,
    /// With this join token.
    JoinToken(&'a str),
}

impl Attestation<'_> {
    /// The `NodeAttestor` block, and any line the `agent` block needs.
    fn parts(&self) -> (String, String) {
        match self {
            Attestation::X509pop => (
                format!(
                    r#"NodeAttestor "x509pop" {{
        plugin_data {{
            private_key_path = "{AGENT_KEY}"
            certificate_path = "{AGENT_CERT}"
        }}
    }}"#
                ),
                String::new(),
            ),
            Attestation::JoinToken(token) => (
                "NodeAttestor \"join_token\" {\n        plugin_data {}\n    }".to_string(),
                format!("\n    join_token = \"{token}\""),
            ),
        }
    }
}

/// An agent's `agent.conf`: its node attestor and the unix workload attestor.
pub fn agent_conf(spec: &LabSpec, attestation: Attestation<'_>) -> String {
    let (node_attestor, agent_line) = attestation.parts();
    format!(
        r#"agent {{
    data_dir = "{AGENT_DATA}"
    log_level = "DEBUG"
    server_address = "server"
    server_port = "{SERVER_PORT}"
    socket_path = "{SOCKET}"
    trust_bundle_path = "{AGENT_BUNDLE}"
    trust_domain = "{td}"{agent_line}
}}

plugins {{
    {node_attestor}
    KeyManager "disk" {{
        plugin_data {{
            directory = "{AGENT_DATA}"
        }}
    }}
    WorkloadAttestor "unix" {{
        plugin_data {{}}
    }}
}}
{rest}"#,
        td = spec.trust_domain,
        rest = health_and_telemetry(),
    )
}

/// Prometheus's config: the shipped rules and every rules file in the learner's directory,
/// then the server, every agent and every workload probe, each target labelled with its
/// `component`.
pub fn prometheus_conf(spec: &LabSpec) -> String {
    let mut text = format!(
        "global:\n  scrape_interval: 5s\n  evaluation_interval: 5s\n\
         rule_files:\n  - {PROMETHEUS_RULES}\n  - {PROMETHEUS_RULES_DIR}/*.yml\n  \
         - {PROMETHEUS_RULES_DIR}/*.yaml\n\nscrape_configs:\n"
    );
    let agents: Vec<&str> = spec.agents.iter().map(|a| a.name.as_str()).collect();
    let workloads: Vec<&str> = spec.workloads.iter().map(|w| w.name.as_str()).collect();
    scrape_job(&mut text, "spire-server", &["server"], TELEMETRY_PORT);
    scrape_job(&mut text, "spire-agent", &agents, TELEMETRY_PORT);
    scrape_job(&mut text, "workload-probe", &workloads, PROBE_METRICS_PORT);
    text
}

fn scrape_job(text: &mut String, job: &str, hosts: &[&str], port: u16) {
    let _ = write!(text, "  - job_name: {job}\n    static_configs:\n");
    for host in hosts {
        let _ = write!(
            text,
            "      - targets: ['{host}:{port}']\n        labels:\n          component: {host}\n"
        );
    }
}

/// The alert rules Prometheus loads, shipped in monitoring/prometheus/alerts.yml.
pub const ALERT_RULES: &str = include_str!("../../monitoring/prometheus/alerts.yml");

/// What [`PROMETHEUS_RULES_README`] says.
pub const RULES_README: &str = "\
Your own Prometheus rule files go here. Prometheus loads every *.yml and *.yaml file in this
directory, besides spirelab's rules in /etc/prometheus/rules/spire.yml, when it starts or
reloads. Install one with `spirelab rules load FILE` (checks it with promtool, reloads and
waits until its groups evaluate), or by hand:
  docker cp my-rules.yml spirelab-<lab>-prometheus:/etc/prometheus/rules.d/
  curl -s -X POST http://127.0.0.1:<port>/-/reload
";

/// The names of the alerts in [`ALERT_RULES`].
pub fn alert_names() -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Rules {
        groups: Vec<Group>,
    }
    #[derive(serde::Deserialize)]
    struct Group {
        rules: Vec<Rule>,
    }
    #[derive(serde::Deserialize)]
    struct Rule {
        alert: Option<String>,
    }
    let rules: Rules = serde_saphyr::from_str(ALERT_RULES).expect("the shipped rules parse");
    rules
        .groups
        .into_iter()
        .flat_map(|g| g.rules)
        .filter_map(|r| r.alert)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_conf_keeps_ca_ttl_six_times_the_svid_ttl() {
        let text = server_conf(&LabSpec::default());
        assert!(text.contains(r#"ca_ttl = "3600s""#), "{text}");
        assert!(text.contains(r#"default_x509_svid_ttl = "60s""#));
        assert!(
            text.contains(r#"host = "0.0.0.0""#),
            "telemetry must listen beyond localhost"
        );
    }

    #[test]
    fn agent_conf_attests_with_x509pop_or_a_join_token() {
        let spec = LabSpec::default();
        let x509pop = agent_conf(&spec, Attestation::X509pop);
        assert!(x509pop.contains("NodeAttestor \"x509pop\""), "{x509pop}");
        assert!(!x509pop.contains("join_token"), "{x509pop}");

        let joining = agent_conf(&spec, Attestation::JoinToken("t-1"));
        assert!(
            joining.contains("trust_domain = \"lab.test\"\n    join_token = \"t-1\"\n}"),
            "{joining}"
        );
        assert!(
            joining.contains("    NodeAttestor \"join_token\" {\n        plugin_data {}\n    }\n"),
            "{joining}"
        );
        assert!(!joining.contains("x509pop"), "{joining}");
    }

    #[test]
    fn shipped_rules_name_their_alerts() {
        let names = alert_names();
        assert!(
            names.contains(&"SpireWorkloadNoIdentity".to_string()),
            "{names:?}"
        );
    }

    #[test]
    fn prometheus_loads_the_shipped_rules_and_the_learner_directory() {
        let text = prometheus_conf(&LabSpec::default());
        let rule_files = "rule_files:\n  - /etc/prometheus/rules/spire.yml\n  \
                          - /etc/prometheus/rules.d/*.yml\n  - /etc/prometheus/rules.d/*.yaml\n";
        assert!(text.contains(rule_files), "{text}");
    }

    #[test]
    fn prometheus_scrapes_every_component() {
        let text = prometheus_conf(&LabSpec::default());
        for target in [
            "server:9988",
            "agent-1:9988",
            "agent-2:9988",
            "workload-2:9102",
        ] {
            assert!(text.contains(target), "{target} missing from\n{text}");
        }
    }
}
