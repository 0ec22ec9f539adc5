//! Fault steps: the building blocks that break a lab and fix it again.
//!
//! Each kind of step lives in its own file; [`apply`] is the one place they are
//! dispatched from. Steps change the lab only through Docker and SPIRE's CLIs, the same
//! way a learner could, and never grade anything.

pub mod clock;
pub mod config;
pub mod container;
pub mod entry;
pub mod exec;
pub mod files;
pub mod join_token;
pub mod recreate;
pub mod rules;
pub mod wait;

use crate::lab::{Lab, LabError};
use crate::scenario::Step;
use crate::spire::SpireError;

/// Failures applying a step.
#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    /// No registration entry issues the SPIFFE ID an entry step changes.
    #[error("no registration entry issues {spiffe_id}, {what}")]
    NoEntry {
        /// The SPIFFE ID.
        spiffe_id: String,
        /// Whose ID it is, such as `the node alias of agent agent-1`.
        what: String,
    },
    /// An entry step needs a value of an agent the server does not list.
    #[error(
        "agent {agent} is not attested: the server lists no agent with \
         x509pop:subject:cn:{agent}"
    )]
    NotAttested {
        /// The agent.
        agent: String,
    },
    /// An entry step takes an agent's selectors, and the agent has none with the prefix.
    #[error("agent {agent} has no selector starting with {prefix:?}; the server lists [{held}]")]
    NoAgentSelector {
        /// The agent.
        agent: String,
        /// The prefix asked for.
        prefix: String,
        /// The selectors it has.
        held: String,
    },
    /// A command run by an `exec` step failed.
    #[error("`{command}` failed in {component} (exit {code:?}): {output}")]
    Exec {
        /// The component.
        component: String,
        /// The command line.
        command: String,
        /// Its exit code.
        code: Option<i64>,
        /// What it printed.
        output: String,
    },
    /// A config file has no block the key could go in.
    #[error("{file} in {component} has no `{block} {{` block")]
    NoConfigBlock {
        /// The component.
        component: String,
        /// The file.
        file: String,
        /// The block looked for.
        block: String,
    },
    /// A `wait_for` condition did not come true.
    #[error("{check} did not pass within {within:?}: {evidence}")]
    WaitFor {
        /// The check's kind and subject.
        check: String,
        /// The bound.
        within: std::time::Duration,
        /// What it saw last.
        evidence: String,
    },
    /// A join_token agent did not attest with the token a `join_token` step gave it.
    #[error(
        "{agent} did not attest as {node} within {waited:?}: an agent still holding an SVID \
         from an earlier token keeps using it until that node is evicted or its data \
         directory is emptied"
    )]
    NotRejoined {
        /// The agent.
        agent: String,
        /// The node its new token gives.
        node: String,
        /// How long it was given.
        waited: std::time::Duration,
    },
    /// A SPIRE CLI call failed.
    #[error("a SPIRE command failed")]
    Spire(#[from] SpireError),
    /// A rules file could not be loaded into the lab's Prometheus.
    #[error("failed to load a rules file into Prometheus")]
    Rules(#[from] crate::prometheus::rules::RulesError),
    /// A lab operation failed.
    #[error(transparent)]
    Lab(#[from] LabError),
}

impl From<crate::engine::EngineError> for FaultError {
    fn from(error: crate::engine::EngineError) -> Self {
        FaultError::Lab(LabError::Engine(error))
    }
}

/// Applies one step to `lab`.
pub async fn apply(lab: &Lab, step: &Step) -> Result<(), FaultError> {
    tracing::info!(lab = %lab.name, ?step, "applying step");
    match step {
        Step::EntryCreate(create) => entry::create(lab, create).await,
        Step::EntryUpdate(update) => entry::update(lab, update).await,
        Step::EntryRestore(step) => entry::restore(lab, &step.target).await,
        Step::EntryDelete(step) => entry::delete(lab, &step.target).await,
        Step::Recreate(recreate) => recreate::recreate(lab, recreate).await,
        Step::Exec(exec) => exec::exec(lab, exec).await,
        Step::CopyFile(copy) => files::copy(lab, copy).await,
        Step::WriteFile(write) => files::write(lab, write).await,
        Step::Clock(clock) => clock::set(lab, clock).await,
        Step::Config(config) => config::set(lab, config).await,
        Step::JoinToken(step) => join_token::rejoin(lab, step).await,
        Step::Wait(duration) => {
            tokio::time::sleep(duration.value).await;
            Ok(())
        }
        Step::WaitFor(wait_for) => wait::wait_for(lab, wait_for).await,
        Step::Rules(step) => rules::load(lab, step).await,
        other => container::apply(lab, other).await,
    }
}

/// Applies `steps` in order, stopping at the first failure.
pub async fn apply_all(lab: &Lab, steps: &[Step]) -> Result<(), FaultError> {
    for step in steps {
        Box::pin(apply(lab, step)).await?;
    }
    Ok(())
}
