//! `permissions-bench`: what a permission policy costs on
//! `GET /api/catalog/entities/by-query`. One generated catalog is stitched
//! once; then two servers run side by side on that database, both requiring
//! sign-in (so both pay for authentication): one without a policy
//! (everything allowed), one with an ownership policy. The same requests go
//! to both, interleaved in small blocks so that other load on the machine
//! affects both modes alike.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};
use url::Url;

use crate::appconfig::{app_config, BenchDatabase};
use crate::cli::check_counts;
use crate::generate::{describe, CatalogPlan};
use crate::harness::{with_plan, CatalogSetup};
use crate::inprocess::{Background, InProcessServer, ServerRuntime};
use crate::permissionsreport::{LevelTable, ModeFigures, PermissionsReport, QueryRow};
use crate::probe::Api;
use crate::run::{database_label, wait_until_stitched, DbKind, GENERATED_KINDS};
use crate::server::{RunningServer, ServerProcess};
use crate::stats::LatencySummary;

/// The policy of the measured mode: signed-in users read what they own.
pub const OWNERSHIP_POLICY: &str = "\
rules:
  - name: read-own
    permissions: [catalog.entity.read]
    conditions: { rule: IS_ENTITY_OWNER }
";

/// The fields the catalog page's search box looks in.
pub const TEXT_FIELDS: &str = "metadata.name,metadata.title,spec.profile.displayName";

/// Timed requests per mode between two switches of mode.
pub const BLOCK: usize = 25;

const BY_QUERY: &str = "/api/catalog/entities/by-query";
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Signed in, no policy: every read allowed.
    NoPolicy,
    /// Signed in, [`OWNERSHIP_POLICY`].
    Policy,
}

impl Mode {
    pub const BOTH: [Mode; 2] = [Mode::NoPolicy, Mode::Policy];

    pub fn slug(self) -> &'static str {
        match self {
            Mode::NoPolicy => "no-policy",
            Mode::Policy => "policy",
        }
    }

    fn index(self) -> usize {
        match self {
            Mode::NoPolicy => 0,
            Mode::Policy => 1,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PermissionsOptions {
    pub entities: usize,
    pub db: DbKind,
    pub pg_url: String,
    pub samples: usize,
    pub warmup: usize,
    pub concurrency: Vec<usize>,
    pub limit: usize,
    pub owner_groups: usize,
    pub term: String,
    pub per_file: usize,
    pub stitch_timeout: Duration,
    pub seed: u64,
    pub keep: bool,
}

impl PermissionsOptions {
    pub fn validate(&self) -> anyhow::Result<()> {
        check_counts(&[
            ("--samples", self.samples),
            ("--limit", self.limit),
            ("--owner-groups", self.owner_groups),
            ("--per-file", self.per_file),
        ])?;
        if self.concurrency.is_empty() || self.concurrency.contains(&0) {
            bail!("--concurrency takes levels of at least 1, such as 1,4");
        }
        if self.term.trim().is_empty() {
            bail!("--term must not be empty");
        }
        if self.stitch_timeout.is_zero() {
            bail!("--stitch-timeout must be at least 1 second");
        }
        Ok(())
    }
}

/// The user the policy mode signs in as, a member of exactly one team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchUser {
    pub name: String,
    pub team: String,
}

impl BenchUser {
    pub fn entity_ref(&self) -> String {
        format!("user:default/{}", self.name)
    }

    pub fn team_ref(&self) -> String {
        format!("group:default/{}", self.team)
    }
}

/// The first generated user who is a member of one team only.
pub fn pick_user(plan: &CatalogPlan) -> Option<BenchUser> {
    (0..plan.users).find_map(|i| {
        let user = plan.entity(plan.user_index(i));
        match user["spec"]["memberOf"].as_array().map(Vec::as_slice) {
            Some([team]) => Some(BenchUser {
                name: user["metadata"]["name"].as_str()?.to_string(),
                team: team.as_str()?.to_string(),
            }),
            _ => None,
        }
    })
}

/// What the answers must say, computed from the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Expected {
    pub components: u64,
    pub owned_components: u64,
    /// Components whose name or title contains the term.
    pub text: u64,
    pub owned_text: u64,
    /// Entities of any kind the team owns.
    pub owned_entities: u64,
}

impl Expected {
    fn components(&self, mode: Mode) -> u64 {
        match mode {
            Mode::NoPolicy => self.components,
            Mode::Policy => self.owned_components,
        }
    }

    fn text(&self, mode: Mode) -> u64 {
        match mode {
            Mode::NoPolicy => self.text,
            Mode::Policy => self.owned_text,
        }
    }
}

pub fn text_matches(entity: &Value, term: &str) -> bool {
    ["name", "title"].iter().any(|f| {
        entity["metadata"][f]
            .as_str()
            .is_some_and(|v| v.to_lowercase().contains(term))
    })
}

pub fn expected_counts(plan: &CatalogPlan, team: &str, term: &str) -> Expected {
    let mut expected = Expected::default();
    let first_component = plan.component_index(0);
    for index in 0..plan.total() {
        let entity = plan.entity(index);
        let owned = entity["spec"]["owner"].as_str() == Some(team);
        expected.owned_entities += u64::from(owned);
        if index >= first_component {
            let text = text_matches(&entity, term);
            expected.components += 1;
            expected.owned_components += u64::from(owned);
            expected.text += u64::from(text);
            expected.owned_text += u64::from(owned && text);
        }
    }
    expected
}

/// The app-config of one server. `mode` None is the stitching server: no
/// sign-in, no policy, the default search index. The measured servers
/// require sign-in (the guest provider, as `user`), each has its own search
/// index directory (they are open at the same time), and the policy mode
/// reads `policy.yaml` from `dir`.
pub fn server_config(
    port: u16,
    database: &BenchDatabase,
    location_file: &Path,
    dir: &Path,
    mode: Option<Mode>,
    user: &BenchUser,
) -> Value {
    let mut config = app_config(port, database, location_file);
    config["app"]["title"] = json!("Greenroom permissions benchmark");
    if let Some(mode) = mode {
        config["auth"] = json!({
            // The run must not outlive its tokens (clamped to 24 h at most).
            "backstageTokenExpiration": {"hours": 24},
            "providers": {"guest": {"userEntityRef": user.entity_ref()}},
        });
        config["search"] = json!({
            "indexDirectory": dir.join(format!("search-index-{}", mode.slug())).to_string_lossy(),
        });
        if mode == Mode::Policy {
            config["permission"] = json!({
                "enabled": true,
                "policyFile": dir.join("policy.yaml").to_string_lossy(),
            });
        }
    }
    config
}

/// Runs the benchmark; the temporary directory and database are removed on
/// every path (unless `keep`).
pub async fn run_permissions(opts: &PermissionsOptions) -> anyhow::Result<PermissionsReport> {
    opts.validate()?;
    let plan = CatalogPlan::new(opts.entities, opts.seed)
        .map_err(|e| anyhow::anyhow!(e))?
        .with_owner_groups(opts.owner_groups);
    let user = pick_user(&plan).context("the catalog has no user in exactly one team")?;
    let term = opts.term.trim().to_lowercase();
    let expected = expected_counts(&plan, &user.team, &term);
    if expected.owned_components <= opts.limit as u64 {
        bail!(
            "{} owns only {} components, not more than one page of --limit {}: \
             use fewer --owner-groups or more --entities",
            user.team_ref(),
            expected.owned_components,
            opts.limit
        );
    }
    let setup = CatalogSetup {
        entities: opts.entities,
        seed: opts.seed,
        per_file: opts.per_file,
        db: opts.db,
        pg_url: &opts.pg_url,
        keep: opts.keep,
        dir_prefix: "greenroom-permissions-bench-",
        kept_files: &[
            "catalog",
            "policy.yaml",
            "stitch-config.json",
            "stitch.log",
            "the SQLite file",
            "search indexes",
        ],
    };
    let done = with_plan(&setup, plan, async |plan, dir, location_file, database| {
        measure(
            opts,
            plan,
            &user,
            &expected,
            &term,
            dir,
            location_file,
            database,
        )
        .await
    })
    .await?;
    let mut report = done.measured;
    let mut setup = vec![
        ("catalog".to_string(), describe(&done.plan)),
        ("database".to_string(), database_label(&done.database)),
    ];
    setup.append(&mut report.setup);
    report.setup = setup;
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
async fn measure(
    opts: &PermissionsOptions,
    plan: &CatalogPlan,
    user: &BenchUser,
    expected: &Expected,
    term: &str,
    dir: &Path,
    location_file: &Path,
    database: &BenchDatabase,
) -> anyhow::Result<PermissionsReport> {
    let no_ui = dir.join("no-ui");
    let policy_file = dir.join("policy.yaml");
    std::fs::write(&policy_file, OWNERSHIP_POLICY)
        .with_context(|| format!("cannot write {}", policy_file.display()))?;

    // 1. Stitch the catalog once, with the full server in a child process
    // (this command with --config): the measurement then starts from a
    // database closed after its bulk load, in a process that never held it.
    let stitched = stitch_in_child(opts, plan, dir, location_file, database, user).await?;
    settle(database).await?;

    // 2. The two measured servers, HTTP only, side by side: first to check
    // every query's answer, then afresh for each query and level.
    let runtime = ServerRuntime::new()?;
    let env = PairEnv {
        runtime: &runtime,
        no_ui: &no_ui,
        database,
        location_file,
        dir,
        user,
    };
    let pair = Pair::start(&env).await?;
    let count = pair.apis[0].count_entities(GENERATED_KINDS).await?;
    if count != plan.total() as u64 {
        pair.stop().await?;
        bail!(
            "the server without a policy counts {count} entities, expected {}",
            plan.total()
        );
    }
    let ownership = pair.ownership.clone();
    let shapes = match checked_shapes(opts, user, expected, term, &pair.apis).await {
        Ok(shapes) => shapes,
        Err(e) => {
            pair.stop().await?;
            return Err(e);
        }
    };
    pair.stop().await?;
    let levels = measure_shapes(opts, &env, &shapes).await?;

    let owned_share = expected.owned_components as f64 / expected.components.max(1) as f64;
    let setup = vec![
        (
            "stitched (once, the whole server in a child process)".to_string(),
            format!("{:.1} s", stitched.as_secs_f64()),
        ),
        (
            "signed in as (both modes, guest provider, Bearer identity token)".to_string(),
            format!("{} (ownership refs: {})", user.entity_ref(), ownership.join(", ")),
        ),
        (
            "policy mode".to_string(),
            "rule read-own: catalog.entity.read if IS_ENTITY_OWNER (default deny)".to_string(),
        ),
        (
            format!("{} owns", user.team_ref()),
            format!(
                "{} of {} components ({:.2}%), {} entities of any kind",
                expected.owned_components,
                expected.components,
                owned_share * 100.0,
                expected.owned_entities
            ),
        ),
        (
            "requests".to_string(),
            format!(
                "{} timed after {} warm-up per query and mode, modes interleaved in blocks of {BLOCK}, \
                 on servers started afresh for each query and level, limit={}",
                opts.samples, opts.warmup, opts.limit
            ),
        ),
    ];
    Ok(PermissionsReport { setup, levels })
}

/// Starts `permissions-bench --config <stitch-config.json>` (the whole
/// server, see [`crate::inprocess::serve_until_interrupted`]), waits until
/// every entity is stitched, then stops it with SIGINT and waits for it to
/// exit. Returns the time from its start until all were stitched.
async fn stitch_in_child(
    opts: &PermissionsOptions,
    plan: &CatalogPlan,
    dir: &Path,
    location_file: &Path,
    database: &BenchDatabase,
    user: &BenchUser,
) -> anyhow::Result<Duration> {
    let exe = std::env::current_exe().context("cannot find this benchmark's executable")?;
    let port = greenroom_webdriver::free_port()?;
    let config_file = dir.join("stitch-config.json");
    let config = server_config(port, database, location_file, dir, None, user);
    std::fs::write(&config_file, serde_json::to_vec_pretty(&config)?)
        .with_context(|| format!("cannot write {}", config_file.display()))?;
    let started = Instant::now();
    let mut child = ServerProcess::start(&exe, &config_file, dir, &dir.join("stitch.log"))?;
    eprintln!(
        "stitching {} entities in a child process (pid {}) on 127.0.0.1:{port}",
        plan.total(),
        child.pid
    );
    let api = Api::new(port, Duration::from_secs(30))?;
    let outcome =
        wait_until_stitched(&api, &mut child, plan.total(), started, opts.stitch_timeout).await;
    let stitched = match outcome {
        Ok((_, stitched)) => stitched,
        Err(e) => return child.stop_after(Err(e)).await,
    };
    // SIGINT: the child stops its server gracefully and exits.
    // SAFETY: kill(2) on the pid of our own child, which has not been reaped.
    unsafe {
        libc::kill(child.pid as libc::pid_t, libc::SIGINT);
    }
    let stopping = Instant::now();
    loop {
        if let Some(status) = child.exited()? {
            if !status.success() {
                bail!(
                    "the stitching process exited with {status}; see {}",
                    dir.join("stitch.log").display()
                );
            }
            return Ok(stitched);
        }
        if stopping.elapsed() > Duration::from_secs(120) {
            return child
                .stop_after(Err(anyhow::anyhow!(
                    "the stitching process did not exit within 120 s of SIGINT"
                )))
                .await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// After stitching, a SQLite database still has the ingestion in its WAL;
/// copying it into the database file and truncating the WAL measures the
/// steady state rather than the aftermath of a bulk load.
async fn settle(database: &BenchDatabase) -> anyhow::Result<()> {
    use sqlx::{Connection, Row};
    let BenchDatabase::Sqlite { file } = database else {
        return Ok(());
    };
    let wal = std::fs::metadata(format!("{file}-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
    let mut c = sqlx::SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("cannot open {file}"))?;
    let row = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&mut c)
        .await
        .context("checkpointing the SQLite WAL")?;
    let (busy, frames, done): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    c.close().await.ok();
    eprintln!(
        "checkpointed the SQLite WAL after stitching: {:.0} MB, {done} of {frames} frames{}",
        wal as f64 / 1e6,
        if busy != 0 {
            " (busy: another connection is open)"
        } else {
            ""
        }
    );
    Ok(())
}

/// Signs in to a freshly started server, retrying while it starts.
async fn sign_in(server: &mut InProcessServer) -> anyhow::Result<Value> {
    let api = Api::new(server.port, Duration::from_secs(10))?;
    let started = Instant::now();
    loop {
        server.ensure_running()?;
        match api.sign_in_guest().await {
            Ok(identity) => return Ok(identity),
            Err(e) if started.elapsed() > SERVER_START_TIMEOUT => {
                return Err(e.context("the server did not let the guest sign in"))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// What starting a [`Pair`] needs.
struct PairEnv<'a> {
    runtime: &'a ServerRuntime,
    no_ui: &'a Path,
    database: &'a BenchDatabase,
    location_file: &'a Path,
    dir: &'a Path,
    user: &'a BenchUser,
}

/// The two measured servers (index: [`Mode::index`]), each signed in to.
struct Pair {
    servers: Vec<InProcessServer>,
    apis: Vec<Api>,
    /// The caller's ownership refs as the sign-in answered them.
    ownership: Vec<String>,
}

impl Pair {
    async fn start(env: &PairEnv<'_>) -> anyhow::Result<Self> {
        let mut pair = Pair {
            servers: Vec::new(),
            apis: Vec::new(),
            ownership: Vec::new(),
        };
        for mode in Mode::BOTH {
            let server =
                env.runtime
                    .start(Background::HttpOnly, env.no_ui.to_path_buf(), |port| {
                        Ok(server_config(
                            port,
                            env.database,
                            env.location_file,
                            env.dir,
                            Some(mode),
                            env.user,
                        ))
                    })?;
            pair.servers.push(server);
        }
        for (mode, server) in Mode::BOTH.into_iter().zip(pair.servers.iter_mut()) {
            let identity = sign_in(server).await?;
            let refs: Vec<String> = identity["identity"]["ownershipEntityRefs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect();
            if !refs.contains(&env.user.team_ref()) {
                bail!(
                    "signed in to the {} server as {}, whose ownership refs {refs:?} lack {}",
                    mode.slug(),
                    env.user.entity_ref(),
                    env.user.team_ref()
                );
            }
            pair.ownership = refs;
            let token = identity["token"].as_str().unwrap_or_default();
            pair.apis.push(Api::with_bearer(
                server.port,
                Duration::from_secs(30),
                token,
            )?);
        }
        Ok(pair)
    }

    /// `url` (path and query) on this pair's server of `mode`.
    fn url(&self, mode: Mode, url: &Url) -> anyhow::Result<Url> {
        let mut at = self.apis[mode.index()].url(url.path(), &[])?;
        at.set_query(url.query());
        Ok(at)
    }

    fn ensure_running(&mut self) -> anyhow::Result<()> {
        self.servers.iter_mut().try_for_each(|s| s.ensure_running())
    }

    async fn stop(self) -> anyhow::Result<()> {
        for server in self.servers {
            server.stop().await?;
        }
        Ok(())
    }
}

/// One query shape: its URL for each mode and what the checked answer held.
struct Shape {
    name: String,
    urls: [Url; 2],
    items: [usize; 2],
    totals: [u64; 2],
}

/// For each level and query: a fresh pair of servers (so that what one
/// query leaves in the database connections does not weigh on the next),
/// the warm-up, then the interleaved timed requests.
async fn measure_shapes(
    opts: &PermissionsOptions,
    env: &PairEnv<'_>,
    shapes: &[Shape],
) -> anyhow::Result<Vec<LevelTable>> {
    let mut levels = Vec::new();
    for &concurrency in &opts.concurrency {
        let mut rows = Vec::new();
        let mut all: [Vec<Duration>; 2] = Default::default();
        let mut all_wall = [Duration::ZERO; 2];
        for shape in shapes {
            let mut pair = Pair::start(env).await?;
            let outcome = measure_shape(opts, &mut pair, shape, concurrency).await;
            pair.stop().await?;
            let (samples, wall) = outcome?;
            let figures = |m: usize| -> anyhow::Result<ModeFigures> {
                Ok(ModeFigures {
                    summary: LatencySummary::from_samples(&samples[m]).context("no samples")?,
                    per_second: samples[m].len() as f64 / wall[m].as_secs_f64().max(1e-9),
                    items: Some(shape.items[m]),
                    total: Some(shape.totals[m]),
                })
            };
            let row = QueryRow {
                query: shape.name.clone(),
                no_policy: figures(0)?,
                policy: figures(1)?,
            };
            eprintln!(
                "  concurrency {concurrency}, {}: p95 {:.2} ms without, {:.2} ms with the policy",
                shape.name,
                row.no_policy.summary.p95.as_secs_f64() * 1e3,
                row.policy.summary.p95.as_secs_f64() * 1e3
            );
            rows.push(row);
            for m in 0..2 {
                all[m].extend_from_slice(&samples[m]);
                all_wall[m] += wall[m];
            }
        }
        let overall = |m: usize| -> anyhow::Result<ModeFigures> {
            Ok(ModeFigures {
                summary: LatencySummary::from_samples(&all[m]).context("no samples")?,
                per_second: all[m].len() as f64 / all_wall[m].as_secs_f64().max(1e-9),
                items: None,
                total: None,
            })
        };
        rows.push(QueryRow {
            query: "all queries".into(),
            no_policy: overall(0)?,
            policy: overall(1)?,
        });
        levels.push(LevelTable { concurrency, rows });
    }
    Ok(levels)
}

async fn measure_shape(
    opts: &PermissionsOptions,
    pair: &mut Pair,
    shape: &Shape,
    concurrency: usize,
) -> anyhow::Result<([Vec<Duration>; 2], [Duration; 2])> {
    let urls = [
        pair.url(Mode::NoPolicy, &shape.urls[0])?,
        pair.url(Mode::Policy, &shape.urls[1])?,
    ];
    for _ in 0..opts.warmup {
        for mode in Mode::BOTH {
            pair.apis[mode.index()]
                .timed_get(&urls[mode.index()])
                .await?;
        }
    }
    let measured = interleaved(&pair.apis, &urls, opts.samples, concurrency).await?;
    pair.ensure_running()?;
    Ok(measured)
}

/// `samples` timed requests per mode, in blocks of [`BLOCK`] that alternate
/// which mode goes first. Returns the latencies and the wall time of each
/// mode's blocks.
async fn interleaved(
    apis: &[Api],
    urls: &[Url; 2],
    samples: usize,
    concurrency: usize,
) -> anyhow::Result<([Vec<Duration>; 2], [Duration; 2])> {
    let mut latencies: [Vec<Duration>; 2] = Default::default();
    let mut wall = [Duration::ZERO; 2];
    let blocks = samples.div_ceil(BLOCK);
    for b in 0..blocks {
        let count = BLOCK.min(samples - b * BLOCK);
        let order = if b % 2 == 0 {
            Mode::BOTH
        } else {
            [Mode::Policy, Mode::NoPolicy]
        };
        for mode in order {
            let m = mode.index();
            let started = Instant::now();
            latencies[m].extend(timed_block(&apis[m], &urls[m], count, concurrency).await?);
            wall[m] += started.elapsed();
        }
    }
    Ok((latencies, wall))
}

/// `count` GETs of `url`, at most `concurrency` in flight.
pub async fn timed_block(
    api: &Api,
    url: &Url,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<Duration>> {
    // Workers take the next request number in turn (one thread: a Cell is enough).
    let next = &std::cell::Cell::new(0usize);
    let workers = (0..concurrency.min(count)).map(|_| async move {
        let mut out = Vec::new();
        loop {
            let i = next.get();
            if i >= count {
                return Ok::<_, anyhow::Error>(out);
            }
            next.set(i + 1);
            out.push(api.timed_get(url).await?.0);
        }
    });
    let done = futures::future::try_join_all(workers).await?;
    Ok(done.into_iter().flatten().collect())
}

/// Builds the query shapes, checking each first answer in both modes.
async fn checked_shapes(
    opts: &PermissionsOptions,
    user: &BenchUser,
    expected: &Expected,
    term: &str,
    apis: &[Api],
) -> anyhow::Result<Vec<Shape>> {
    let limit = opts.limit.to_string();
    let ordered: [(&str, &str); 3] = [
        ("filter", "kind=component"),
        ("orderField", "metadata.name,asc"),
        ("limit", &limit),
    ];
    let text: [(&str, &str); 5] = [
        ("filter", "kind=component"),
        ("orderField", "metadata.name,asc"),
        ("fullTextFilterTerm", term),
        ("fullTextFilterFields", TEXT_FIELDS),
        ("limit", &limit),
    ];
    let mut shapes: Vec<Shape> = Vec::new();
    let mut page_two: Vec<Url> = Vec::new();
    let mut page_two_checks = Vec::new();
    let mut plain = Vec::new();
    let mut sorted = Vec::new();
    let mut texts = Vec::new();
    for mode in Mode::BOTH {
        let api = &apis[mode.index()];
        let owner = (mode == Mode::Policy).then(|| user.team_ref());
        let total = expected.components(mode);
        let page = (opts.limit as u64).min(total) as usize;

        let url = api.url(BY_QUERY, &[("filter", "kind=component"), ("limit", &limit)])?;
        let (_, body) = api.timed_get_json(&url).await?;
        check_answer(&url, &body, page, total, owner.as_deref(), None)?;
        plain.push((url, page, total));

        let url = api.url(BY_QUERY, &ordered)?;
        let (_, first) = api.timed_get_json(&url).await?;
        check_answer(&url, &first, page, total, owner.as_deref(), None)?;
        let cursor = first["pageInfo"]["nextCursor"].as_str().with_context(|| {
            format!("GET {url} returned no pageInfo.nextCursor ({total} match)")
        })?;
        let next = api.url(BY_QUERY, &[("cursor", cursor), ("limit", &limit)])?;
        let (_, second) = api.timed_get_json(&next).await?;
        let second_page = (total - page as u64).min(opts.limit as u64) as usize;
        check_answer(&next, &second, second_page, total, owner.as_deref(), None)?;
        let n1 = names(&first);
        if names(&second).iter().any(|n| n1.contains(n)) {
            bail!("the nextCursor page of {url} repeats entities of the first page");
        }
        sorted.push((url, page, total));
        page_two.push(next);
        page_two_checks.push((second_page, total));

        let total = expected.text(mode);
        let page = (opts.limit as u64).min(total) as usize;
        let url = api.url(BY_QUERY, &text)?;
        let (_, body) = api.timed_get_json(&url).await?;
        check_answer(&url, &body, page, total, owner.as_deref(), Some(term))?;
        texts.push((url, page, total));
    }
    let pair = |name: String, v: Vec<(Url, usize, u64)>| Shape {
        name,
        urls: [v[0].0.clone(), v[1].0.clone()],
        items: [v[0].1, v[1].1],
        totals: [v[0].2, v[1].2],
    };
    let l = opts.limit;
    shapes.push(pair(format!("filter=kind=component&limit={l}"), plain));
    shapes.push(pair(
        format!("filter=kind=component&orderField=metadata.name,asc&limit={l}"),
        sorted,
    ));
    shapes.push(Shape {
        name: format!("cursor=<nextCursor of the above>&limit={l} (page 2)"),
        urls: [page_two[0].clone(), page_two[1].clone()],
        items: [page_two_checks[0].0, page_two_checks[1].0],
        totals: [page_two_checks[0].1, page_two_checks[1].1],
    });
    shapes.push(pair(
        format!("…&orderField=metadata.name,asc&fullTextFilterTerm={term}&fullTextFilterFields=<3 fields>&limit={l}"),
        texts,
    ));
    Ok(shapes)
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["metadata"]["name"].as_str().map(str::to_string))
        .collect()
}

/// A page must hold `items` components, say `totalItems` = `total`, be
/// owned by `owner` (when given) and match `term` (when given); anything
/// else is a wrong answer. (The order is the database's collation, which
/// need not be Rust's byte order on PostgreSQL, so it is not checked.)
pub fn check_answer(
    url: &Url,
    page: &Value,
    items: usize,
    total: u64,
    owner: Option<&str>,
    term: Option<&str>,
) -> anyhow::Result<()> {
    let got = page["items"]
        .as_array()
        .with_context(|| format!("GET {url} returned no items: {page}"))?;
    if got.len() != items {
        bail!("GET {url} returned {} items, expected {items}", got.len());
    }
    if page["totalItems"].as_u64() != Some(total) {
        bail!(
            "GET {url} returned totalItems {}, expected {total}",
            page["totalItems"]
        );
    }
    for entity in got {
        let name = entity["metadata"]["name"].as_str().unwrap_or_default();
        if entity["kind"] != "Component" {
            bail!(
                "GET {url} returned {} {name}, not a Component",
                entity["kind"]
            );
        }
        if let Some(owner) = owner {
            let owned = entity["relations"].as_array().is_some_and(|rs| {
                rs.iter().any(|r| {
                    r["type"] == "ownedBy"
                        && r["targetRef"]
                            .as_str()
                            .is_some_and(|t| t.eq_ignore_ascii_case(owner))
                })
            });
            if !owned {
                bail!("GET {url} returned {name}, which {owner} does not own: the policy did not filter");
            }
        }
        if let Some(term) = term {
            if !text_matches(entity, term) {
                bail!("GET {url} returned {name}, whose name and title lack '{term}'");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> PermissionsOptions {
        PermissionsOptions {
            entities: 2_000,
            db: DbKind::Sqlite,
            pg_url: String::new(),
            samples: 10,
            warmup: 1,
            concurrency: vec![1, 4],
            limit: 5,
            owner_groups: 4,
            term: "pay".into(),
            per_file: 500,
            stitch_timeout: Duration::from_secs(60),
            seed: 1,
            keep: false,
        }
    }

    #[test]
    fn zero_counts_and_empty_levels_are_refused() {
        assert!(options().validate().is_ok());
        for (opts, flag) in [
            (
                PermissionsOptions {
                    samples: 0,
                    ..options()
                },
                "--samples",
            ),
            (
                PermissionsOptions {
                    limit: 0,
                    ..options()
                },
                "--limit",
            ),
            (
                PermissionsOptions {
                    owner_groups: 0,
                    ..options()
                },
                "--owner-groups",
            ),
            (
                PermissionsOptions {
                    concurrency: vec![1, 0],
                    ..options()
                },
                "--concurrency",
            ),
            (
                PermissionsOptions {
                    concurrency: vec![],
                    ..options()
                },
                "--concurrency",
            ),
            (
                PermissionsOptions {
                    term: " ".into(),
                    ..options()
                },
                "--term",
            ),
        ] {
            let err = opts.validate().unwrap_err().to_string();
            assert!(err.contains(flag), "{err}");
        }
    }

    #[test]
    fn the_user_is_in_one_owner_team_and_the_counts_add_up() {
        let plan = CatalogPlan::new(2_000, 1).unwrap().with_owner_groups(4);
        let user = pick_user(&plan).unwrap();
        assert!(plan
            .owner_group_range()
            .any(|i| plan.group_name(i) == user.team));
        let expected = expected_counts(&plan, &user.team, "pay");
        assert_eq!(expected.components, plan.components as u64);
        // Four teams share the components: roughly a quarter each.
        let share = expected.owned_components as f64 / expected.components as f64;
        assert!((0.15..0.35).contains(&share), "{share}");
        assert!(expected.text > 0 && expected.text < expected.components);
        assert!(expected.owned_text <= expected.owned_components.min(expected.text));
        assert!(expected.owned_entities > expected.owned_components);
        assert_eq!(user.entity_ref(), format!("user:default/{}", user.name));
    }

    #[test]
    fn only_the_measured_servers_sign_in_and_only_the_policy_mode_has_a_policy() {
        let db = BenchDatabase::Sqlite {
            file: "/w/catalog.sqlite".into(),
        };
        let user = BenchUser {
            name: "ann-1".into(),
            team: "team-a-1".into(),
        };
        let (loc, dir) = (Path::new("/w/loc.yaml"), Path::new("/w"));
        let stitch = server_config(1, &db, loc, dir, None, &user);
        assert!(stitch.get("auth").is_none() && stitch.get("permission").is_none());
        assert!(stitch.get("search").is_none());
        let open = server_config(2, &db, loc, dir, Some(Mode::NoPolicy), &user);
        assert_eq!(
            open["auth"]["providers"]["guest"]["userEntityRef"],
            "user:default/ann-1"
        );
        assert!(open.get("permission").is_none());
        assert_eq!(
            open["search"]["indexDirectory"],
            "/w/search-index-no-policy"
        );
        let policy = server_config(3, &db, loc, dir, Some(Mode::Policy), &user);
        assert_eq!(
            policy["permission"],
            json!({"enabled": true, "policyFile": "/w/policy.yaml"})
        );
        assert_eq!(policy["search"]["indexDirectory"], "/w/search-index-policy");
        assert_eq!(policy["backend"]["listen"]["port"], 3);
    }

    fn component(name: &str, owner: &str) -> Value {
        json!({
            "kind": "Component",
            "metadata": {"name": name, "title": name},
            "relations": [{"type": "ownedBy", "targetRef": owner}],
        })
    }

    #[test]
    fn answers_are_checked_for_size_total_owner_and_term() {
        let url = Url::parse("http://127.0.0.1:1/q").unwrap();
        let page = json!({
            "items": [component("payments-a", "group:default/t"), component("payments-b", "group:default/t")],
            "totalItems": 7,
        });
        check_answer(&url, &page, 2, 7, Some("group:default/t"), Some("pay")).unwrap();
        let err = |r: anyhow::Result<()>| r.unwrap_err().to_string();
        assert!(err(check_answer(&url, &page, 3, 7, None, None)).contains("expected 3"));
        assert!(err(check_answer(&url, &page, 2, 8, None, None)).contains("totalItems"));
        assert!(err(check_answer(
            &url,
            &page,
            2,
            7,
            Some("group:default/u"),
            None
        ))
        .contains("did not filter"));
        assert!(err(check_answer(&url, &page, 2, 7, None, Some("ship"))).contains("lack 'ship'"));
        let api = json!({"items": [{"kind": "API", "metadata": {"name": "x"}}], "totalItems": 1});
        assert!(err(check_answer(&url, &api, 1, 1, None, None)).contains("not a Component"));
    }

    #[test]
    fn the_policy_parses_as_yaml_with_one_ownership_rule() {
        let policy: Value = serde_saphyr::from_str(OWNERSHIP_POLICY).unwrap();
        assert_eq!(
            policy,
            json!({"rules": [{
                "name": "read-own",
                "permissions": ["catalog.entity.read"],
                "conditions": {"rule": "IS_ENTITY_OWNER"},
            }]})
        );
    }
}
