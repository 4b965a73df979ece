//! Runs the real `greenroom` binary: `docs build` (output, warnings, strict
//! mode, errors) and `docs serve` (the live preview follows edits).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::paths::repo_root;

fn greenroom(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_greenroom"))
        .args(args)
        .output()
        .expect("run greenroom")
}

fn site_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::git::copy_tree(&repo_root().join("tests/techdocs/site"), dir.path());
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn build_writes_the_site_and_reports_problems() {
    let site = site_copy();
    let out = tempfile::tempdir().unwrap();
    let dir = site.path().to_str().unwrap();
    let result = greenroom(&[
        "docs",
        "build",
        dir,
        "--output",
        out.path().to_str().unwrap(),
    ]);
    assert!(result.status.success(), "{}", text(&result.stderr));
    let stdout = text(&result.stdout);
    assert!(
        stdout.starts_with("built 2 pages in ") && stdout.contains(" ms to "),
        "{stdout}"
    );
    for file in [
        "index.html",
        "guide/index.html",
        "techdocs_metadata.json",
        "search/search_index.json",
        "assets/greenroom-docs.css",
    ] {
        assert!(out.path().join(file).is_file(), "{file} missing");
    }

    // A broken link is a warning; --strict makes it an error and writes nothing.
    std::fs::write(
        site.path().join("docs/broken.md"),
        "# Broken\n\n[gone](nowhere.md)\n",
    )
    .unwrap();
    let strict_out = tempfile::tempdir().unwrap();
    let lenient = greenroom(&[
        "docs",
        "build",
        dir,
        "--output",
        strict_out.path().to_str().unwrap(),
    ]);
    assert!(lenient.status.success());
    assert!(
        text(&lenient.stderr)
            .contains("warning: broken.md: the link 'nowhere.md' points to nothing in the docs"),
        "{}",
        text(&lenient.stderr)
    );
    let strict_dir = strict_out.path().join("strict");
    let strict = greenroom(&[
        "docs",
        "build",
        dir,
        "--output",
        strict_dir.to_str().unwrap(),
        "--strict",
    ]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(
        text(&strict.stderr).contains("error: 1 warning(s) in strict mode; nothing was written")
    );
    assert!(!strict_dir.exists());

    // Errors: a missing folder, a broken mkdocs.yml.
    let missing = greenroom(&[
        "docs",
        "build",
        "/nonexistent/docs",
        "--output",
        "/tmp/unused",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        text(&missing.stderr).trim(),
        "error: /nonexistent/docs does not exist"
    );
    std::fs::write(site.path().join("mkdocs.yml"), "site_name: [broken\n").unwrap();
    let broken = greenroom(&[
        "docs",
        "build",
        dir,
        "--output",
        strict_dir.to_str().unwrap(),
    ]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        text(&broken.stderr).starts_with("error: mkdocs configuration: mkdocs.yml:"),
        "{}",
        text(&broken.stderr)
    );
}

/// Kills the preview server when the test ends, even on failure.
struct Preview(std::process::Child);

impl Drop for Preview {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_for(url: &str, mut ok: impl FnMut(u16, &str) -> bool) -> String {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = client.get(url).send().await {
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            if ok(status, &body) {
                return body;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{url} never became what the test waits for"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn serve_rebuilds_when_a_page_changes() {
    let site = site_copy();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let _preview = Preview(
        Command::new(env!("CARGO_BIN_EXE_greenroom"))
            .args([
                "docs",
                "serve",
                site.path().to_str().unwrap(),
                "--addr",
                &addr,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the preview"),
    );
    let base = format!("http://{addr}");
    let page = wait_for(&format!("{base}/guide/"), |status, _| status == 200).await;
    assert!(page.contains("<h1 id=\"setup-guide\">"), "{page}");
    assert!(
        page.contains("/__greenroom/version"),
        "pages reload themselves: {page}"
    );
    let css = wait_for(&format!("{base}/assets/greenroom-docs.css"), |s, _| {
        s == 200
    })
    .await;
    assert!(css.contains(".admonition"));
    assert_eq!(
        wait_for(&format!("{base}/missing.html"), |s, _| s == 404).await,
        "missing.html is not part of the site"
    );

    write(
        site.path(),
        "docs/guide.md",
        "# Setup guide\n\nEdited while previewing.\n",
    );
    wait_for(&format!("{base}/guide/"), |_, body| {
        body.contains("Edited while previewing.")
    })
    .await;

    // A broken configuration shows the error instead of the site, then recovers.
    let config = std::fs::read_to_string(site.path().join("mkdocs.yml")).unwrap();
    write(site.path(), "mkdocs.yml", "site_name: [broken\n");
    let failed = wait_for(&format!("{base}/guide/"), |s, _| s == 500).await;
    assert!(
        failed.contains("Build failed") && failed.contains("mkdocs.yml"),
        "{failed}"
    );
    write(site.path(), "mkdocs.yml", &config);
    wait_for(&format!("{base}/guide/"), |s, _| s == 200).await;
}

fn write(root: &Path, file: &str, text: &str) {
    // Modification times have a coarse resolution on some file systems.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(root.join(file), text).unwrap();
}
