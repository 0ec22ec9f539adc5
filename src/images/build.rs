//! Component images: the base plus the binaries each component runs.
//!
//! Each image is labelled with a digest of its Dockerfile and files, so a second
//! `spirelab images build` with the same inputs does nothing.

use std::collections::HashMap;
use std::path::PathBuf;

use bollard::query_parameters::BuildImageOptions;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::base::BASE_IMAGE;
use super::{ImageError, ImageSet, inputs};
use crate::engine::{Engine, labels};
use crate::lab::clock::CLOCKSHIFT_BIN;
use crate::lab::paths::{PROBE_BIN, PROMETHEUS_BIN, PROMTOOL_BIN};
use crate::lab::paths::{SPIRE_AGENT_BIN, SPIRE_SERVER_BIN};

/// What goes into one image: a Dockerfile and the files it copies.
pub struct BuildPlan {
    /// The image reference to tag.
    pub image: String,
    /// The Dockerfile's text.
    pub dockerfile: String,
    /// Files by their name in the build context.
    pub files: Vec<(String, PathBuf)>,
}

/// What [`build`] did for one image.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The image was built.
    Built,
    /// An image with the same inputs already existed.
    UpToDate,
    /// The component uses an image spirelab does not build.
    External,
}

/// The build plans for every image spirelab builds itself.
pub fn plans(images: &ImageSet) -> Result<Vec<BuildPlan>, ImageError> {
    let server = inputs::spire_binary("spire-server")?;
    let agent = inputs::spire_binary("spire-agent")?;
    let clockshift = inputs::clockshift_binary()?;
    let probe = inputs::probe_binary()?;
    let prometheus = inputs::prometheus_binary()?;
    let promtool = inputs::promtool_binary()?;
    let copy = |name: &str, to: &str| format!("COPY {name} {to}\n");
    let from = format!("FROM {BASE_IMAGE}\n");
    let mut plans = vec![
        BuildPlan {
            image: images.server.image.clone(),
            dockerfile: format!(
                "{from}{}WORKDIR /opt/spire\n",
                copy("spire-server", SPIRE_SERVER_BIN)
            ),
            files: vec![("spire-server".into(), server)],
        },
        BuildPlan {
            image: images.agent.image.clone(),
            dockerfile: format!(
                "{from}{}{}WORKDIR /opt/spire\n",
                copy("spire-agent", SPIRE_AGENT_BIN),
                copy("clockshift", CLOCKSHIFT_BIN)
            ),
            files: vec![
                ("spire-agent".into(), agent.clone()),
                ("clockshift".into(), clockshift),
            ],
        },
        BuildPlan {
            image: images.workload.image.clone(),
            dockerfile: format!(
                "{from}{}{}",
                copy("spire-agent", SPIRE_AGENT_BIN),
                copy("spirelab-probe", PROBE_BIN)
            ),
            files: vec![
                ("spire-agent".into(), agent),
                ("spirelab-probe".into(), probe),
            ],
        },
        BuildPlan {
            image: images.prometheus.image.clone(),
            dockerfile: format!(
                "{from}{}{}RUN mkdir -p /prometheus\n",
                copy("prometheus", PROMETHEUS_BIN),
                copy("promtool", PROMTOOL_BIN)
            ),
            files: vec![
                ("prometheus".into(), prometheus),
                ("promtool".into(), promtool),
            ],
        },
    ];
    let overridden: Vec<&str> = images
        .all()
        .iter()
        .filter(|c| c.overridden)
        .map(|c| c.image.as_str())
        .collect();
    plans.retain(|plan| !overridden.contains(&plan.image.as_str()));
    Ok(plans)
}

/// Builds `plan`'s image unless one with the same inputs exists.
pub async fn build(engine: &Engine, plan: &BuildPlan) -> Result<Outcome, ImageError> {
    let (context, digest) = context(plan)?;
    if current_digest(engine, &plan.image).await.as_deref() == Some(digest.as_str()) {
        return Ok(Outcome::UpToDate);
    }
    let options = BuildImageOptions {
        dockerfile: "Dockerfile".into(),
        t: Some(plan.image.clone()),
        rm: true,
        forcerm: true,
        labels: Some(HashMap::from([
            (labels::INPUTS.to_string(), digest),
            (labels::TOOL.to_string(), labels::TOOL_NAME.to_string()),
        ])),
        ..Default::default()
    };
    let mut stream =
        engine
            .docker()
            .build_image(options, None, Some(bollard::body_full(context.into())));
    while let Some(item) = stream.next().await {
        let info = item.map_err(|source| ImageError::BuildStream {
            image: plan.image.clone(),
            source,
        })?;
        if let Some(builder_says) = info.error_detail.and_then(|d| d.message) {
            return Err(ImageError::Build {
                image: plan.image.clone(),
                builder_says,
            });
        }
        if let Some(line) = info.stream {
            tracing::debug!(image = %plan.image, "{}", line.trim_end());
        }
    }
    Ok(Outcome::Built)
}

async fn current_digest(engine: &Engine, image: &str) -> Option<String> {
    let inspect = engine.docker().inspect_image(image).await.ok()?;
    inspect.config?.labels?.get(labels::INPUTS).cloned()
}

/// The build context as a tar archive, and a digest of everything in it.
fn context(plan: &BuildPlan) -> Result<(Vec<u8>, String), ImageError> {
    let mut hasher = Sha256::new();
    let mut tar = tar::Builder::new(Vec::new());
    add(
        &mut tar,
        &mut hasher,
        "Dockerfile",
        plan.dockerfile.as_bytes(),
        0o644,
    );
    for (name, path) in &plan.files {
        let read_error = |source| ImageError::Read {
            path: path.display().to_string(),
            source,
        };
        let bytes = std::fs::read(path).map_err(read_error)?;
        add(&mut tar, &mut hasher, name, &bytes, 0o755);
    }
    let archive = tar.into_inner().map_err(|source| ImageError::Read {
        path: "build context".into(),
        source,
    })?;
    Ok((archive, format!("{:x}", hasher.finalize())))
}

fn add(tar: &mut tar::Builder<Vec<u8>>, hasher: &mut Sha256, name: &str, bytes: &[u8], mode: u32) {
    hasher.update(name.as_bytes());
    hasher.update(bytes);
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(mode);
    header.set_cksum();
    tar.append_data(&mut header, name, bytes)
        .expect("writing to memory cannot fail");
}
