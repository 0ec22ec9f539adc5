//! Running commands inside containers and reading their logs.

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::query_parameters::LogsOptions;
use futures_util::StreamExt;

use super::{Engine, EngineError};

/// How long a command run in a container may take.
pub const EXEC_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// What a command run with [`Engine::exec`] printed, and how it ended.
#[derive(Debug, Clone)]
pub struct ExecOutput {
    /// The exit code; `None` if the engine did not report one.
    pub exit_code: Option<i64>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl ExecOutput {
    /// True when the command exited 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// Standard output and standard error together, for error messages and evidence.
    pub fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr).trim().to_string()
    }
}

impl Engine {
    /// Runs `cmd` in the running container `name`, as `user` when given, and collects its
    /// output. A non-zero exit is not an error here: callers decide what it means. A
    /// command that runs longer than [`EXEC_TIMEOUT`] fails, so a paused component cannot
    /// hang spirelab.
    pub async fn exec(
        &self,
        name: &str,
        cmd: &[&str],
        user: Option<&str>,
    ) -> Result<ExecOutput, EngineError> {
        let run = self.exec_unbounded(name, cmd, user);
        tokio::time::timeout(EXEC_TIMEOUT, run)
            .await
            .unwrap_or_else(|_| {
                Err(EngineError::ExecTimeout {
                    container: name.to_string(),
                    command: cmd.join(" "),
                    seconds: EXEC_TIMEOUT.as_secs(),
                })
            })
    }

    async fn exec_unbounded(
        &self,
        name: &str,
        cmd: &[&str],
        user: Option<&str>,
    ) -> Result<ExecOutput, EngineError> {
        let options = CreateExecOptions {
            cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
            user: user.map(str::to_string),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let docker = self.docker();
        let created = docker
            .create_exec(name, options)
            .await
            .map_err(EngineError::call("exec in container", name))?;
        let started = docker
            .start_exec(&created.id, None)
            .await
            .map_err(EngineError::call("exec in container", name))?;
        let (stdout, stderr) = match started {
            StartExecResults::Attached { output, .. } => collect(output).await,
            StartExecResults::Detached => (String::new(), String::new()),
        };
        let inspect = docker
            .inspect_exec(&created.id)
            .await
            .map_err(EngineError::call("inspect exec in container", name))?;
        Ok(ExecOutput {
            exit_code: inspect.exit_code,
            stdout,
            stderr,
        })
    }

    /// The container's log so far (stdout and stderr interleaved), optionally only the
    /// lines written since `since_unix` seconds.
    pub async fn logs(&self, name: &str, since_unix: Option<i64>) -> Result<String, EngineError> {
        let options = LogsOptions {
            stdout: true,
            stderr: true,
            since: since_unix.unwrap_or(0) as i32,
            tail: "all".into(),
            ..Default::default()
        };
        let stream = self.docker().logs(name, Some(options));
        let mut text = String::new();
        let mut stream = Box::pin(stream);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(EngineError::call("read logs of", name))?;
            text.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
        }
        Ok(text)
    }
}

async fn collect(
    mut output: std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>,
    >,
) -> (String, String) {
    let (mut stdout, mut stderr) = (String::new(), String::new());
    while let Some(Ok(chunk)) = output.next().await {
        match chunk {
            LogOutput::StdErr { message } => stderr.push_str(&String::from_utf8_lossy(&message)),
            other => stdout.push_str(&String::from_utf8_lossy(&other.into_bytes())),
        }
    }
    (stdout, stderr)
}
