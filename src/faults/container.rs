//! Steps on a component's container as a whole: stop, start, restart, pause, unpause,
//! and cutting it off the lab's network or putting it back.

use super::FaultError;
use crate::lab::Lab;
use crate::scenario::Step;

/// Applies a container step; other steps are not handled here.
pub async fn apply(lab: &Lab, step: &Step) -> Result<(), FaultError> {
    let engine = &lab.engine;
    match step {
        Step::Stop(c) => {
            engine
                .stop_container(&lab.container(&c.component.value), 10)
                .await?
        }
        Step::Start(c) => {
            engine
                .start_container(&lab.container(&c.component.value))
                .await?
        }
        Step::Restart(c) => {
            engine
                .restart_container(&lab.container(&c.component.value))
                .await?
        }
        Step::Pause(c) => {
            engine
                .pause_container(&lab.container(&c.component.value))
                .await?
        }
        Step::Unpause(c) => {
            engine
                .unpause_container(&lab.container(&c.component.value))
                .await?
        }
        Step::Disconnect(c) => {
            engine
                .disconnect_network(&lab.network(), &lab.container(&c.component.value))
                .await?
        }
        Step::Connect(c) => {
            let name = &c.component.value;
            engine
                .connect_network(&lab.network(), &lab.container(name), name)
                .await?
        }
        other => unreachable!("not a container step: {other:?}"),
    }
    Ok(())
}
