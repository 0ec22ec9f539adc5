//! End to end against a real Docker engine and real SPIRE: a lab comes up, every workload's
//! SVID rotates, the wrong-selector fault breaks it, the grade fails, the reference fix
//! makes it pass, and `down` leaves nothing with the lab's labels behind.
//!
//! Needs the images from `spirelab images build`; `make test` builds them first.

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
    assert_nothing_left(&lab).await;
}

async fn run_of(lab: &Lab) -> String {
    let containers = lab.engine.list_containers(Some(&lab.name)).await.unwrap();
    containers[0].labels[spirelab::engine::labels::RUN].clone()
}

async fn assert_nothing_left(lab: &Lab) {
    let engine = &lab.engine;
    assert!(
        engine
            .list_containers(Some(&lab.name))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        engine
            .list_networks(Some(&lab.name))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        engine
            .list_volumes(Some(&lab.name))
            .await
            .unwrap()
            .is_empty()
    );
}
