//! The images a lab's components run, and how spirelab builds them.
//!
//! Where a registry answers, the base is Debian's image; otherwise it is a minimal Debian
//! root filesystem made with mmdebstrap from the machine's own apt sources and imported
//! ([`base`]). Component images add SPIRE's binaries, Prometheus or the workload probe on
//! top ([`build`]). Users with a registry can point a component at an official image
//! instead (`SPIRELAB_IMAGE_SERVER=ghcr.io/spiffe/spire-server:1.13.3`, ...).

pub mod base;
pub mod build;
pub mod inputs;

use crate::engine::{Engine, EngineError};

/// The SPIRE version spirelab's own images carry.
pub const SPIRE_VERSION: &str = "1.13.3";

/// Failures building images.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// A file that goes into an image is missing.
    #[error("{what} not found at {path}; {hint}")]
    MissingInput {
        /// What the file is.
        what: &'static str,
        /// Where it was looked for.
        path: String,
        /// How to get it.
        hint: &'static str,
    },
    /// A file could not be read.
    #[error("failed to read {path}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// mmdebstrap, which makes the base when no registry answers, could not be run.
    #[error("failed to run mmdebstrap; install it with `apt-get install mmdebstrap`")]
    MmdebstrapMissing(#[source] std::io::Error),
    /// mmdebstrap ran but did not make a root filesystem.
    #[error("mmdebstrap failed ({status}); its messages are above")]
    MmdebstrapFailed {
        /// How it exited.
        status: std::process::ExitStatus,
    },
    /// The engine did not take the root filesystem mmdebstrap made.
    #[error("failed to import the Debian root filesystem as {image}")]
    Import {
        /// The image being made.
        image: &'static str,
        /// What the engine said.
        #[source]
        source: bollard::errors::Error,
    },
    /// The build stream broke off.
    #[error("failed to build {image}")]
    BuildStream {
        /// The image.
        image: String,
        /// What the engine said.
        #[source]
        source: bollard::errors::Error,
    },
    /// A Dockerfile step failed; the builder's own words are the only detail there is.
    #[error("failed to build {image}: the builder reported: {builder_says}")]
    Build {
        /// The image.
        image: String,
        /// What the builder said.
        builder_says: String,
    },
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Pulls `reference` (`repo:tag`) from its registry.
pub async fn pull(engine: &Engine, reference: &str) -> Result<(), EngineError> {
    use futures_util::StreamExt;
    let (repo, tag) = reference.rsplit_once(':').unwrap_or((reference, "latest"));
    let options = bollard::query_parameters::CreateImageOptions {
        from_image: Some(repo.into()),
        tag: Some(tag.into()),
        ..Default::default()
    };
    let mut stream = engine.docker().create_image(Some(options), None, None);
    while let Some(item) = stream.next().await {
        item.map_err(EngineError::call("pull image", reference))?;
    }
    Ok(())
}

/// One component's image.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentImage {
    /// The component kind: server, agent, workload, prometheus or grafana.
    pub component: &'static str,
    /// The image reference.
    pub image: String,
    /// True when the reference came from a `SPIRELAB_IMAGE_*` variable.
    pub overridden: bool,
}

/// The image each kind of component runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    /// The SPIRE server.
    pub server: ComponentImage,
    /// The SPIRE agents.
    pub agent: ComponentImage,
    /// The workloads (the probe, plus the spire-agent CLI for learners).
    pub workload: ComponentImage,
    /// Prometheus.
    pub prometheus: ComponentImage,
    /// Grafana, only ever an official image.
    pub grafana: ComponentImage,
}

impl ImageSet {
    /// spirelab's own images, unless a `SPIRELAB_IMAGE_<COMPONENT>` variable names another.
    pub fn from_env() -> Self {
        let pick = |component: &'static str, own: String| {
            let var = format!("SPIRELAB_IMAGE_{}", component.to_uppercase());
            match std::env::var(var) {
                Ok(image) if !image.is_empty() => ComponentImage {
                    component,
                    image,
                    overridden: true,
                },
                _ => ComponentImage {
                    component,
                    image: own,
                    overridden: false,
                },
            }
        };
        ImageSet {
            server: pick("server", format!("spirelab/spire-server:{SPIRE_VERSION}")),
            agent: pick("agent", format!("spirelab/spire-agent:{SPIRE_VERSION}")),
            workload: pick(
                "workload",
                format!("spirelab/workload:{}", env!("CARGO_PKG_VERSION")),
            ),
            prometheus: pick("prometheus", "spirelab/prometheus:local".into()),
            grafana: pick("grafana", "grafana/grafana:11.3.0".into()),
        }
    }

    /// All components' images, in a fixed order.
    pub fn all(&self) -> [&ComponentImage; 5] {
        [
            &self.server,
            &self.agent,
            &self.workload,
            &self.prometheus,
            &self.grafana,
        ]
    }

    /// The images a lab cannot start without (Grafana is optional).
    pub fn required(&self) -> [&ComponentImage; 4] {
        [&self.server, &self.agent, &self.workload, &self.prometheus]
    }

    /// Fails naming the first required image that is not present, and how to get it.
    pub async fn require(&self, engine: &Engine) -> Result<(), EngineError> {
        for image in self.required() {
            engine
                .require_image(&image.image)
                .await
                .map_err(|error| image.explain(error))?;
        }
        Ok(())
    }
}

impl ComponentImage {
    /// The variable that overrides this component's image.
    pub fn variable(&self) -> String {
        format!("SPIRELAB_IMAGE_{}", self.component.to_uppercase())
    }

    /// A missing overridden image cannot be built by spirelab: say so, and name the
    /// variable it came from.
    fn explain(&self, error: EngineError) -> EngineError {
        match error {
            EngineError::MissingImage { image, .. } if self.overridden => {
                EngineError::MissingImage {
                    remedy: format!(
                        "it comes from {}: pull it (`docker pull {image}`) or unset the variable",
                        self.variable()
                    ),
                    image,
                }
            }
            other => other,
        }
    }
}
