//! The Docker engine, as spirelab uses it: containers, networks, volumes, exec and files.
//!
//! Everything here is lab-agnostic plumbing over bollard. It must not know about SPIRE: the
//! lab module decides what to run, this module only runs it and labels what it creates so
//! that every leftover can be found again (see [`labels`]).

pub mod container;
pub mod exec;
pub mod files;
pub mod inspect;
pub mod labels;
pub mod network;

use bollard::Docker;

/// Failures talking to the Docker engine, one variant per operation.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No engine answered on the configured socket.
    #[error(
        "cannot reach a Docker engine (DOCKER_HOST or /var/run/docker.sock); start one, \
         for example with scripts/install-docker.sh"
    )]
    Unreachable(#[source] bollard::errors::Error),
    /// An image a component needs is not present locally.
    #[error("image {image} is not present; {remedy}")]
    MissingImage {
        /// The missing image reference.
        image: String,
        /// How to get it.
        remedy: String,
    },
    /// An image reference the engine cannot parse.
    #[error("{image:?} is not a valid image reference (expected repository:tag)")]
    BadImageReference {
        /// The reference as given.
        image: String,
    },
    /// A command run in a container did not finish in time (a paused or hung component).
    #[error("`{command}` in {container} did not finish within {seconds}s")]
    ExecTimeout {
        /// The container.
        container: String,
        /// The command line.
        command: String,
        /// The limit.
        seconds: u64,
    },
    /// A host port could not be bound.
    #[error("failed to start {container}: a host port it publishes is in use")]
    PortInUse {
        /// The container that could not start.
        container: String,
        /// What the engine said.
        #[source]
        source: bollard::errors::Error,
    },
    /// Any other engine call failed.
    #[error("failed to {action} {target}")]
    Call {
        /// What was being done, such as "create container".
        action: &'static str,
        /// The container, network, volume or image it was done to.
        target: String,
        /// What the engine said.
        #[source]
        source: bollard::errors::Error,
    },
}

impl EngineError {
    /// Wraps an engine error with the operation and its target.
    pub fn call(action: &'static str, target: &str) -> impl FnOnce(bollard::errors::Error) -> Self {
        let target = target.to_string();
        move |source| EngineError::Call {
            action,
            target,
            source,
        }
    }
}

/// A connection to the Docker engine.
#[derive(Clone)]
pub struct Engine {
    docker: Docker,
}

impl Engine {
    /// Connects to the engine named by `DOCKER_HOST`, or the local default socket, and
    /// settles on an API version both sides speak.
    pub async fn connect() -> Result<Self, EngineError> {
        let docker = Docker::connect_with_defaults().map_err(EngineError::Unreachable)?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(EngineError::Unreachable)?;
        docker.ping().await.map_err(EngineError::Unreachable)?;
        Ok(Engine { docker })
    }

    /// The underlying bollard client, for the operations this module does not wrap.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }
}

/// True when the engine reported "404 not found" for the object asked about.
pub fn is_not_found(error: &bollard::errors::Error) -> bool {
    matches!(
        error,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}
