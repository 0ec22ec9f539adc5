//! Copying files into containers, so configs and keys never touch the host's disk.

use bollard::query_parameters::UploadToContainerOptions;

use super::{Engine, EngineError};

/// One file to place in a container.
#[derive(Debug, Clone)]
pub struct FileSpec {
    /// Absolute path inside the container.
    pub path: String,
    /// The file's contents.
    pub contents: Vec<u8>,
    /// Unix permission bits.
    pub mode: u32,
}

impl FileSpec {
    /// A file readable by everyone.
    pub fn public(path: &str, contents: impl Into<Vec<u8>>) -> Self {
        FileSpec {
            path: path.to_string(),
            contents: contents.into(),
            mode: 0o644,
        }
    }

    /// A file only its owner (root) can read, for private keys.
    pub fn private(path: &str, contents: impl Into<Vec<u8>>) -> Self {
        FileSpec {
            path: path.to_string(),
            contents: contents.into(),
            mode: 0o600,
        }
    }
}

impl Engine {
    /// Writes `files` into container `name`, created or running, owned by root.
    pub async fn upload_files(&self, name: &str, files: &[FileSpec]) -> Result<(), EngineError> {
        let archive = archive(files).map_err(|source| EngineError::Call {
            action: "pack files for",
            target: name.to_string(),
            source: bollard::errors::Error::IOError { err: source },
        })?;
        let options = UploadToContainerOptions {
            path: "/".into(),
            ..Default::default()
        };
        self.docker()
            .upload_to_container(name, Some(options), bollard::body_full(archive.into()))
            .await
            .map_err(EngineError::call("copy files into container", name))
    }
}

/// A tar archive holding `files` at their absolute paths.
fn archive(files: &[FileSpec]) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for file in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(file.contents.len() as u64);
        header.set_mode(file.mode);
        header.set_mtime(0);
        header.set_cksum();
        builder.append_data(
            &mut header,
            file.path.trim_start_matches('/'),
            &file.contents[..],
        )?;
    }
    builder.into_inner()
}

impl Engine {
    /// Reads one file out of a container.
    pub async fn download_file(&self, name: &str, path: &str) -> Result<Vec<u8>, EngineError> {
        use futures_util::TryStreamExt;
        let options = bollard::query_parameters::DownloadFromContainerOptions {
            path: path.to_string(),
        };
        let chunks: Vec<bytes::Bytes> = self
            .docker()
            .download_from_container(name, Some(options))
            .try_collect()
            .await
            .map_err(EngineError::call("copy a file out of container", name))?;
        let archive: Vec<u8> = chunks.concat();
        first_file(&archive).map_err(|source| EngineError::Call {
            action: "unpack a file from container",
            target: name.to_string(),
            source: bollard::errors::Error::IOError { err: source },
        })
    }
}

/// The contents of the first regular file in a tar archive.
fn first_file(archive: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut reader = tar::Archive::new(archive);
    for entry in reader.entries()? {
        let mut entry = entry?;
        if entry.header().entry_type().is_file() {
            let mut contents = Vec::new();
            entry.read_to_end(&mut contents)?;
            return Ok(contents);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        "the archive holds no file",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_keeps_paths_and_modes() {
        let files = [
            FileSpec::private("/etc/spire/key.pem", "k"),
            FileSpec::public("/a", "b"),
        ];
        let bytes = archive(&files).unwrap();
        let mut reader = tar::Archive::new(&bytes[..]);
        let entries: Vec<(String, u32)> = reader
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().display().to_string(),
                    e.header().mode().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            entries,
            [("etc/spire/key.pem".into(), 0o600), ("a".into(), 0o644)]
        );
    }
}
