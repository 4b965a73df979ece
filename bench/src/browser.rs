//! Headless Chromium driven through `chromedriver` (WebDriver) on a loopback
//! port. chromedriver runs in its own process group so that stopping it also
//! stops every browser it started, on every path out of the benchmark.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fantoccini::wd::Capabilities;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::server::{free_port, log_tail};

/// How long chromedriver may take to answer `/status` with `ready: true`.
const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The first executable called `name` on `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Chromium's command-line flags: headless, nothing that reaches the network
/// on its own (background networking, component updates, sync, QUIC), and a
/// profile directory of its own so every session starts with an empty cache.
pub fn chromium_args(profile_dir: &Path) -> Vec<String> {
    [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,800",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(std::iter::once(format!(
        "--user-data-dir={}",
        profile_dir.display()
    )))
    .collect()
}

/// WebDriver capabilities for a new Chromium session.
pub fn capabilities(chromium: &Path, profile_dir: &Path) -> Capabilities {
    let value = json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "goog:chromeOptions": {
            "binary": chromium.to_string_lossy(),
            "args": chromium_args(profile_dir),
        },
    });
    match value {
        Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

/// A running `chromedriver --port=<port>`.
pub struct ChromeDriver {
    child: Option<Child>,
    pub pid: u32,
    pub port: u16,
    pub log_file: PathBuf,
}

impl ChromeDriver {
    /// Starts chromedriver on a free loopback port and waits until its
    /// `/status` says it is ready.
    pub async fn start(bin: &Path, log_file: &Path) -> anyhow::Result<Self> {
        let port = free_port()?;
        let log = std::fs::File::create(log_file)
            .with_context(|| format!("cannot create {}", log_file.display()))?;
        let log_err = log.try_clone()?;
        let child = Command::new(bin)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            // Its own process group: stopping the group stops the browsers too.
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let pid = child.id().context("chromedriver exited at once")?;
        let mut driver = Self {
            child: Some(child),
            pid,
            port,
            log_file: log_file.to_path_buf(),
        };
        driver.wait_ready().await?;
        Ok(driver)
    }

    /// `http://127.0.0.1:<port>`, the WebDriver endpoint.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()?;
        let status = format!("{}/status", self.url());
        let started = Instant::now();
        let mut last = String::from("no answer");
        while started.elapsed() < DRIVER_READY_TIMEOUT {
            self.ensure_running()?;
            match client.get(&status).send().await {
                Ok(response) => match response.json::<Value>().await {
                    Ok(body) if body["value"]["ready"] == Value::Bool(true) => return Ok(()),
                    Ok(body) => last = body.to_string(),
                    Err(e) => last = e.to_string(),
                },
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "chromedriver was not ready within {} s ({last}); its log:\n{}",
            DRIVER_READY_TIMEOUT.as_secs(),
            log_tail(&self.log_file, 20)
        )
    }

    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        if let Some(child) = self.child.as_mut() {
            if let Some(status) = child.try_wait()? {
                bail!(
                    "chromedriver exited ({status}); its log:\n{}",
                    log_tail(&self.log_file, 20)
                );
            }
        }
        Ok(())
    }

    /// Opens a browser session (starts Chromium with a fresh profile).
    pub async fn session(
        &self,
        chromium: &Path,
        profile_dir: &Path,
        timeout: Duration,
    ) -> anyhow::Result<fantoccini::Client> {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut builder = fantoccini::ClientBuilder::new(connector);
        builder.capabilities(capabilities(chromium, profile_dir));
        let client = tokio::time::timeout(timeout, builder.connect(&self.url()))
            .await
            .with_context(|| {
                format!(
                    "Chromium did not start within {} s; chromedriver log:\n{}",
                    timeout.as_secs(),
                    log_tail(&self.log_file, 20)
                )
            })?
            .with_context(|| {
                format!(
                    "cannot open a Chromium session ({}); chromedriver log:\n{}",
                    chromium.display(),
                    log_tail(&self.log_file, 20)
                )
            })?;
        Ok(client)
    }

    /// Stops chromedriver and every browser in its process group.
    pub async fn stop(mut self) {
        self.kill_group();
        if let Some(mut child) = self.child.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), child.wait()).await;
        }
    }

    fn kill_group(&self) {
        // The group id is chromedriver's pid (`process_group(0)`). Only this
        // benchmark's own group is signalled.
        if self.pid > 1 {
            unsafe {
                libc::kill(-(self.pid as libc::pid_t), libc::SIGKILL);
            }
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.kill_group();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_name_the_binary_and_a_fresh_profile() {
        let caps = capabilities(Path::new("/opt/browser/chromium"), Path::new("/tmp/p1"));
        let options = &caps["goog:chromeOptions"];
        assert_eq!(options["binary"], "/opt/browser/chromium");
        let args: Vec<&str> = options["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        for flag in [
            "--headless=new",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-quic",
            "--user-data-dir=/tmp/p1",
        ] {
            assert!(args.contains(&flag), "{flag} missing from {args:?}");
        }
        assert_eq!(caps["pageLoadStrategy"], "normal");
    }

    #[test]
    fn find_on_path_finds_sh_and_not_nonsense() {
        assert!(find_on_path("sh").is_some());
        assert!(find_on_path("no-such-program-for-sure").is_none());
    }

    #[tokio::test]
    async fn a_driver_that_exits_is_reported_with_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("fake-driver.sh");
        std::fs::write(
            &script,
            "#!/bin/sh\necho \"cannot listen on $1\" >&2\nexit 1\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = match ChromeDriver::start(&script, &dir.path().join("driver.log")).await {
            Ok(_) => panic!("the fake driver should not become ready"),
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains("chromedriver exited"), "{err}");
        assert!(err.contains("cannot listen on --port="), "{err}");
    }
}
