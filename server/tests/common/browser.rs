//! Browser tests: their prerequisites, and the server under test in headless
//! Chromium driven through chromedriver.

use std::path::PathBuf;

use greenroom_webdriver::Browser;
use serde_json::json;

use super::paths::{dist_dir, repo_root};
use super::server::Server;

/// The window the tests browse in (a laptop screen).
pub const WINDOW: (u32, u32) = (1280, 900);

/// One browser at a time: the tests run in parallel, and several Chromiums
/// at once starve a 2-core machine into timeouts.
static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ---------------------------------------------------------------------------
// Prerequisites
// ---------------------------------------------------------------------------

pub fn axe_script() -> PathBuf {
    repo_root().join("tests/accessibility/node_modules/axe-core/axe.min.js")
}

/// Why browser tests cannot run here, if they cannot: the built UI, Chromium,
/// chromedriver and axe-core are needed, and so is each of `also_needs`
/// (programs on the PATH).
pub fn missing_prerequisite(also_needs: &[&str]) -> Option<String> {
    if std::env::var_os("GREENROOM_SKIP_UI").is_some() {
        return Some("GREENROOM_SKIP_UI is set (the web UI could not be built)".into());
    }
    let index = dist_dir().join("index.html");
    if !index.is_file() {
        return Some(format!(
            "the web UI is not built: {} does not exist (run scripts/build-frontend)",
            index.display()
        ));
    }
    for program in ["chromium", "chromedriver"] {
        if greenroom_webdriver::find_on_path(program).is_none() {
            return Some(format!(
                "{program} is not installed (Debian: apt-get install chromium chromium-driver)"
            ));
        }
    }
    for program in also_needs {
        if greenroom_webdriver::find_on_path(program).is_none() {
            return Some(format!("{program} is not installed"));
        }
    }
    if !axe_script().is_file() {
        return Some("axe-core is not installed (npm ci in tests/accessibility)".into());
    }
    None
}

/// True when the test can run (see [`missing_prerequisite`]); otherwise
/// prints why it is skipped (and fails under CI).
pub fn can_run(test: &str, also_needs: &[&str]) -> bool {
    match missing_prerequisite(also_needs) {
        None => true,
        Some(reason) if std::env::var_os("CI").is_some() => {
            panic!("browser test {test} cannot run in CI: {reason}")
        }
        Some(reason) => {
            eprintln!("\nSKIPPED {test}: {reason}\n");
            false
        }
    }
}

// ---------------------------------------------------------------------------
// A server in a browser
// ---------------------------------------------------------------------------

/// A server and a browser, one test's worth; the browser lock is held while it lives.
pub struct Ui {
    pub server: Server,
    pub browser: Browser,
    _one_browser: tokio::sync::MutexGuard<'static, ()>,
}

impl Ui {
    /// The demo catalog in a browser, or `None` when `test` cannot run here
    /// (see [`can_run`]).
    pub async fn demo(test: &str) -> Option<Self> {
        if !can_run(test, &[]) {
            return None;
        }
        Some(Ui::start(Server::demo().await).await)
    }

    pub async fn start(server: Server) -> Self {
        let guard = BROWSER.lock().await;
        let browser = Browser::start(WINDOW)
            .await
            .expect("start Chromium through chromedriver");
        Ui {
            server,
            browser,
            _one_browser: guard,
        }
    }

    /// Opens `path` and waits until the app has mounted.
    pub async fn open(&self, path: &str) {
        self.browser.open(&self.server.url(path)).await.unwrap();
        self.browser.wait_for("main#main").await.unwrap();
    }

    /// Makes `theme` (`light` or `dark`) the app's theme for the pages opened next.
    pub async fn use_theme(&self, theme: &str) {
        self.open("/").await;
        self.browser
            .execute(
                &format!("localStorage.setItem('greenroom.theme', '{theme}')"),
                vec![],
            )
            .await
            .unwrap();
    }

    pub async fn finish(self) {
        self.browser.close().await;
    }
}

// ---------------------------------------------------------------------------
// What is on the page
// ---------------------------------------------------------------------------

/// Runs axe-core on the page (WCAG 2.0/2.1 A and AA rules) and returns the
/// violations as readable lines.
pub async fn axe_violations(b: &Browser, axe: &str) -> Vec<String> {
    b.execute(axe, vec![]).await.expect("inject axe-core");
    let result = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
                .then(r => done(r.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').replace(/\\s+/g, ' '))
                }))))
                .catch(e => done([{id: 'axe-error', help: String(e), nodes: []}]));",
            vec![],
        )
        .await
        .expect("run axe-core");
    result
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|v| {
            format!(
                "{} ({}): {} at {}",
                v["id"], v["impact"], v["help"], v["nodes"]
            )
        })
        .collect()
}

/// Whether the first element matching `css` exists and is displayed.
pub async fn visible(b: &Browser, css: &str) -> bool {
    b.execute(
        "const e = document.querySelector(arguments[0]); return !!e && e.offsetParent !== null;",
        vec![json!(css)],
    )
    .await
    .unwrap()
        == json!(true)
}

/// The id of the element that has the focus (empty when it has none).
pub async fn focused_id(b: &Browser) -> String {
    b.execute(
        "return document.activeElement && document.activeElement.id",
        vec![],
    )
    .await
    .unwrap()
    .as_str()
    .unwrap_or_default()
    .to_string()
}
