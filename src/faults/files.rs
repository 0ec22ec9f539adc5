//! Copying and writing files in a component's container through Docker's archive API, so
//! they work while the container is stopped: what an operator does on a host's disk with
//! the service down, such as taking a backup of a datastore or restoring one.

use super::FaultError;
use crate::engine::files::FileSpec;
use crate::lab::Lab;
use crate::scenario::model::{CopyFile, WriteFile};

/// Copies `from` to `to` inside the container; the copy is readable by root only, as
/// datastores and keys are.
pub async fn copy(lab: &Lab, step: &CopyFile) -> Result<(), FaultError> {
    let container = lab.container(&step.component.value);
    let contents = lab
        .engine
        .download_file(&container, &step.from.value)
        .await?;
    let copy = FileSpec::private(&step.to.value, contents);
    lab.engine.upload_files(&container, &[copy]).await?;
    Ok(())
}

/// Writes the step's contents to its path inside the container, readable by root only.
pub async fn write(lab: &Lab, step: &WriteFile) -> Result<(), FaultError> {
    let container = lab.container(&step.component.value);
    let file = FileSpec::private(&step.path.value, step.contents.as_bytes());
    lab.engine.upload_files(&container, &[file]).await?;
    Ok(())
}
