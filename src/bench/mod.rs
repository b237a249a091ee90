//! `strata bench`: figures for the README, against the configured PostgreSQL.
//!
//! `commands` (the default): commands over HTTP beside the database's ceiling and
//! cqrs-es (see [`side_by_side`]); `rebuild` and `lag`: the projectors (see
//! [`projection`]); `reads`: the read API against its store (see [`reads`]);
//! `bookstore` and `hotel`: a context's commands, spread and contended (see
//! [`bookstore`], [`hotel`]); `game`: exchanges through a gift service and its circuit
//! breaker (see [`game`]); `streams`: live mypage streams, what they cost idle and how
//! soon they tell of an order (see [`streams`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::json;
use sqlx::PgPool;

use auth::{Role, Tokens};
use command_api::store::PostgresEventLog;
use read_api::{Freshness, ViewStore};

use crate::settings::{BenchScenario, BenchSettings, ReadSettings, StoreSettings};
use crate::App;

/// The benches run on PostgreSQL.
type Bench = App<PostgresEventLog>;

mod bookstore;
mod game;
mod hotel;
mod projection;
mod reads;
mod side_by_side;
mod streams;
mod wrk;

/// How long the benches' reads wait for a position (they name none).
pub(crate) const READ_WAIT: Duration = Duration::from_secs(2);
/// A copy of `events` made from the migrated table, dropped after the run.
const CEILING_TABLE: &str = "strata_bench_ceiling";

/// Figures of one timed run.
pub(crate) struct Run {
    operations: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    pub(crate) fn per_second(&self) -> f64 {
        self.operations as f64 / self.elapsed.as_secs_f64()
    }

    pub(crate) fn percentile(&self, p: f64) -> Duration {
        let index = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies.get(index).copied().unwrap_or_default()
    }
}

pub async fn run(
    store: &StoreSettings,
    read: &ReadSettings,
    settings: &BenchSettings,
) -> anyhow::Result<()> {
    if store.database_url.is_none() {
        bail!("strata bench measures PostgreSQL: set DATABASE_URL");
    }
    let backend = Bench::open(store).await?;
    backend.migrate().await?;
    claim_database(backend.service().log().pool(), settings.any_database).await?;
    let views = backend.view_store(read.read_pool_size).await?;
    match settings.scenario.clone().unwrap_or(BenchScenario::Commands) {
        BenchScenario::Commands => {
            side_by_side::commands(&backend, views, &settings.concurrency, settings.seconds).await
        }
        BenchScenario::Rebuild { events } => projection::rebuild(&backend, events).await,
        BenchScenario::Bookstore { books } => {
            let (levels, seconds) = (&settings.concurrency, settings.seconds);
            bookstore::bookstore(&backend, views, books, levels, seconds).await
        }
        BenchScenario::Game => game::game(store, views, settings.seconds).await,
        BenchScenario::Hotel { rooms } => {
            let (levels, seconds) = (&settings.concurrency, settings.seconds);
            hotel::hotel(&backend, views, rooms, levels, seconds).await
        }
        BenchScenario::Reads {
            orders,
            concurrency,
            seconds,
        } => reads::reads(&backend, views, orders, concurrency, seconds).await,
        BenchScenario::Streams { streams, orders } => {
            streams::streams(&backend, views, streams, orders).await
        }
        BenchScenario::Lag {
            rate,
            seconds,
            warm_up,
            delivery,
        } => {
            let load = projection::Load {
                rate,
                warm_up: Duration::from_secs(warm_up),
                measured: Duration::from_secs(seconds),
            };
            projection::lag(&backend, views, &load, delivery).await
        }
    }
}

/// The table that marks a database as the benchmarks' own, made by their first run.
const MARKER_TABLE: &str = "strata_bench_marker";

/// Refuses a database that holds events the benchmarks did not write (a deployment's,
/// say), unless `any_database`; marks the database as the benchmarks' own.
async fn claim_database(pool: &PgPool, any_database: bool) -> anyhow::Result<()> {
    let (has_events, marked): (bool, bool) = sqlx::query_as(&format!(
        "SELECT EXISTS (SELECT 1 FROM events), to_regclass('{MARKER_TABLE}') IS NOT NULL"
    ))
    .fetch_one(pool)
    .await?;
    if has_events && !marked && !any_database {
        bail!(
            "this database holds events strata bench did not write: give the benchmarks a \
             database of their own, or pass --any-database to add theirs to it"
        );
    }
    sqlx::query(&format!("CREATE TABLE IF NOT EXISTS {MARKER_TABLE} ()"))
        .execute(pool)
        .await?;
    Ok(())
}

/// The API as `strata serve` serves it (timed, with `/metrics`, behind the default
/// overload limits and the bearer-token gate, its commits announced to other
/// processes), so the figures include what every request pays in production; and an
/// `Authorization` value with an admin's token.
pub(crate) async fn served_api(
    backend: &Bench,
    views: ViewStore,
) -> anyhow::Result<(axum::Router, String)> {
    // The bench's server is never sent a shutdown: its streams end with the process.
    let streams = read_api::Streams::new(
        read_api::live::DEFAULT_MAX_STREAMS,
        tokio::sync::watch::channel(false).1,
    );
    let tokens = Arc::new(Tokens::generated());
    served_api_with(backend, views, Freshness::new(READ_WAIT), streams, tokens).await
}

/// [`served_api`] with reads waiting as `freshness` says, live streams among `streams`,
/// and tokens verified by `tokens` (which the bench may issue more of).
pub(crate) async fn served_api_with(
    backend: &Bench,
    views: ViewStore,
    freshness: Freshness,
    streams: read_api::Streams,
    tokens: Arc<Tokens>,
) -> anyhow::Result<(axum::Router, String)> {
    let token = tokens.issue("bench", Role::Admin, Duration::from_secs(24 * 3600));
    backend.announce_commits();
    let router = backend
        .api_router(views, freshness, tokens, streams)
        .await?;
    let limits = crate::settings::LimitSettings::default().limits();
    Ok((
        backend.served(router, limits, None).await?,
        format!("Bearer {token}"),
    ))
}

/// A client that sends `authorization` with every request.
pub(crate) fn client_sending(authorization: &str) -> anyhow::Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, authorization.parse()?);
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .build()?)
}

/// The process's user and system time so far (`/proc/self/stat`, in clock ticks of
/// 10 ms): over a run of seconds, what the process spent.
pub(crate) fn process_cpu() -> anyhow::Result<Duration> {
    /// Linux reports these times in ticks of 1/100 s (`USER_HZ`) on every platform.
    const TICKS_PER_SECOND: u64 = 100;
    let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    // The fields after the command's name, which is in parentheses: state is the 3rd
    // field, utime the 14th and stime the 15th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let field = |n: usize| -> anyhow::Result<u64> {
        Ok(fields
            .get(n - 3)
            .context("a short /proc/self/stat")?
            .parse()?)
    };
    let ticks = field(14)? + field(15)?;
    Ok(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

/// A duration in microseconds, for the CPU time a request costs.
pub(crate) fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

pub(crate) fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The database's own ceiling: one single-row INSERT transaction per operation.
pub(crate) async fn insert_ceiling(
    pool: &PgPool,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<Run> {
    sqlx::query(&format!("DROP TABLE IF EXISTS {CEILING_TABLE}"))
        .execute(pool)
        .await?;
    sqlx::query(&format!(
        "CREATE TABLE {CEILING_TABLE} (LIKE events INCLUDING ALL)"
    ))
    .execute(pool)
    .await
    .context("copying the events table for the ceiling run")?;
    let insert = format!(
        "INSERT INTO {CEILING_TABLE}
            (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('Order', $1, 1, 'OrderPlaced', '1.0', $2, $3)"
    );
    let payload = json!({"OrderPlaced": {"customerId": "bench", "product": "keyboard", "qty": 1, "price": 1000, "payMethod": "CARD"}});
    let metadata =
        json!({"eventId": uuid::Uuid::now_v7(), "correlationId": "bench", "causationId": "bench"});
    let pool_for_run = pool.clone();
    let run = timed(concurrency, duration, move || {
        let (pool, insert, payload, metadata) = (
            pool_for_run.clone(),
            insert.clone(),
            payload.clone(),
            metadata.clone(),
        );
        async move {
            sqlx::query(&insert)
                .bind(uuid::Uuid::now_v7().to_string())
                .bind(payload)
                .bind(metadata)
                .execute(&pool)
                .await?;
            Ok(())
        }
    })
    .await;
    sqlx::query(&format!("DROP TABLE {CEILING_TABLE}"))
        .execute(pool)
        .await?;
    run
}

/// Runs `operation` back to back on `concurrency` tasks for `duration`.
pub(crate) async fn timed<F, Fut>(
    concurrency: usize,
    duration: Duration,
    operation: F,
) -> anyhow::Result<Run>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let open = || async { Ok(()) };
    timed_with(concurrency, duration, open, move |()| operation()).await
}

/// [`timed`] with a state per worker (a connection, say): `open` makes each worker's
/// before the clock starts, and each `operation` takes it and hands it back.
pub(crate) async fn timed_with<S, Open, Opened, F, Fut>(
    concurrency: usize,
    duration: Duration,
    open: Open,
    operation: F,
) -> anyhow::Result<Run>
where
    S: Send + 'static,
    Open: Fn() -> Opened,
    Opened: std::future::Future<Output = anyhow::Result<S>>,
    F: Fn(S) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<S>> + Send + 'static,
{
    let mut states = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        states.push(open().await?);
    }
    let operation = Arc::new(operation);
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = states
        .into_iter()
        .map(|mut state| {
            let operation = operation.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let begun = Instant::now();
                    state = operation(state).await?;
                    latencies.push(begun.elapsed());
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Ok(Run {
        operations: latencies.len(),
        elapsed,
        latencies,
    })
}
