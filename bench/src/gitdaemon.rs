//! `git daemon` serving the benchmark's repository root on loopback, pushes
//! allowed, for `scaffolder-bench --remote daemon`.
//!
//! `git daemon` is not a builtin: `git` runs `git-daemon` as a child and
//! waits, and the daemon forks one process per connection. Killing only the
//! `git` we started would leave the listener behind, so the daemon gets its
//! own process group and the whole group is killed, as for chromedriver.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use greenroom_webdriver::{free_port, log_tail};
use tokio::process::{Child, Command};

const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

pub struct GitDaemon {
    child: Option<Child>,
    pub pid: u32,
    pub port: u16,
    log_file: PathBuf,
}

impl GitDaemon {
    /// Starts `git daemon --base-path=<root>` on a free loopback port and
    /// waits until it accepts connections.
    pub async fn start(root: &Path, log_file: &Path) -> anyhow::Result<Self> {
        let port = free_port()?;
        let log = std::fs::File::create(log_file)
            .with_context(|| format!("cannot create {}", log_file.display()))?;
        let log_err = log.try_clone()?;
        let child = Command::new("git")
            .arg("daemon")
            .args([
                "--reuseaddr",
                "--export-all",
                "--enable=receive-pack",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
            ])
            .arg(format!("--base-path={}", root.display()))
            .arg(root)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .context("cannot start `git daemon`; is git installed and on PATH?")?;
        let pid = child.id().context("git daemon exited at once")?;
        let mut daemon = Self {
            child: Some(child),
            pid,
            port,
            log_file: log_file.to_path_buf(),
        };
        daemon.wait_listening().await?;
        Ok(daemon)
    }

    /// `git://127.0.0.1:<port>`: the integration's `remoteBaseUrl`.
    pub fn base_url(&self) -> String {
        format!("git://127.0.0.1:{}", self.port)
    }

    async fn wait_listening(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        while started.elapsed() < LISTEN_TIMEOUT {
            self.ensure_running()?;
            // The probe connects and hangs up without a request: the daemon
            // logs "the remote end hung up unexpectedly" once, harmlessly.
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!(
            "git daemon did not listen on 127.0.0.1:{} within {} s; its log:\n{}",
            self.port,
            LISTEN_TIMEOUT.as_secs(),
            log_tail(&self.log_file, 20)
        )
    }

    /// Fails with the end of its log when the daemon has exited.
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        if let Some(child) = self.child.as_mut() {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "git daemon exited ({status}); its log:\n{}",
                    log_tail(&self.log_file, 20)
                );
            }
        }
        Ok(())
    }

    /// Stops the daemon and any connection it is still serving.
    pub async fn stop(mut self) {
        self.kill_group();
        if let Some(mut child) = self.child.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
        }
    }

    fn kill_group(&self) {
        // The group id is the pid of the `git` we started (`process_group(0)`):
        // only processes this benchmark started are signalled.
        if self.pid > 1 {
            unsafe {
                libc::kill(-(self.pid as libc::pid_t), libc::SIGKILL);
            }
        }
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.kill_group();
        }
    }
}
