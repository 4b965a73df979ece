//! Headless Chromium driven through `chromedriver` (WebDriver) on a loopback
//! port, for the browser tests and the UI benchmark.
//!
//! chromedriver runs in its own process group, so stopping it also stops every
//! browser it started, on every path out (including a panicking test).
//! Chromium never reaches the network on its own: background networking,
//! component updates, sync and QUIC are off, and every session has a fresh
//! profile directory (an empty cache).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fantoccini::elements::Element;
use fantoccini::wd::Capabilities;
use fantoccini::Locator;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

pub use fantoccini;

/// How long chromedriver may take to answer `/status` with `ready: true`.
const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long Chromium may take to open a session.
const SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// How long [`Browser`]'s waits look for what they wait for.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(20);
const POLL_EVERY: Duration = Duration::from_millis(50);

/// The first executable called `name` on `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A free TCP port on 127.0.0.1 (bound, read, released: the caller's process
/// binds it right after, so a collision needs another process to grab it in
/// between).
pub fn free_port() -> anyhow::Result<u16> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").context("cannot bind a loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// The last `lines` lines of a text file (empty when unreadable).
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Chromium's command-line flags: headless, nothing that reaches the network
/// on its own, and a profile directory of its own.
pub fn chromium_args(profile_dir: &Path, window: (u32, u32)) -> Vec<String> {
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
        "--disable-extensions",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        format!("--window-size={},{}", window.0, window.1),
        format!("--user-data-dir={}", profile_dir.display()),
    ])
    .collect()
}

/// WebDriver capabilities for a new Chromium session.
pub fn capabilities(chromium: &Path, profile_dir: &Path, window: (u32, u32)) -> Capabilities {
    let value = json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "goog:chromeOptions": {
            "binary": chromium.to_string_lossy(),
            "args": chromium_args(profile_dir, window),
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

    /// Opens a browser session (starts Chromium with the profile in `profile_dir`).
    pub async fn session(
        &self,
        chromium: &Path,
        profile_dir: &Path,
        window: (u32, u32),
    ) -> anyhow::Result<fantoccini::Client> {
        self.session_within(chromium, profile_dir, window, SESSION_TIMEOUT)
            .await
    }

    /// [`ChromeDriver::session`], giving Chromium `timeout` to start instead
    /// of the default 60 s.
    pub async fn session_within(
        &self,
        chromium: &Path,
        profile_dir: &Path,
        window: (u32, u32),
        timeout: Duration,
    ) -> anyhow::Result<fantoccini::Client> {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let mut builder = fantoccini::ClientBuilder::new(connector);
        builder.capabilities(capabilities(chromium, profile_dir, window));
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
        // The group id is chromedriver's pid (`process_group(0)`): only the
        // group this driver started is signalled.
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

/// Calls `check` every 50 ms until it returns `Some`, for at most `timeout`.
/// The error names `what` and the last thing `check` reported.
pub async fn poll<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let started = Instant::now();
    let mut last = String::from("nothing yet");
    loop {
        match check().await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(e) => last = format!("{e:#}"),
        }
        if started.elapsed() >= timeout {
            bail!(
                "timed out after {} s waiting for {what} (last: {last})",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// A Chromium session of its own (its own chromedriver and profile), with the
/// waits and reads a browser test needs. Dropping it stops the browser.
pub struct Browser {
    pub client: fantoccini::Client,
    driver: ChromeDriver,
    _dir: tempfile::TempDir,
}

impl Browser {
    /// Starts `chromedriver` and `chromium` from `PATH` at the given window size.
    pub async fn start(window: (u32, u32)) -> anyhow::Result<Self> {
        let chromium = find_on_path("chromium").context("chromium is not on PATH")?;
        let chromedriver = find_on_path("chromedriver").context("chromedriver is not on PATH")?;
        let dir = tempfile::tempdir()?;
        let driver =
            ChromeDriver::start(&chromedriver, &dir.path().join("chromedriver.log")).await?;
        let profile = dir.path().join("profile");
        let client = driver.session(&chromium, &profile, window).await?;
        Ok(Self {
            client,
            driver,
            _dir: dir,
        })
    }

    pub async fn open(&self, url: &str) -> anyhow::Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("opening {url}"))
    }

    /// The first element matching `css`, once there is one.
    pub async fn wait_for(&self, css: &str) -> anyhow::Result<Element> {
        poll(
            &format!("an element matching `{css}`"),
            WAIT_TIMEOUT,
            || async {
                match self.client.find(Locator::Css(css)).await {
                    Ok(element) => Ok(Some(element)),
                    Err(e) if e.is_no_such_element() => Ok(None),
                    Err(e) => Err(e.into()),
                }
            },
        )
        .await
    }

    /// Waits until the first element matching `css` shows `text` (a substring
    /// of its visible text), and returns that whole text.
    pub async fn wait_for_text(&self, css: &str, text: &str) -> anyhow::Result<String> {
        poll(
            &format!("`{css}` to show {text:?}"),
            WAIT_TIMEOUT,
            || async {
                let seen = self.texts(css).await?;
                if let Some(found) = seen.iter().find(|t| t.contains(text)) {
                    return Ok(Some(found.clone()));
                }
                anyhow::bail!("`{css}` shows {seen:?}")
            },
        )
        .await
    }

    /// Waits until no element matches `css` (a loading line going away).
    pub async fn wait_gone(&self, css: &str) -> anyhow::Result<()> {
        poll(&format!("`{css}` to go away"), WAIT_TIMEOUT, || async {
            Ok(self
                .client
                .find_all(Locator::Css(css))
                .await?
                .is_empty()
                .then_some(()))
        })
        .await
    }

    /// The visible text of every element matching `css`, in document order.
    pub async fn texts(&self, css: &str) -> anyhow::Result<Vec<String>> {
        // A re-render between finding the elements and reading them leaves
        // stale references; reading the whole list again sees the new one.
        let mut attempt = 0;
        loop {
            match self.texts_once(css).await {
                Err(e) if attempt < 5 && e.to_string().contains("stale element") => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                result => return result,
            }
        }
    }

    async fn texts_once(&self, css: &str) -> anyhow::Result<Vec<String>> {
        let mut texts = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await? {
            texts.push(element.text().await?);
        }
        Ok(texts)
    }

    /// `attribute` of every element matching `css`.
    pub async fn attrs(&self, css: &str, attribute: &str) -> anyhow::Result<Vec<Option<String>>> {
        let mut values = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await? {
            values.push(element.attr(attribute).await?);
        }
        Ok(values)
    }

    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.wait_for(css)
            .await?
            .click()
            .await
            .with_context(|| format!("clicking `{css}`"))
    }

    /// Replaces the text of the input matching `css` by typing `text`.
    pub async fn fill(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let input = self.wait_for(css).await?;
        input.clear().await?;
        input
            .send_keys(text)
            .await
            .with_context(|| format!("typing into `{css}`"))
    }

    /// Chooses the option with `value` in the select matching `css`.
    pub async fn select(&self, css: &str, value: &str) -> anyhow::Result<()> {
        self.wait_for(css)
            .await?
            .select_by_value(value)
            .await
            .with_context(|| format!("choosing {value:?} in `{css}`"))
    }

    /// Sends keys to whatever has the focus (Tab, Enter, arrows: see `fantoccini::key::Key`).
    pub async fn press(&self, keys: &str) -> anyhow::Result<()> {
        self.client.active_element().await?.send_keys(keys).await?;
        Ok(())
    }

    /// Runs `script` in the page (`arguments[i]` are `args`) and returns its value.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        Ok(self.client.execute(script, args).await?)
    }

    /// The path and query of the current address (`/catalog?kind=API`).
    pub async fn path(&self) -> anyhow::Result<String> {
        let url = self.client.current_url().await?;
        Ok(match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        })
    }

    pub async fn title(&self) -> anyhow::Result<String> {
        Ok(self.client.title().await?)
    }

    pub async fn screenshot(&self) -> anyhow::Result<Vec<u8>> {
        Ok(self.client.screenshot().await?)
    }

    /// Ends the session and stops the browser and chromedriver.
    pub async fn close(self) {
        let _ = self.client.close().await;
        self.driver.stop().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_name_the_binary_and_a_fresh_profile() {
        let caps = capabilities(
            Path::new("/opt/browser/chromium"),
            Path::new("/tmp/p1"),
            (800, 600),
        );
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
            "--window-size=800,600",
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

    #[test]
    fn free_port_is_bindable() {
        let port = free_port().unwrap();
        assert_ne!(port, 0);
        std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    }

    #[test]
    fn log_tail_keeps_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "a\nb\nc\nd\n").unwrap();
        assert_eq!(log_tail(&path, 2), "c\nd");
        assert_eq!(log_tail(&path, 10), "a\nb\nc\nd");
        assert_eq!(log_tail(&dir.path().join("missing"), 3), "");
    }

    #[tokio::test]
    async fn poll_returns_the_first_answer_and_times_out_with_the_last_error() {
        let mut calls = 0;
        let value = poll("three calls", Duration::from_secs(5), || {
            calls += 1;
            let n = calls;
            async move { Ok((n >= 3).then_some(n)) }
        })
        .await
        .unwrap();
        assert_eq!(value, 3);
        let err = poll::<(), _, _>("never", Duration::from_millis(120), || async {
            anyhow::bail!("still red")
        })
        .await
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("waiting for never") && err.contains("still red"),
            "{err}"
        );
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

    #[tokio::test]
    async fn a_session_that_does_not_start_in_time_is_reported_with_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let log_file = dir.path().join("driver.log");
        std::fs::write(&log_file, "starting a browser\n").unwrap();
        // Accepts connections (the kernel's backlog) and never answers.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let driver = ChromeDriver {
            child: None,
            pid: 0,
            port: silent.local_addr().unwrap().port(),
            log_file,
        };
        let started = Instant::now();
        let err = match driver
            .session_within(
                Path::new("chromium"),
                &dir.path().join("profile"),
                (800, 600),
                Duration::from_secs(1),
            )
            .await
        {
            Ok(_) => panic!("a silent driver should not open a session"),
            Err(e) => format!("{e:#}"),
        };
        assert!(started.elapsed() < Duration::from_secs(10), "{err}");
        assert!(err.contains("did not start within 1 s"), "{err}");
        assert!(err.contains("starting a browser"), "{err}");
    }
}
