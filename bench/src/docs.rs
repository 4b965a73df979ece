//! `docs-bench`: how long the real `greenroom docs build` takes on a real
//! mkdocs project, starlette's documentation as published on PyPI, next to
//! mkdocs (with mkdocs-material and mkdocstrings, as the project asks)
//! building the same project. Both run as processes, wall time from spawn to
//! exit, each into a fresh output directory, rounds alternating between the
//! two so that other load on the machine falls on both alike; each output
//! must hold every page of mkdocs' reference build.
//!
//! It runs `scripts/docs-fixtures` first (quick once prepared), which
//! downloads the project and makes the mkdocs virtualenv and reference the
//! first time. mkdocs builds the fixtures' offline copy, whose mkdocs.yml
//! lacks the one network fetch (the mkdocstrings inventory; see the script);
//! greenroom builds the project as published.
//!
//! Prints markdown to stdout (progress on stderr); exits non-zero only when
//! it could not measure (fixtures, a failed build, missing pages).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use greenroom_bench::cli::{check_counts, default_server_bin, finish, repo_root};
use greenroom_bench::report::{fmt_ms, info_row, markdown, table, Row};
use greenroom_bench::server::check_server_bin;
use greenroom_bench::stats::LatencySummary;

/// The speed-up over mkdocs the native builder is held to (p50 against p50).
const SPEEDUP_TARGET: f64 = 20.0;

#[derive(Debug, Parser)]
#[command(
    name = "docs-bench",
    about = "Measure `greenroom docs build` against mkdocs on starlette's documentation"
)]
struct Args {
    /// Timed builds per tool.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Untimed builds per tool before the timed ones.
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    /// greenroom binary [default: <cargo target dir>/release/greenroom].
    #[arg(long)]
    server_bin: Option<PathBuf>,
}

/// What `scripts/docs-fixtures` prepared.
struct Fixtures {
    starlette: String,
    /// The project as published: greenroom builds this.
    project: PathBuf,
    /// The copy mkdocs can build offline.
    offline: PathBuf,
    venv: PathBuf,
    /// mkdocs' pages, relative paths.
    pages: Vec<String>,
}

/// The `STARLETTE_VERSION=` assignment of the fixtures script.
fn pinned_version(script: &str) -> Option<String> {
    script
        .lines()
        .find_map(|line| line.strip_prefix("STARLETTE_VERSION="))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn prepare_fixtures() -> anyhow::Result<Fixtures> {
    let script = repo_root().join("scripts/docs-fixtures");
    eprintln!(
        "docs-bench: preparing the fixtures with {}",
        script.display()
    );
    let output = Command::new(&script)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("run {}", script.display()))?;
    if !output.status.success() {
        bail!(
            "{} failed ({}); it needs python3 with venv and PyPI the first time",
            script.display(),
            output.status
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let dir = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| PathBuf::from(l.trim()))
        .context("scripts/docs-fixtures printed no directory")?;
    let script_text = std::fs::read_to_string(&script)?;
    let starlette = pinned_version(&script_text)
        .with_context(|| format!("{} has no STARLETTE_VERSION= line", script.display()))?;
    let pages_file = dir.join(format!("starlette-{starlette}-mkdocs-pages.txt"));
    let pages: Vec<String> = std::fs::read_to_string(&pages_file)
        .with_context(|| format!("read {}", pages_file.display()))?
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if pages.is_empty() {
        bail!("{} lists no page", pages_file.display());
    }
    Ok(Fixtures {
        project: dir.join(format!("starlette-{starlette}")),
        offline: dir.join(format!("starlette-{starlette}-offline")),
        venv: dir.join("mkdocs-venv"),
        starlette,
        pages,
    })
}

/// Installed versions of Python packages in the fixtures' virtualenv.
fn venv_versions(venv: &Path, packages: &[&str]) -> anyhow::Result<BTreeMap<String, String>> {
    let code = "import importlib.metadata as m, sys\n\
                for name in sys.argv[1:]:\n    print(name, m.version(name))";
    let output = Command::new(venv.join("bin/python"))
        .arg("-c")
        .arg(code)
        .args(packages)
        .output()
        .context("run the virtualenv's python")?;
    if !output.status.success() {
        bail!(
            "reading package versions failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tool {
    Greenroom,
    Mkdocs,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Greenroom => "greenroom docs build",
            Tool::Mkdocs => "mkdocs build",
        }
    }
}

struct Timed {
    wall: Duration,
    /// User plus system CPU time of the build process and what it waited for.
    cpu: Duration,
    /// The duration greenroom reports in its summary line.
    own: Option<Duration>,
}

/// `built N pages in X ms to OUT` → X.
fn reported_duration(stdout: &str) -> Option<Duration> {
    stdout.lines().find_map(|line| {
        let rest = line.strip_prefix("built ")?;
        let (_, after) = rest.split_once(" pages in ")?;
        let (ms, _) = after.split_once(" ms")?;
        let ms: f64 = ms.trim().parse().ok()?;
        Some(Duration::from_secs_f64(ms / 1000.0))
    })
}

/// Pages of the reference that an output directory lacks.
fn missing_pages<'a>(out: &Path, pages: &'a [String]) -> Vec<&'a str> {
    pages
        .iter()
        .filter(|p| !out.join(p).is_file())
        .map(String::as_str)
        .collect()
}

/// One build into a fresh directory, timed from spawn to exit, then checked.
fn build_once(tool: Tool, fx: &Fixtures, greenroom: &Path) -> anyhow::Result<Timed> {
    let tmp = tempfile::tempdir()?;
    let out = tmp.path().join("site");
    let mut command = match tool {
        Tool::Greenroom => {
            let mut c = Command::new(greenroom);
            c.arg("docs")
                .arg("build")
                .arg(&fx.project)
                .arg("--output")
                .arg(&out);
            c
        }
        Tool::Mkdocs => {
            let mut c = Command::new(fx.venv.join("bin/mkdocs"));
            c.arg("build")
                .arg("--site-dir")
                .arg(&out)
                .current_dir(&fx.offline)
                .env("NO_MKDOCS_2_WARNING", "1");
            c
        }
    };
    command.env("RUST_LOG", "warn");
    let cpu_before = children_cpu();
    let start = Instant::now();
    let output = command
        .output()
        .with_context(|| format!("run {}", tool.name()))?;
    let wall = start.elapsed();
    let cpu = children_cpu().saturating_sub(cpu_before);
    if !output.status.success() {
        bail!(
            "{} failed ({}):\n{}{}",
            tool.name(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let missing = missing_pages(&out, &fx.pages);
    if !missing.is_empty() {
        bail!(
            "{} built {} of {} pages; missing: {}",
            tool.name(),
            fx.pages.len() - missing.len(),
            fx.pages.len(),
            missing.join(", ")
        );
    }
    Ok(Timed {
        wall,
        cpu,
        own: reported_duration(&String::from_utf8_lossy(&output.stdout)),
    })
}

/// CPU time of all waited-for child processes so far. Builds run one at a
/// time, so the difference around one build is that build's: a figure that,
/// unlike wall time, other load on the machine barely moves.
fn children_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole rusage into the pointer it is given.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) != 0 {
            return Duration::ZERO;
        }
        usage.assume_init()
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn measure(args: &Args) -> anyhow::Result<String> {
    check_counts(&[("--runs", args.runs)])?;
    let greenroom = args.server_bin.clone().unwrap_or_else(default_server_bin);
    check_server_bin(&greenroom)?;
    let fx = prepare_fixtures()?;
    let versions = venv_versions(&fx.venv, &["mkdocs", "mkdocs-material", "mkdocstrings"])?;
    let version = |name: &str| versions.get(name).cloned().unwrap_or_else(|| "?".into());

    let mut samples: BTreeMap<Tool, Vec<Timed>> = BTreeMap::new();
    let rounds = args.warmup + args.runs;
    for round in 0..rounds {
        let timed = round >= args.warmup;
        for tool in [Tool::Greenroom, Tool::Mkdocs] {
            let result = build_once(tool, &fx, &greenroom)?;
            eprintln!(
                "docs-bench: {} {} {}/{}: {} ({} CPU)",
                if timed { "timed" } else { "warm-up" },
                tool.name(),
                round + 1,
                rounds,
                fmt_ms(result.wall),
                fmt_ms(result.cpu)
            );
            if timed {
                samples.entry(tool).or_default().push(result);
            }
        }
    }

    let summary = |tool: Tool, of: fn(&Timed) -> Duration| {
        let values: Vec<Duration> = samples[&tool].iter().map(of).collect();
        LatencySummary::from_samples(&values).expect("at least one run")
    };
    let (ours, theirs) = (
        summary(Tool::Greenroom, |t| t.wall),
        summary(Tool::Mkdocs, |t| t.wall),
    );
    let (our_cpu, their_cpu) = (
        summary(Tool::Greenroom, |t| t.cpu),
        summary(Tool::Mkdocs, |t| t.cpu),
    );
    let own: Vec<Duration> = samples[&Tool::Greenroom]
        .iter()
        .filter_map(|t| t.own)
        .collect();

    let setup = vec![
        vec!["project".into(), format!("starlette {} (sdist from PyPI)", fx.starlette)],
        vec!["pages".into(), fx.pages.len().to_string()],
        vec![
            "mkdocs".into(),
            format!(
                "mkdocs {}, mkdocs-material {}, mkdocstrings {} (strict, without the inventory fetch)",
                version("mkdocs"),
                version("mkdocs-material"),
                version("mkdocstrings")
            ),
        ],
        vec!["greenroom".into(), greenroom.display().to_string()],
        vec![
            "builds".into(),
            format!(
                "{} warm-up + {} timed per tool, alternating, each into a fresh directory",
                args.warmup, args.runs
            ),
        ],
    ];
    let row = |label: &str, s: &LatencySummary| {
        vec![
            label.to_string(),
            s.samples.to_string(),
            fmt_ms(s.min),
            fmt_ms(s.p50),
            fmt_ms(s.max),
        ]
    };
    let mut rows = vec![
        row("greenroom docs build (process wall time)", &ours),
        row("mkdocs build (process wall time)", &theirs),
        row("greenroom docs build (CPU time, user + system)", &our_cpu),
        row("mkdocs build (CPU time, user + system)", &their_cpu),
    ];
    if let Some(s) = LatencySummary::from_samples(&own) {
        rows.push(row("greenroom, as its summary line reports", &s));
    }
    let verdict = vec![
        speedup_row(ours.p50, theirs.p50),
        info_row(
            "CPU time: mkdocs p50 / greenroom p50",
            format!("{:.1}×", ratio(our_cpu.p50, their_cpu.p50)),
        ),
        info_row("load average when done (1 min)", load_average()),
        info_row(
            "reference build when the fixtures were made",
            reference_seconds(&fx).unwrap_or_else(|| "–".into()),
        ),
    ];

    let mut out = table(&["setting", "value"], &setup);
    out.push('\n');
    out.push_str(&table(&["build", "runs", "min", "p50", "max"], &rows));
    out.push('\n');
    out.push_str(&markdown(&verdict));
    Ok(out)
}

fn ratio(ours: Duration, theirs: Duration) -> f64 {
    theirs.as_secs_f64() / ours.as_secs_f64().max(1e-9)
}

/// Wall times on a 2-core machine shared with other builds say little
/// without the load they were taken under.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "–".into())
}

/// mkdocs' p50 over greenroom's, judged against [`SPEEDUP_TARGET`].
fn speedup_row(ours: Duration, theirs: Duration) -> Row {
    let ratio = ratio(ours, theirs);
    Row {
        metric: "speed-up: mkdocs p50 / greenroom p50".into(),
        value: format!("{ratio:.1}×"),
        target: format!("≥ {SPEEDUP_TARGET:.0}×"),
        pass: Some(ratio >= SPEEDUP_TARGET),
    }
}

/// The wall time the fixtures script recorded for the reference build.
fn reference_seconds(fx: &Fixtures) -> Option<String> {
    let info = fx
        .project
        .with_file_name(format!("starlette-{}-mkdocs-build.txt", fx.starlette));
    let text = std::fs::read_to_string(info).ok()?;
    let seconds: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("build_seconds="))?
        .trim()
        .parse()
        .ok()?;
    Some(format!("{:.0} ms (mkdocs, first build)", seconds * 1000.0))
}

fn main() -> ExitCode {
    let args = Args::parse();
    finish("docs-bench", measure(&args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_version_is_read_from_the_assignment() {
        let script = "#!/usr/bin/env bash\n# STARLETTE_VERSION=0.1 in a comment\nSTARLETTE_VERSION=1.10.0\nV=\"$STARLETTE_VERSION\"\n";
        assert_eq!(pinned_version(script).as_deref(), Some("1.10.0"));
        assert_eq!(pinned_version("STARLETTE_VERSION=\n"), None);
        let real = std::fs::read_to_string(repo_root().join("scripts/docs-fixtures")).unwrap();
        assert!(pinned_version(&real).is_some_and(|v| v.split('.').count() == 3));
    }

    #[test]
    fn greenrooms_own_figure_is_read_from_its_summary_line() {
        assert_eq!(
            reported_duration("built 25 pages in 41.5 ms to /tmp/x/site\n"),
            Some(Duration::from_micros(41_500))
        );
        assert_eq!(
            reported_duration("warning: x\nbuilt 3 pages in 7 ms to out"),
            Some(Duration::from_millis(7))
        );
        assert_eq!(
            reported_duration("INFO - Documentation built in 1.40 seconds"),
            None
        );
    }

    #[test]
    fn the_speedup_is_judged_against_twenty_times() {
        let row = speedup_row(Duration::from_millis(50), Duration::from_millis(1500));
        assert_eq!(row.value, "30.0×");
        assert_eq!(row.pass, Some(true));
        let slow = speedup_row(Duration::from_millis(100), Duration::from_millis(1500));
        assert_eq!((slow.value.as_str(), slow.pass), ("15.0×", Some(false)));
    }

    #[test]
    fn a_waited_for_childs_cpu_time_is_counted() {
        let before = children_cpu();
        let status = Command::new("sh")
            .arg("-c")
            .arg("i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done")
            .status()
            .unwrap();
        assert!(status.success());
        assert!(children_cpu() > before);
    }

    #[test]
    fn missing_pages_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("a")).unwrap();
        std::fs::write(tmp.path().join("a/index.html"), "x").unwrap();
        std::fs::write(tmp.path().join("index.html"), "x").unwrap();
        let pages = vec![
            "index.html".to_string(),
            "a/index.html".into(),
            "b/index.html".into(),
        ];
        assert_eq!(missing_pages(tmp.path(), &pages), vec!["b/index.html"]);
    }
}
