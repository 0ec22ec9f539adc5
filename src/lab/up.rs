//! Bringing a lab up: a list of named steps, each waiting until its component is ready.
//!
//! If any step fails, or the caller drops the future (Ctrl-C), everything this run made is
//! removed again, so a failed `up` leaves nothing half made.

use std::time::Duration;

use futures_util::future::try_join_all;

use super::paths::*;
use super::pki::X509PopCa;
use super::render::Attestation;
use super::spec::{AgentSpec, NodeAttestor, WorkloadSpec};
use super::wait::{self, Poll};
use super::{Lab, LabError, down, render};
use crate::engine::container::ContainerState;
use crate::engine::files::FileSpec;
use crate::probe::Record;
use crate::spire::{AgentCli, NewEntry, ServerCli};

/// How long a component may take to report healthy.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// What `up` found or did.
#[derive(Debug, Clone, PartialEq)]
pub enum UpOutcome {
    /// The lab was created by this run.
    Started {
        /// The run's ID, on every object's labels.
        run: String,
    },
    /// The lab was already running; nothing was changed.
    AlreadyUp,
}

/// Brings `lab` up and waits until every workload holds an SVID; a lab whose components
/// all run is left as it is, broken or not.
pub async fn up(lab: &Lab) -> Result<UpOutcome, LabError> {
    lab.images.require(&lab.engine).await?;
    if is_running(lab).await? {
        return Ok(UpOutcome::AlreadyUp);
    }
    lab.require_names_free().await?;
    let run = run_id();
    let guard = CleanupGuard::new(lab);
    create(lab, &run).await?;
    guard.disarm();
    Ok(UpOutcome::Started { run })
}

impl Lab {
    /// Fails with advice unless every component of the lab runs.
    pub async fn require_whole(&self) -> Result<(), LabError> {
        match is_running(self).await? {
            true => Ok(()),
            false => Err(LabError::NotRunning(self.name.clone())),
        }
    }
}

/// How long a lab may take to have every restarting component running again (a workload
/// restarts with the agent whose PID namespace it shares).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(15);

/// True when every component of the lab runs, or Docker keeps restarting it (an agent
/// that cannot attest exits and is restarted: a symptom to grade, not a missing part); an
/// error when some are stopped or missing. Restarting components are waited for a while
/// first.
async fn is_running(lab: &Lab) -> Result<bool, LabError> {
    let containers = lab.engine.list_containers(Some(&lab.name)).await?;
    if containers.is_empty() && lab.engine.list_volumes(Some(&lab.name)).await?.is_empty() {
        return Ok(false);
    }
    let restarting_only =
        |components: &[(String, String)]| components.iter().all(|(_, s)| s == "restarting");
    let not_running = not_running(lab, &containers);
    if not_running.is_empty() {
        return Ok(true);
    }
    if restarting_only(&not_running) {
        let poll = || async {
            let containers = lab.engine.list_containers(Some(&lab.name)).await?;
            let left = not_running_names(&self::not_running(lab, &containers));
            Ok(match left.is_empty() {
                true => Poll::Ready(()),
                false => Poll::Pending(format!("restarting: {left}")),
            })
        };
        let what = "restarting components to run again";
        if wait::until(what, SETTLE_TIMEOUT, poll).await.is_ok() {
            return Ok(true);
        }
    }
    let containers = lab.engine.list_containers(Some(&lab.name)).await?;
    let not_running = self::not_running(lab, &containers);
    match restarting_only(&not_running) {
        true => Ok(true),
        false => Err(LabError::PartlyUp {
            lab: lab.name.clone(),
            missing: not_running_names(&not_running),
        }),
    }
}

/// Each component of the lab that does not run, with its container's state (`missing`
/// when there is no container).
fn not_running(lab: &Lab, containers: &[ContainerState]) -> Vec<(String, String)> {
    let state_of = |name: &str| {
        containers
            .iter()
            .find(|c| c.component == name)
            .map_or("missing".to_string(), |c| c.state.clone())
    };
    lab.spec
        .component_names()
        .into_iter()
        .map(|name| {
            let state = state_of(&name);
            (name, state)
        })
        .filter(|(_, state)| state != "running")
        .collect()
}

fn not_running_names(components: &[(String, String)]) -> String {
    let described: Vec<String> = components
        .iter()
        .map(|(name, state)| format!("{name} {state}"))
        .collect();
    described.join(", ")
}

async fn create(lab: &Lab, run: &str) -> Result<(), LabError> {
    create_network_and_volumes(lab, run).await?;
    let ca = X509PopCa::generate(&lab.name)?;

    start_server(lab, run, &ca).await?;
    let bundle = lab.server().bundle_pem().await?;
    register(lab).await?;

    try_join_all(
        lab.spec
            .agents
            .iter()
            .map(|agent| start_agent(lab, run, agent, &ca, &bundle)),
    )
    .await?;

    wait_for_entries(lab).await?;
    for workload in &lab.spec.workloads {
        lab.start_component(&lab.workload_plan(run, workload), &[])
            .await?;
    }
    start_prometheus(lab, run).await?;

    wait_for_svids(lab).await
}

async fn create_network_and_volumes(lab: &Lab, run: &str) -> Result<(), LabError> {
    lab.engine
        .ensure_network(&lab.network(), &lab.name, run)
        .await?;
    for volume in lab.volume_names() {
        // The engine hands out an existing volume of that name: make sure it is ours, in
        // case another lab created it since `require_names_free` looked.
        let made = lab.engine.ensure_volume(&volume, &lab.name, run).await?;
        let wanted = [volume];
        if let Some(taken) = super::names::taken(&lab.name, "volume", &wanted, &[made]) {
            return Err(taken);
        }
    }
    Ok(())
}

async fn start_server(lab: &Lab, run: &str, ca: &X509PopCa) -> Result<(), LabError> {
    let files = [
        FileSpec::public(SERVER_CONF, render::server_conf(&lab.spec)),
        FileSpec::public(X509POP_CA, ca.cert_pem()),
    ];
    lab.start_component(&lab.server_plan(run), &files).await?;
    let server = lab.server();
    wait::until("SPIRE server to report healthy", READY_TIMEOUT, || async {
        if server.healthy().await {
            return Ok(Poll::Ready(()));
        }
        still_running(lab, "server")
            .await
            .map(|()| Poll::Pending("not healthy yet".into()))
    })
    .await
}

async fn start_agent(
    lab: &Lab,
    run: &str,
    agent: &AgentSpec,
    ca: &X509PopCa,
    bundle: &str,
) -> Result<(), LabError> {
    let mut files = vec![FileSpec::public(AGENT_BUNDLE, bundle)];
    files.extend(attestation_files(lab, agent, ca).await?);
    let agent = agent.name.as_str();
    lab.start_component(&lab.agent_plan(run, agent), &files)
        .await?;
    let cli = AgentCli::new(&lab.engine, lab.container(agent));
    wait::until(
        &format!("{agent} to attest and report healthy"),
        READY_TIMEOUT,
        || async {
            if cli.healthy().await? {
                return Ok(Poll::Ready(()));
            }
            still_running(lab, agent)
                .await
                .map(|()| Poll::Pending("not healthy yet".into()))
        },
    )
    .await
}

/// The agent's config, and for x509pop its key and certificate. A join_token agent gets
/// a fresh token, which also creates its node alias entry.
async fn attestation_files(
    lab: &Lab,
    agent: &AgentSpec,
    ca: &X509PopCa,
) -> Result<Vec<FileSpec>, LabError> {
    Ok(match agent.node_attestor {
        NodeAttestor::X509pop => {
            let credentials = ca.issue(&agent.name)?;
            let conf = render::agent_conf(&lab.spec, Attestation::X509pop);
            vec![
                FileSpec::public(AGENT_CONF, conf),
                FileSpec::public(AGENT_CERT, credentials.cert_pem),
                FileSpec::private(AGENT_KEY, credentials.key_pem),
            ]
        }
        NodeAttestor::JoinToken => {
            let alias = lab.spec.node_alias_id(&agent.name);
            let token = lab.server().generate_join_token(&alias).await?;
            let conf = render::agent_conf(&lab.spec, Attestation::JoinToken(&token));
            vec![FileSpec::public(AGENT_CONF, conf)]
        }
    })
}

async fn start_prometheus(lab: &Lab, run: &str) -> Result<(), LabError> {
    let files = [
        FileSpec::public(PROMETHEUS_CONF, render::prometheus_conf(&lab.spec)),
        FileSpec::public(PROMETHEUS_RULES, render::ALERT_RULES),
        FileSpec::public(PROMETHEUS_RULES_README, render::RULES_README),
    ];
    lab.start_component(&lab.prometheus_plan(run), &files).await
}

/// Creates the node alias of every x509pop agent and the entry of every workload, skipping
/// those whose SPIFFE ID already has an entry. A join_token agent's alias is made with its
/// token.
async fn register(lab: &Lab) -> Result<(), LabError> {
    let server = lab.server();
    let existing: Vec<String> = server
        .entries()
        .await?
        .iter()
        .map(|e| e.spiffe_id.to_string())
        .collect();
    let aliases = lab
        .spec
        .agents
        .iter()
        .filter(|a| a.node_attestor == NodeAttestor::X509pop)
        .map(|a| lab.node_alias_entry(&a.name));
    let workloads = lab.spec.workloads.iter().map(|w| lab.workload_entry(w));
    for entry in aliases.chain(workloads) {
        if !existing.contains(&entry.spiffe_id) {
            server.create_entry(&entry).await?;
        }
    }
    Ok(())
}

impl Lab {
    /// The `spire-server` CLI of this lab.
    pub fn server(&self) -> ServerCli<'_> {
        ServerCli::new(&self.engine, self.container("server"))
    }

    /// The registration entry a workload should have: its uid, under its agent's alias.
    pub fn workload_entry(&self, workload: &WorkloadSpec) -> NewEntry {
        NewEntry {
            spiffe_id: self.spec.workload_id(workload),
            parent_id: Some(self.spec.node_alias_id(&workload.agent)),
            selectors: vec![format!("unix:uid:{}", workload.uid)],
            x509_svid_ttl: Some(self.spec.svid_ttl.as_secs()),
        }
    }

    /// The node alias entry an agent should have: its x509pop certificate's common name,
    /// parented to the server.
    pub fn node_alias_entry(&self, agent: &str) -> NewEntry {
        NewEntry {
            spiffe_id: self.spec.node_alias_id(agent),
            parent_id: None,
            selectors: vec![format!("x509pop:subject:cn:{agent}")],
            x509_svid_ttl: None,
        }
    }

    /// Every record the workload's probe has written.
    pub async fn probe_records(&self, workload: &str) -> Result<Vec<Record>, LabError> {
        let log = self.engine.logs(&self.container(workload), None).await?;
        Ok(Record::parse_log(&log))
    }
}

/// The agent's log line (at debug level, SPIRE 1.13) once a workload SVID is in its cache.
const SVID_CACHED: &str = "msg=\"SVID updated\"";

/// Waits until each agent holds its workloads' SVIDs, read from the agent's log, so
/// workloads start without a burst of "no identity issued" (which would raise alerts on
/// a healthy lab). Fetching to find out would itself count as denied fetches.
async fn wait_for_entries(lab: &Lab) -> Result<(), LabError> {
    wait::until(
        "agents to cache the workloads' SVIDs",
        READY_TIMEOUT,
        || async {
            let mut waiting = Vec::new();
            for workload in &lab.spec.workloads {
                let id = format!("spiffe_id=\"{}\"", lab.spec.workload_id(workload));
                let log = lab
                    .engine
                    .logs(&lab.container(&workload.agent), None)
                    .await?;
                if !log
                    .lines()
                    .any(|line| line.contains(SVID_CACHED) && line.contains(&id))
                {
                    waiting.push(workload.name.clone());
                }
            }
            Ok(match waiting.is_empty() {
                true => Poll::Ready(()),
                false => Poll::Pending(format!("no SVID cached yet for {}", waiting.join(", "))),
            })
        },
    )
    .await
}

/// Waits until every workload's probe has reported an SVID.
pub async fn wait_for_svids(lab: &Lab) -> Result<(), LabError> {
    let what = "every workload to hold an SVID";
    wait::until(what, READY_TIMEOUT, || async {
        let mut waiting = Vec::new();
        for workload in &lab.spec.workloads {
            let records = lab.probe_records(&workload.name).await?;
            if !records.iter().any(|r| r.svid().is_some()) {
                waiting.push(workload.name.clone());
            }
        }
        Ok(match waiting.is_empty() {
            true => Poll::Ready(()),
            false => Poll::Pending(format!("waiting for {}", waiting.join(", "))),
        })
    })
    .await
}

/// Fails with the component's log when its container has stopped.
async fn still_running(lab: &Lab, component: &str) -> Result<(), LabError> {
    let containers = lab.engine.list_containers(Some(&lab.name)).await?;
    let running = containers
        .iter()
        .any(|c| c.component == component && c.state == "running");
    if running {
        return Ok(());
    }
    let log = lab
        .engine
        .logs(&lab.container(component), None)
        .await
        .unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(15).collect();
    let log = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
    Err(LabError::ComponentExited {
        component: component.to_string(),
        log,
    })
}

fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{:x}", nanos ^ u128::from(std::process::id()))
}

/// Removes the lab when dropped while armed: on an error or when the future is cancelled.
struct CleanupGuard {
    lab: Option<Lab>,
}

impl CleanupGuard {
    fn new(lab: &Lab) -> Self {
        CleanupGuard {
            lab: Some(lab.clone()),
        }
    }

    fn disarm(mut self) {
        self.lab = None;
    }
}

impl Drop for CleanupGuard {
    fn drop(&mut self) {
        let Some(lab) = self.lab.take() else { return };
        tracing::warn!(lab = %lab.name, "bringing the lab up did not finish; removing it");
        let cleanup = tokio::spawn(async move {
            // A create request sent just before the cancellation can land after the first
            // sweep lists the lab's objects, so sweep again once it has settled.
            let first = down::down(&lab).await;
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            if let Err(error) = first.and(down::down(&lab).await) {
                tracing::error!(lab = %lab.name, %error, "clean-up failed; run `spirelab down`");
            }
        });
        down::track(cleanup);
    }
}
