//! The alert rules and the Grafana dashboard in `monitoring/` against a live lab: every
//! metric name they read appears in the lab's Prometheus, every dashboard query returns
//! data, and every rule evaluates without error.
//!
//! One lab (`it-monitoring`) serves every check, and is removed at the end whether they pass
//! or not. A healthy lab lacks some series until an event creates them (docs/metrics.md),
//! so the test provokes those events first: Workload API fetches that end (one issued, one
//! denied), probe errors (workload-1's entry broken, then restored), and agent SVID
//! renewals, which only a join_token agent counts (one is added to the lab). Needs the
//! images from `spirelab images build`.

mod common;

use std::collections::BTreeSet;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use serde_json::Value;
use spirelab::engine::Engine;
use spirelab::images::ImageSet;
use spirelab::lab::paths::{PROBE_BIN, SOCKET, SPIRE_AGENT_BIN};
use spirelab::lab::{Lab, down, up};
use spirelab::prometheus::Prometheus;
use spirelab::scenario::{self, Scenario};

use common::{grafana, join_agent, leftovers, rule_health, rules};

const LAB: &str = "it-monitoring";
/// Agent renewals come 21-33 s after attestation; the join_token agent starts after `up`.
const NAMES_TIMEOUT: Duration = Duration::from_secs(120);
/// The "Firing alerts" panel needs an alert past its `for: 1m`.
const PANELS_TIMEOUT: Duration = Duration::from_secs(120);
const RULES_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_secs(2);

#[tokio::test]
async fn alert_rules_and_dashboard_work_on_a_live_lab() {
    let scenario = scenario::resolve("wrong-selector").unwrap().scenario;
    let lab = fresh_lab(&scenario).await;

    let checks = AssertUnwindSafe(run_checks(&lab, &scenario))
        .catch_unwind()
        .await;
    let removed = down::down(&lab).await;
    if let Err(panic) = checks {
        std::panic::resume_unwind(panic);
    }

    removed.expect("down must remove the lab");
    leftovers::assert_nothing_left(&lab.engine, LAB).await;
}

async fn fresh_lab(scenario: &Scenario) -> Lab {
    let engine = Engine::connect()
        .await
        .expect("a Docker engine must be running for this test");
    let lab = Lab::new(LAB, scenario.lab.clone(), ImageSet::from_env(), engine).unwrap();
    down::down(&lab).await.unwrap();
    lab
}

/// Runs the three checks and fails once, with every problem each of them found.
async fn run_checks(lab: &Lab, scenario: &Scenario) {
    up::up(lab).await.expect("the lab must come up");
    let prometheus = Prometheus::of(lab).await.unwrap();

    provoke_events(lab, &prometheus, scenario).await;
    let names = every_name_appears(&prometheus).await;
    spirelab::faults::apply_all(lab, &scenario.solve)
        .await
        .unwrap();

    let rules = every_rule_evaluates(&prometheus).await;
    let panels = every_panel_has_data(&prometheus).await;
    let failures: Vec<String> = [names, rules, panels].into_iter().flatten().collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Creates the series a healthy, freshly started lab does not have yet.
async fn provoke_events(lab: &Lab, prometheus: &Prometheus, scenario: &Scenario) {
    join_agent::start(lab, prometheus).await;

    let fetch = [
        SPIRE_AGENT_BIN,
        "api",
        "fetch",
        "x509",
        "-socketPath",
        SOCKET,
    ];
    let issued = exec_in_workload_1(lab, &fetch, "1001").await;
    assert!(
        issued.success(),
        "fetch as uid 1001 failed: {}",
        issued.combined()
    );
    let denied = exec_in_workload_1(lab, &[PROBE_BIN, "fetch"], "4242").await;
    assert!(
        denied.combined().contains("no_identity"),
        "fetch as uid 4242 was not denied: {}",
        denied.combined()
    );

    spirelab::faults::apply_all(lab, &scenario.break_steps)
        .await
        .unwrap();
}

async fn exec_in_workload_1(
    lab: &Lab,
    cmd: &[&str],
    uid: &str,
) -> spirelab::engine::exec::ExecOutput {
    let container = lab.container("workload-1");
    lab.engine.exec(&container, cmd, Some(uid)).await.unwrap()
}

/// (a) Every SPIRE, probe and `up` name read by the rules or the dashboard is stored.
async fn every_name_appears(prometheus: &Prometheus) -> Option<String> {
    let dashboard = grafana::parse(grafana::DASHBOARD_JSON);
    let exprs: Vec<String> = grafana::targets(&dashboard)
        .into_iter()
        .map(|t| t.expr)
        .collect();
    let needed = rules::used_metric_names(&rules::parse(rules::RULES_YAML), &exprs);
    assert!(needed.len() >= 10, "too few names extracted: {needed:?}");

    let missing = poll(NAMES_TIMEOUT, || async {
        let stored = prometheus.metric_names().await.unwrap();
        let stored: BTreeSet<String> = stored.into_iter().collect();
        needed.difference(&stored).cloned().collect()
    })
    .await;
    let what = format!(
        "metric names used by the rules or the dashboard that never appeared in the live \
         lab's Prometheus within {NAMES_TIMEOUT:?}"
    );
    failure(&missing, needed.len(), &what)
}

/// (b) Every query of every dashboard panel returns at least one series.
async fn every_panel_has_data(prometheus: &Prometheus) -> Option<String> {
    let dashboard = grafana::parse(grafana::DASHBOARD_JSON);
    let targets = grafana::targets(&dashboard);
    let empty = poll(PANELS_TIMEOUT, || {
        empty_targets(prometheus, &dashboard, &targets)
    })
    .await;
    let what = format!("dashboard queries that returned nothing within {PANELS_TIMEOUT:?}");
    failure(&empty, targets.len(), &what)
}

async fn empty_targets(
    prometheus: &Prometheus,
    dashboard: &Value,
    targets: &[grafana::Target],
) -> Vec<String> {
    let mut empty = Vec::new();
    for target in targets {
        let outcome = match grafana::substitute(&target.expr, dashboard) {
            Ok(expr) => match prometheus.query(&expr).await {
                Ok(samples) if samples.is_empty() => Some("no series".to_string()),
                Ok(_) => None,
                Err(error) => Some(format!("query failed: {error}")),
            },
            Err(error) => Some(error),
        };
        empty.extend(outcome.map(|why| format!("{target} ({why})")));
    }
    empty
}

/// (c) Every rule of the rules file is loaded and its last evaluation succeeded.
async fn every_rule_evaluates(prometheus: &Prometheus) -> Option<String> {
    let expected: BTreeSet<String> = rules::parse(rules::RULES_YAML)
        .iter()
        .map(|r| r.name().to_string())
        .collect();
    let problems = poll(RULES_TIMEOUT, || async {
        let loaded = rule_health::rules(prometheus.url()).await;
        let names: BTreeSet<String> = loaded.iter().map(|r| r.name.clone()).collect();
        let missing = expected
            .difference(&names)
            .map(|n| format!("{n}: not loaded"));
        let unhealthy = loaded.iter().filter(|r| r.health != "ok").map(|r| {
            let error = r.last_error.as_deref().unwrap_or("");
            format!("{}: health {} {error}", r.name, r.health)
        });
        missing.chain(unhealthy).collect()
    })
    .await;
    let what = format!("rules that did not evaluate cleanly within {RULES_TIMEOUT:?}");
    failure(&problems, expected.len(), &what)
}

/// A report of the `problems` found among `total` items, one a line, or `None` if none.
fn failure(problems: &[String], total: usize, what: &str) -> Option<String> {
    (!problems.is_empty()).then(|| {
        let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        let count = problems.len();
        format!("{what} ({count} of {total}):\n{}", lines.join("\n"))
    })
}

/// Runs `check` every [`POLL`] until it reports no problems or `timeout` passes; returns
/// the last problems seen.
async fn poll<F, Fut>(timeout: Duration, mut check: F) -> Vec<String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Vec<String>>,
{
    let started = Instant::now();
    loop {
        let problems = check().await;
        if problems.is_empty() || started.elapsed() >= timeout {
            return problems;
        }
        tokio::time::sleep(POLL).await;
    }
}
