//! `spirelab config show|set` through the real binary, on a real lab: a key set on an
//! agent lands in its agent.conf, the agent restarts with it and attests again, and bad
//! input is refused with exit 2 before anything changes.
//!
//! Needs the images from `spirelab images build`; `make test` builds them first.

#[path = "common/leftovers.rs"]
mod leftovers;

use std::process::{Command, Output};
use std::time::Duration;

use spirelab::engine::Engine;
use spirelab::images::ImageSet;
use spirelab::lab::{Lab, LabSpec, down, up};
use spirelab::spire::AgentCli;

const LAB: &str = "it-config";

fn spirelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spirelab"))
        .args(["--lab", LAB])
        .args(args)
        .output()
        .expect("the spirelab binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn config_set_changes_the_agents_file_and_the_agent_comes_back() {
    let engine = Engine::connect()
        .await
        .expect("a Docker engine must be running for this test");
    let lab = Lab::new(LAB, LabSpec::default(), ImageSet::from_env(), engine).unwrap();
    down::down(&lab).await.unwrap();
    up::up(&lab).await.unwrap();

    let shown = spirelab(&["config", "show", "agent-1"]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    assert!(
        stdout(&shown).contains("log_level = \"DEBUG\""),
        "{}",
        stdout(&shown)
    );
    assert!(stdout(&shown).contains("NodeAttestor \"x509pop\""));

    let set = spirelab(&["config", "set", "agent-1", "log_level=INFO"]);
    assert!(set.status.success(), "{}", stderr(&set));
    assert_eq!(
        stdout(&set).trim(),
        "set log_level in agent-1's /etc/spire/agent.conf and restarted it"
    );
    let shown = stdout(&spirelab(&["config", "show", "agent-1"]));
    assert!(shown.contains("    log_level = \"INFO\"\n"), "{shown}");
    assert!(!shown.contains("DEBUG"), "{shown}");
    wait_healthy(&lab, "agent-1").await;

    let workload = spirelab(&["config", "set", "workload-1", "log_level=INFO"]);
    assert_eq!(workload.status.code(), Some(2), "{}", stderr(&workload));
    assert!(
        stderr(&workload).contains("\"workload-1\" has no SPIRE config; choose server or an agent"),
        "{}",
        stderr(&workload)
    );
    let malformed = spirelab(&["config", "set", "agent-1", "LogLevel"]);
    assert_eq!(malformed.status.code(), Some(2), "{}", stderr(&malformed));
    assert!(stderr(&malformed).contains("is not KEY=VALUE"));
    let unchanged = stdout(&spirelab(&["config", "show", "agent-1"]));
    assert_eq!(unchanged, shown, "a refused set changed the file");

    down::down(&lab).await.unwrap();
    leftovers::assert_nothing_left(&lab.engine, &lab.name).await;
}

async fn wait_healthy(lab: &Lab, agent: &str) {
    let cli = AgentCli::new(&lab.engine, lab.container(agent));
    for _ in 0..60 {
        if cli.healthy().await.unwrap_or(false) {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    panic!("{agent} did not report healthy within 60 s of its restart");
}
