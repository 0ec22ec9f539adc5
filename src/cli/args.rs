//! The command line, as clap parses it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::report::Format;

/// spirelab: hands-on SPIRE operations labs on real SPIRE, Docker and Prometheus.
#[derive(Debug, Parser)]
#[command(
    name = "spirelab",
    version,
    about = "Hands-on SPIRE operations labs: run real SPIRE in Docker, break it, grade the fix",
    long_about = "spirelab starts a real SPIRE deployment in Docker (a server, two agents \
attested with x509pop or join tokens, two workloads watching the Workload API, Prometheus), \
breaks it on purpose, and grades whether your fix restored SVID rotation without weakening \
identity.",
    after_help = "A learner's session:
  make images                        build SPIRE, spirelab and the images once
  spirelab up                        start the lab and wait until every workload has an SVID
  spirelab break wrong-selector      break it; the output says what you will observe
  spirelab status                    components, SPIFFE IDs, serials, rotations
  spirelab hint                      a hint, more explicit each time
  spirelab grade                     grade your fix (exit 0 when it passes)
  spirelab down                      remove the lab

Run a whole scenario unattended (CI, instructors checking a scenario):
  spirelab run scenarios/wrong-selector.yaml

Exit codes: 0 success; 1 a grade, run or break did not pass; 2 bad input (arguments,
scenario file, lab name, a lab in the wrong state or busy); 3 environment (no Docker
engine, missing image or binary, port in use); 4 the lab failed (a component did not
start, a wait timed out, a SPIRE command failed); 130 interrupted."
)]
pub struct Cli {
    /// The lab to act on; several labs can run side by side.
    #[arg(long, global = true, env = "SPIRELAB_LAB", default_value = crate::report::DEFAULT_LAB)]
    pub lab: String,
    /// Output format for results.
    #[arg(long, global = true, value_enum, default_value = "table")]
    pub format: Format,
    /// More logging on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// spirelab's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a lab and wait until every workload holds an SVID (harmless if it runs).
    Up {
        /// Shape the lab as this scenario needs (a built-in name or a file).
        #[arg(long)]
        scenario: Option<String>,
        /// Also start Grafana with spirelab's dashboard, where its official image can be
        /// pulled (the dashboard JSON is written for import by hand either way).
        #[arg(long)]
        grafana: bool,
    },
    /// Remove every container, network and volume of the lab.
    Down {
        /// Remove every spirelab lab on this engine.
        #[arg(long)]
        all: bool,
    },
    /// Show each component's state and each workload's SVID and rotations.
    Status,
    /// Break the running lab with a scenario's fault and confirm the symptoms (waits up to
    /// the scenario's bound, often a minute or two, for them to show).
    Break {
        /// A built-in scenario name (see `spirelab list`) or a scenario file.
        scenario: String,
    },
    /// Show the next hint for the scenario the lab is broken with.
    Hint,
    /// Apply the scenario's reference fix.
    Solve {
        /// The scenario; defaults to the one the lab was broken with.
        scenario: Option<String>,
    },
    /// Grade the fix: identity, chain, rotation and integrity checks with points (waits up
    /// to each check's bound unless --no-wait: about a minute for a due rotation, an
    /// alert's `within`, 3 minutes by default).
    Grade {
        /// The scenario; defaults to the one the lab was broken with.
        scenario: Option<String>,
        /// Judge on what was seen so far instead of waiting for a due rotation.
        #[arg(long)]
        no_wait: bool,
    },
    /// Run scenarios end to end, each on a fresh lab: up, break, confirm, grade (expect
    /// failure), solve, grade (expect a pass), down.
    Run {
        /// Scenario names or files.
        #[arg(required = true)]
        scenarios: Vec<String>,
        /// Leave the lab running at the end.
        #[arg(long)]
        keep: bool,
        /// Also try each scenario's wrong fixes, each on a fresh lab, and check the grade
        /// catches them with a hint.
        #[arg(long)]
        wrong_fixes: bool,
    },
    /// Show each agent's clock the way you would check a host's NTP offset, or set one.
    Clock {
        /// Without a subcommand, show every agent's clock.
        #[command(subcommand)]
        action: Option<ClockCommand>,
    },
    /// Read or change a SPIRE config file (server.conf or an agent's agent.conf), as an
    /// operator editing it on the node would.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// List the built-in scenarios and those in a directory.
    List {
        /// Also list the scenario files in this directory.
        #[arg(long, default_value = "scenarios")]
        dir: PathBuf,
    },
    /// Scenario files: validate them.
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// Your own Prometheus rules: load a file into the lab's Prometheus.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Images: build them, or show which image each component uses.
    #[command(subcommand)]
    Images(ImagesCommand),
}

/// `spirelab scenario ...`
#[derive(Debug, Subcommand)]
pub enum ScenarioCommand {
    /// Validate scenario files without starting anything; errors give file:line:column.
    Check {
        /// The files.
        #[arg(required = true)]
        files: Vec<String>,
    },
}

/// `spirelab clock ...`
#[derive(Debug, Subcommand)]
pub enum ClockCommand {
    /// Set an agent's clock offset from the true time, as fixing NTP on its host would
    /// (`0` puts it right). It applies within a second; the agent keeps running.
    #[command(after_help = "Examples:\n  spirelab clock set agent-1 0\n  \
                            spirelab clock set agent-2 -10m")]
    Set {
        /// The agent, such as agent-1.
        agent: String,
        /// Signed offset: 0, +15m, -10m, +90s.
        #[arg(allow_hyphen_values = true)]
        offset: String,
    },
}

/// `spirelab config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the component's SPIRE config file.
    #[command(after_help = "Example:\n  spirelab config show agent-1")]
    Show {
        /// `server` or an agent, such as agent-1.
        component: String,
    },
    /// Set keys of the `server` or `agent` block and restart the component; works while
    /// it is stopped or restarting too.
    #[command(
        after_help = "Examples:\n  spirelab config set agent-1 join_token=<TOKEN>\n  \
                            spirelab config set server log_level=INFO"
    )]
    Set {
        /// `server` or an agent, such as agent-1.
        component: String,
        /// KEY=VALUE pairs, such as join_token=6d1e1f0c-....
        #[arg(required = true)]
        assignments: Vec<String>,
    },
}

/// `spirelab rules ...`
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Check a rules file with promtool inside the lab's Prometheus, copy it into
    /// /etc/prometheus/rules.d/, reload Prometheus and wait until its groups evaluate
    /// cleanly. A file of the same name replaces the one loaded before.
    Load {
        /// The rules file, such as my-rules.yml.
        file: String,
    },
}

/// `spirelab images ...`
#[derive(Debug, Subcommand)]
pub enum ImagesCommand {
    /// Build the base and component images (skips those already up to date).
    Build,
    /// Show the image each component uses and whether it is present.
    List,
}
