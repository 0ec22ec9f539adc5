//! A join_token agent added to a running lab, scraped by the lab's Prometheus.
//!
//! The lab's agents attest with x509pop, so they re-attest (`spire_agent_node_attest`) and
//! never count `spire_agent_agent_svid_rotate`, which only agents that cannot re-attest
//! (join_token) do. The rules and the dashboard use both; this agent makes the second one
//! appear on the live lab. It is created the way `up` creates agents, with the lab's labels,
//! so `down` removes it with the rest.

use spirelab::engine::files::FileSpec;
use spirelab::engine::labels;
use spirelab::lab::paths::{AGENT_BUNDLE, AGENT_CERT, AGENT_CONF, AGENT_KEY, PROMETHEUS_CONF};
use spirelab::lab::spec::AgentSpec;
use spirelab::lab::{Lab, render};
use spirelab::prometheus::Prometheus;

/// The extra agent's name: its host name, container suffix and `component` label.
pub const NAME: &str = "agent-join";

/// Starts the join_token agent and has Prometheus scrape it under the `spire-agent` job.
pub async fn start(lab: &Lab, prometheus: &Prometheus) {
    let run = run_of(lab).await;
    let token = generate_token(lab).await;
    for purpose in ["data", "socket"] {
        let volume = lab.volume(NAME, purpose);
        lab.engine
            .ensure_volume(&volume, &lab.name, &run)
            .await
            .unwrap();
    }
    let bundle = lab.server().bundle_pem().await.unwrap();
    let files = [
        FileSpec::public(
            AGENT_CONF,
            join_token_conf(&render::agent_conf(&lab.spec), &token),
        ),
        FileSpec::public(AGENT_BUNDLE, bundle),
    ];
    let plan = lab.agent_plan(&run, NAME);
    lab.engine.create_container(&plan).await.unwrap();
    lab.engine.upload_files(&plan.name, &files).await.unwrap();
    lab.engine.start_container(&plan.name).await.unwrap();

    scrape_too(lab, prometheus).await;
}

async fn run_of(lab: &Lab) -> String {
    let containers = lab.engine.list_containers(Some(&lab.name)).await.unwrap();
    containers[0].labels[labels::RUN].clone()
}

/// A single-use token whose agent gets the node alias `spiffe://<td>/node/agent-join`.
async fn generate_token(lab: &Lab) -> String {
    let alias = lab.spec.node_alias_id(NAME);
    let args = ["token", "generate", "-spiffeID", &alias, "-ttl", "600"];
    let output = lab.server().run(&args).await.unwrap();
    let token = output.trim().strip_prefix("Token: ");
    token
        .unwrap_or_else(|| panic!("unexpected token output: {output:?}"))
        .to_string()
}

/// The lab's agent config with the x509pop attestor swapped for join_token.
fn join_token_conf(x509pop_conf: &str, token: &str) -> String {
    let x509pop = format!(
        "    NodeAttestor \"x509pop\" {{\n        plugin_data {{\n            \
         private_key_path = \"{AGENT_KEY}\"\n            \
         certificate_path = \"{AGENT_CERT}\"\n        }}\n    }}\n"
    );
    let join_token = "    NodeAttestor \"join_token\" {\n        plugin_data {}\n    }\n";
    assert!(
        x509pop_conf.contains(&x509pop),
        "no x509pop block in\n{x509pop_conf}"
    );
    x509pop_conf.replace(&x509pop, join_token).replacen(
        "agent {\n",
        &format!("agent {{\n    join_token = \"{token}\"\n"),
        1,
    )
}

/// Rewrites Prometheus's config with the extra agent and reloads it.
async fn scrape_too(lab: &Lab, prometheus: &Prometheus) {
    let mut spec = lab.spec.clone();
    spec.agents.push(AgentSpec { name: NAME.into() });
    let config = FileSpec::public(PROMETHEUS_CONF, render::prometheus_conf(&spec));
    let container = lab.container("prometheus");
    lab.engine
        .upload_files(&container, &[config])
        .await
        .unwrap();
    let reload = format!("{}/-/reload", prometheus.url());
    let response = reqwest::Client::new().post(&reload).send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{reload}: {}",
        response.status()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_attests_with_the_token_instead_of_x509pop() {
        let conf = join_token_conf(&render::agent_conf(&Default::default()), "t-1");
        assert!(
            conf.starts_with("agent {\n    join_token = \"t-1\"\n"),
            "{conf}"
        );
        assert!(conf.contains("NodeAttestor \"join_token\""), "{conf}");
        assert!(!conf.contains("x509pop"), "{conf}");
    }
}
