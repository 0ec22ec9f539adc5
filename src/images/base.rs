//! The Debian base every spirelab image starts from.

use std::process::Stdio;

use bollard::query_parameters::{CreateImageOptions, TagImageOptions};
use futures_util::StreamExt;
use tokio_util::io::ReaderStream;

use super::ImageError;
use crate::engine::{Engine, EngineError};

/// The base image's reference.
pub const BASE_IMAGE: &str = "spirelab/base:bookworm";
/// What is pulled when a registry answers.
const UPSTREAM: (&str, &str) = ("debian", "bookworm-slim");
/// Packages added to the imported base: `ps` and `curl` help learners look around.
const EXTRA_PACKAGES: &str = "procps,curl,ca-certificates";

/// Makes sure [`BASE_IMAGE`] exists: pulled from a registry if one answers, otherwise
/// made from the machine's own apt sources with mmdebstrap and imported.
pub async fn ensure(engine: &Engine) -> Result<(), ImageError> {
    if engine.require_image(BASE_IMAGE).await.is_ok() {
        return Ok(());
    }
    match pull(engine).await {
        Ok(()) => Ok(()),
        Err(reason) => {
            let reason = crate::probe::watch::error_chain(&reason);
            tracing::info!(%reason, "no registry answered; making the base with mmdebstrap");
            import_debootstrapped(engine).await
        }
    }
}

async fn pull(engine: &Engine) -> Result<(), EngineError> {
    let (repo, tag) = UPSTREAM;
    super::pull(engine, &format!("{repo}:{tag}")).await?;
    let (target_repo, target_tag) = BASE_IMAGE.split_once(':').expect("tagged reference");
    let options = TagImageOptions {
        repo: Some(target_repo.into()),
        tag: Some(target_tag.into()),
    };
    engine
        .docker()
        .tag_image(&format!("{repo}:{tag}"), Some(options))
        .await
        .map_err(EngineError::call("tag image", BASE_IMAGE))
}

async fn import_debootstrapped(engine: &Engine) -> Result<(), ImageError> {
    let mut child = tokio::process::Command::new("mmdebstrap")
        .args([
            "--quiet",
            "--variant=minbase",
            &format!("--include={EXTRA_PACKAGES}"),
        ])
        .args(["bookworm", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(ImageError::MmdebstrapMissing)?;
    let stdout = child.stdout.take().expect("piped stdout");
    let (repo, tag) = BASE_IMAGE.split_once(':').expect("tagged reference");
    let options = CreateImageOptions {
        from_src: Some("-".into()),
        repo: Some(repo.into()),
        tag: Some(tag.into()),
        ..Default::default()
    };
    let body = bollard::body_try_stream(ReaderStream::new(stdout));
    let mut stream = engine
        .docker()
        .create_image(Some(options), Some(body), None);
    while let Some(item) = stream.next().await {
        item.map_err(|source| ImageError::Import {
            image: BASE_IMAGE,
            source,
        })?;
    }
    let status = child.wait().await.map_err(ImageError::MmdebstrapMissing)?;
    if !status.success() {
        return Err(ImageError::MmdebstrapFailed { status });
    }
    Ok(())
}
