//! A join_token agent added to a running lab, scraped by the lab's Prometheus.
//!
//! The lab's agents attest with x509pop, so they re-attest (`spire_agent_node_attest`) and
//! never count `spire_agent_agent_svid_rotate`, which only agents that cannot re-attest
//! (join_token) do. The rules and the dashboard use both; this agent makes the second one
//! appear on the live lab. It is created the way `up` creates agents, with the lab's labels,
//! so `down` removes it with the rest.

use spirelab::engine::files::FileSpec;
use spirelab::engine::labels;
use spirelab::lab::paths::{AGENT_BUNDLE, AGENT_CONF, PROMETHEUS_CONF};
use spirelab::lab::render::Attestation;
use spirelab::lab::spec::{AgentSpec, NodeAttestor};
use spirelab::lab::{Lab, render};
use spirelab::prometheus::Prometheus;

/// The extra agent's name: its host name, container suffix and `component` label.
pub const NAME: &str = "agent-join";

/// Starts the join_token agent and has Prometheus scrape it under the `spire-agent` job.
pub async fn start(lab: &Lab, prometheus: &Prometheus) {
    let run = run_of(lab).await;
    let alias = lab.spec.node_alias_id(NAME);
    let token = lab.server().generate_join_token(&alias).await.unwrap();
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
            render::agent_conf(&lab.spec, Attestation::JoinToken(&token)),
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

/// Rewrites Prometheus's config with the extra agent and reloads it.
async fn scrape_too(lab: &Lab, prometheus: &Prometheus) {
    let mut spec = lab.spec.clone();
    spec.agents.push(AgentSpec {
        name: NAME.into(),
        node_attestor: NodeAttestor::JoinToken,
    });
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
