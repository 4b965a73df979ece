//! Starts the real `greenroom` binary as a child process and makes sure it
//! dies with the benchmark: `kill_on_drop` covers early returns and panics,
//! [`ServerProcess::stop`] the normal path.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use greenroom_webdriver::log_tail;
use tokio::process::{Child, Command};

/// Fails, saying how to build it, when the server binary is not a file.
pub fn check_server_bin(server_bin: &Path) -> anyhow::Result<()> {
    if !server_bin.is_file() {
        bail!(
            "server binary {} not found; build it first with `cargo build --release -p greenroom` \
             or pass --server-bin",
            server_bin.display()
        );
    }
    Ok(())
}

/// A server under test that may have stopped on its own: the real binary
/// as a child process, or one running inside the benchmark.
pub trait RunningServer {
    /// Fails, saying why, when the server is no longer running.
    fn ensure_running(&mut self) -> anyhow::Result<()>;
}

impl RunningServer for ServerProcess {
    fn ensure_running(&mut self) -> anyhow::Result<()> {
        ServerProcess::ensure_running(self)
    }
}

pub struct ServerProcess {
    child: Child,
    pub pid: u32,
    pub log_file: PathBuf,
}

impl ServerProcess {
    /// Runs `bin --config <config>` in `workdir`, stdout and stderr appended
    /// to `log_file`. `RUST_LOG` defaults to `warn` so per-entity logging does
    /// not dominate the measurement.
    pub fn start(
        bin: &Path,
        config: &Path,
        workdir: &Path,
        log_file: &Path,
    ) -> anyhow::Result<Self> {
        Self::start_with_env(bin, config, workdir, log_file, &[])
    }

    /// [`ServerProcess::start`] with extra environment variables for the
    /// server (such as `GREENROOM_DIST_DIR`).
    pub fn start_with_env(
        bin: &Path,
        config: &Path,
        workdir: &Path,
        log_file: &Path,
        env: &[(&str, &OsStr)],
    ) -> anyhow::Result<Self> {
        let log = std::fs::File::create(log_file)
            .with_context(|| format!("cannot create server log {}", log_file.display()))?;
        let log_err = log.try_clone()?;
        let mut command = Command::new(bin);
        command
            .arg("--config")
            .arg(config)
            .current_dir(workdir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .kill_on_drop(true);
        if std::env::var_os("RUST_LOG").is_none() {
            command.env("RUST_LOG", "warn");
        }
        command.envs(env.iter().copied());
        let child = command
            .spawn()
            .with_context(|| format!("cannot start server binary {}", bin.display()))?;
        let pid = child
            .id()
            .context("server exited before its pid could be read")?;
        Ok(Self {
            child,
            pid,
            log_file: log_file.to_path_buf(),
        })
    }

    /// `Some(status)` when the server has exited.
    pub fn exited(&mut self) -> anyhow::Result<Option<ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    /// Fails with the exit status and the end of the log when the server has
    /// exited; Ok while it runs.
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.exited()? {
            bail!(
                "the server exited early ({status}); last lines of {}:\n{}",
                self.log_file.display(),
                match log_tail(&self.log_file, 30) {
                    tail if tail.is_empty() => "(the log is empty)".to_string(),
                    tail => tail,
                }
            );
        }
        Ok(())
    }

    /// Stops the server after a measurement and returns its `outcome`. An
    /// error gets the last lines of the server log, unless the server has
    /// exited (its error already quotes the log). The outcome's error comes
    /// before one from stopping.
    pub async fn stop_after<T>(mut self, outcome: anyhow::Result<T>) -> anyhow::Result<T> {
        let exited = matches!(self.exited(), Ok(Some(_)));
        let outcome = outcome.map_err(|e| {
            let log = log_tail(&self.log_file, 20);
            if exited || log.is_empty() {
                e
            } else {
                e.context(format!("server log (last lines):\n{log}"))
            }
        });
        let stopped = self.stop().await;
        let value = outcome?;
        stopped?;
        Ok(value)
    }

    /// Kills the server and waits (bounded) for it to be reaped.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if self.exited()?.is_none() {
            self.child.start_kill().context("cannot kill the server")?;
            tokio::time::timeout(Duration::from_secs(10), self.child.wait())
                .await
                .context("the server did not exit within 10 s of being killed")??;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_server_that_exits_is_reported_with_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("fake-server.sh");
        std::fs::write(&script, "#!/bin/sh\necho \"bad config: $2\" >&2\nexit 3\n").unwrap();
        make_executable(&script);
        let log = dir.path().join("server.log");
        let mut server =
            ServerProcess::start(&script, Path::new("cfg.yaml"), dir.path(), &log).unwrap();
        let mut err = None;
        for _ in 0..100 {
            if let Err(e) = server.ensure_running() {
                err = Some(e.to_string());
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let err = err.expect("the fake server should have exited");
        assert!(err.contains("exit status: 3"), "{err}");
        assert!(err.contains("bad config: cfg.yaml"), "{err}");
    }

    #[tokio::test]
    async fn extra_environment_reaches_the_server() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("env-server.sh");
        std::fs::write(&script, "#!/bin/sh\necho \"dist=$GREENROOM_DIST_DIR\"\n").unwrap();
        make_executable(&script);
        let log = dir.path().join("server.log");
        let mut server = ServerProcess::start_with_env(
            &script,
            Path::new("cfg.yaml"),
            dir.path(),
            &log,
            &[("GREENROOM_DIST_DIR", OsStr::new("/srv/ui"))],
        )
        .unwrap();
        for _ in 0..100 {
            if server.exited().unwrap().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(log_tail(&log, 1), "dist=/srv/ui");
    }

    #[tokio::test]
    async fn stop_kills_a_running_server() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("sleeper.sh");
        std::fs::write(&script, "#!/bin/sh\nexec sleep 600\n").unwrap();
        make_executable(&script);
        let mut server = ServerProcess::start(
            &script,
            Path::new("cfg.yaml"),
            dir.path(),
            &dir.path().join("log"),
        )
        .unwrap();
        server.ensure_running().unwrap();
        let pid = server.pid;
        server.stop().await.unwrap();
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "pid {pid} still alive"
        );
    }

    #[tokio::test]
    async fn stop_after_adds_the_log_of_a_running_server_to_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("talker.sh");
        std::fs::write(&script, "#!/bin/sh\necho 'listening'\nexec sleep 600\n").unwrap();
        make_executable(&script);
        let log = dir.path().join("log");
        let server =
            ServerProcess::start(&script, Path::new("cfg.yaml"), dir.path(), &log).unwrap();
        let pid = server.pid;
        for _ in 0..100 {
            if !log_tail(&log, 1).is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let err = server
            .stop_after::<()>(Err(anyhow::anyhow!("measurement failed")))
            .await
            .unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("measurement failed"), "{text}");
        assert!(
            text.contains("server log (last lines):\nlistening"),
            "{text}"
        );
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "pid {pid} still alive"
        );
    }

    fn make_executable(path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}
