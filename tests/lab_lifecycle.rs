//! End to end against a real Docker engine and real SPIRE: a lab comes up, every workload's
//! SVID rotates, the wrong-selector fault breaks it, the grade fails, the reference fix
//! makes it pass, and `down` leaves nothing with the lab's labels behind; two labs run side
//! by side without touching each other.
//!
//! Needs the images from `spirelab images build`; `make test` builds them first.

#[path = "common/leftovers.rs"]
mod leftovers;

use std::time::Duration;

use spirelab::engine::Engine;
use spirelab::grader::{self, GradeOptions};
use spirelab::images::ImageSet;
use spirelab::lab::{Lab, down, status, up};
use spirelab::scenario::{self, runner};

async fn lab(name: &str, spec: spirelab::lab::LabSpec) -> Lab {
    let engine = Engine::connect()
        .await
        .expect("a Docker engine must be running for this test");
    let lab = Lab::new(name, spec, ImageSet::from_env(), engine).unwrap();
    down::down(&lab).await.unwrap();
    lab
}

/// Waits until every workload's probe has seen `rotations` rotations.
async fn wait_for_rotations(lab: &Lab, rotations: usize, limit: Duration) {
    let started = std::time::Instant::now();
    loop {
        let state = status::status(lab).await.unwrap();
        let counts: Vec<usize> = state.workloads.iter().map(|w| w.rotations).collect();
        if counts.iter().all(|&n| n >= rotations) {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "rotations per workload after {limit:?}: {counts:?}"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

#[tokio::test]
async fn wrong_selector_breaks_rotation_and_the_reference_fix_restores_it() {
    let loaded = scenario::resolve("wrong-selector").unwrap();
    let scenario = &loaded.scenario;
    let lab = lab("it-lifecycle", scenario.lab.clone()).await;

    assert_eq!(
        up::up(&lab).await.unwrap(),
        up::UpOutcome::Started {
            run: run_of(&lab).await
        }
    );
    assert_eq!(
        up::up(&lab).await.unwrap(),
        up::UpOutcome::AlreadyUp,
        "a second up must be harmless"
    );
    wait_for_rotations(&lab, 2, Duration::from_secs(150)).await;

    let broken = runner::break_lab(&lab, &loaded).await.unwrap();
    assert!(broken.confirmed, "symptoms not seen: {:?}", broken.symptoms);

    let before = GradeOptions {
        since: Some(broken.broken_at),
        wait: false,
    };
    let report = grader::grade(&lab, &scenario.name, &scenario.grade, before).await;
    assert!(!report.passed, "grade passed while broken: {report:?}");
    let failed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.check.as_str())
        .collect();
    assert_eq!(failed, ["svid", "rotation", "entry_pinned"]);

    spirelab::faults::apply_all(&lab, &scenario.solve)
        .await
        .unwrap();
    let after = GradeOptions {
        since: Some(broken.broken_at),
        wait: true,
    };
    let report = grader::grade(&lab, &scenario.name, &scenario.grade, after).await;
    assert!(
        report.passed,
        "grade failed after the reference fix: {report:#?}"
    );
    assert_eq!(report.score, report.max_score);

    let removed = down::down(&lab).await.unwrap();
    assert_eq!(removed.containers.len(), 6, "{removed:?}");
    leftovers::assert_nothing_left(&lab.engine, &lab.name).await;
}

async fn run_of(lab: &Lab) -> String {
    let containers = lab.engine.list_containers(Some(&lab.name)).await.unwrap();
    containers[0].labels[spirelab::engine::labels::RUN].clone()
}

/// Two labs side by side: breaking one leaves the other's grade passing, a third lab whose
/// container names would take the first's is refused before it creates anything, and
/// removing one lab leaves the other whole.
#[tokio::test]
async fn two_labs_run_side_by_side_without_touching_each_other() {
    let loaded = scenario::resolve("wrong-selector").unwrap();
    let scenario = &loaded.scenario;
    let a = lab("it-pair", scenario.lab.clone()).await;
    let b = lab("it-pair-b", scenario.lab.clone()).await;
    let (up_a, up_b) = tokio::join!(up::up(&a), up::up(&b));
    up_a.unwrap();
    up_b.unwrap();

    let broken = runner::break_lab(&a, &loaded).await.unwrap();
    assert!(broken.confirmed, "symptoms not seen: {:?}", broken.symptoms);
    let integrity: Vec<_> = scenario
        .grade
        .iter()
        .filter(|c| c.kind() != "rotation")
        .cloned()
        .collect();
    let now = GradeOptions {
        since: Some(broken.broken_at),
        wait: false,
    };
    let report = grader::grade(&a, &scenario.name, &integrity, now).await;
    assert!(!report.passed, "lab it-pair graded as fixed: {report:#?}");
    let report = grader::grade(&b, &scenario.name, &integrity, now).await;
    assert!(
        report.passed,
        "breaking it-pair broke it-pair-b: {report:#?}"
    );

    let mut spec = spirelab::lab::LabSpec::default();
    spec.agents.truncate(1);
    spec.agents[0].name = "1".into();
    spec.workloads.truncate(1);
    spec.workloads[0].agent = "1".into();
    let clash = lab("it-pair-agent", spec).await;
    let error = up::up(&clash).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "container spirelab-it-pair-agent-1 belongs to lab it-pair; choose another lab name"
    );
    leftovers::assert_nothing_left(&clash.engine, &clash.name).await;

    down::down(&a).await.unwrap();
    leftovers::assert_nothing_left(&a.engine, &a.name).await;
    b.require_whole().await.unwrap();
    let report = grader::grade(&b, &scenario.name, &integrity, now).await;
    assert!(
        report.passed,
        "removing it-pair broke it-pair-b: {report:#?}"
    );

    down::down(&b).await.unwrap();
    leftovers::assert_nothing_left(&b.engine, &b.name).await;
}
