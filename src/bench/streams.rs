//! `strata bench streams`: live mypage streams (`GET /mypages/{id}/changes`) against
//! the served API, with every view's projector running in the process and waking the
//! reads, as `strata serve` runs them.
//!
//! The bench opens one stream per customer (`bench-user-{i}`, each on its own HTTP/1
//! connection with the customer's own token) and waits until each has said `: ready`.
//! Idle: the process's resident memory before and after opening them, and over 10 s
//! without streams and 10 s with them, the process's CPU time and the transactions the
//! database committed. Burst: orders for the customers in turn at 16 clients; the lag
//! of an order is from its 201 to the first `event: change` on its customer's stream
//! after it (0 when that event came while the order was in flight). Client and server
//! share the process (and its memory, CPU and cores).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use auth::{Role, Tokens};
use read_api::{Freshness, ViewStore};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch, Semaphore};

use super::{millis, process_cpu, served_api_with, Bench, READ_WAIT};
use crate::serve;

/// How long each idle window lasts.
const IDLE: Duration = Duration::from_secs(10);
/// Clients placing the burst's orders, one after another each.
const ORDER_CLIENTS: usize = 16;
/// Streams being opened at once (each until it said `: ready`).
const OPENING: usize = 64;
/// How long the bench waits for every stream's `: ready`.
const OPEN_PATIENCE: Duration = Duration::from_secs(60);
/// How long after the burst an order may still get its event.
const EVENT_PATIENCE: Duration = Duration::from_secs(5);
/// Streams the server admits beyond the bench's, so that its bound is not measured.
const SPARE_STREAMS: usize = 16;

/// What one stream received: the instants its change events arrived, and how many
/// times it was told to resync.
#[derive(Default)]
struct Received {
    changes: Mutex<Vec<Instant>>,
    resyncs: AtomicUsize,
}

impl Received {
    fn changes(&self) -> Vec<Instant> {
        self.changes.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// The task reading one stream.
type Follower = tokio::task::JoinHandle<anyhow::Result<()>>;

/// One order of the burst: whose, when it was sent, and when its 201 arrived.
struct Placed {
    user: usize,
    sent: Instant,
    created: Instant,
}

pub async fn streams(
    backend: &Bench,
    views: ViewStore,
    streams: usize,
    orders: usize,
) -> anyhow::Result<()> {
    let streams = streams.max(1);
    let pool = backend.service().log().pool().clone();
    let projector = backend.projector(backend.views().to_vec()).await?;
    projector.catch_up_all().await?;
    let (stop, stopped) = watch::channel(false);
    let freshness = Freshness::new(READ_WAIT).woken_by(projector.progress());
    let projecting = tokio::spawn(projector.run(stopped.clone()));
    let tokens = Arc::new(Tokens::generated());
    let bound = read_api::Streams::new(streams + SPARE_STREAMS, stopped.clone());
    let (router, _admin) =
        served_api_with(backend, views, freshness, bound, tokens.clone()).await?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let mut server_stopped = stopped.clone();
    let server = tokio::spawn(serve(listener, router, async move {
        let _ = server_stopped.wait_for(|stopped| *stopped).await;
    }));
    let day = Duration::from_secs(24 * 3600);
    let user_tokens: Vec<String> = (0..streams)
        .map(|i| tokens.issue(&user(i), Role::Customer, day))
        .collect();
    println!(
        "strata bench streams: {streams} mypage streams, then {orders} orders at {ORDER_CLIENTS} clients"
    );

    let without = idle(&pool).await?;
    println!(
        "idle without streams ({}s): {:.1} CPU-ms/s, {} transactions committed (the projector's \
         polls, and the stream task's checkpoint read once a second)",
        IDLE.as_secs(),
        without.cpu_ms_per_second,
        without.transactions
    );

    let rss_before = rss_kib();
    let opening = Instant::now();
    let stream_client = reqwest::Client::builder().build()?;
    let (received, followers) = open(&stream_client, &base, &user_tokens).await?;
    let opened_in = opening.elapsed();
    let rss_after = rss_kib();
    let grown = rss_after.saturating_sub(rss_before);
    println!(
        "opened {streams} streams in {:.2}s (each until `: ready`)",
        opened_in.as_secs_f64()
    );
    println!(
        "RSS before {:.1} MiB, after {:.1} MiB: +{:.1} MiB = {:.1} KiB per stream (server and client)",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        grown as f64 / 1024.0,
        grown as f64 / streams as f64
    );

    let with = idle(&pool).await?;
    println!(
        "idle with {streams} streams ({}s): {:.1} CPU-ms/s, {} transactions committed (the same \
         polls and checkpoint read)",
        IDLE.as_secs(),
        with.cpu_ms_per_second,
        with.transactions
    );

    let cpu = process_cpu()?;
    let placed = burst(&base, &user_tokens, orders).await?;
    let burst_cpu = (process_cpu()? - cpu).as_secs_f64();
    let Some(burst_end) = placed.iter().map(|order| order.created).max() else {
        bail!("no order of the burst was answered 201");
    };
    // Waits until every order has its event, or EVENT_PATIENCE after the burst.
    while Instant::now() < burst_end + EVENT_PATIENCE
        && lags(&placed, &received).iter().any(Option::is_none)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let burst_start = placed
        .iter()
        .map(|order| order.sent)
        .min()
        .unwrap_or(burst_end);
    let burst_time = burst_end.duration_since(burst_start);
    println!(
        "burst: {} orders answered 201 of {orders} in {:.2}s = {:.0} orders/s; {:.0} CPU-ms/s \
         in this process (PostgreSQL apart)",
        placed.len(),
        burst_time.as_secs_f64(),
        placed.len() as f64 / burst_time.as_secs_f64().max(f64::EPSILON),
        burst_cpu * 1000.0 / burst_time.as_secs_f64().max(f64::EPSILON)
    );
    let events: usize = received.iter().map(|r| r.changes().len()).sum();
    let resyncs: usize = received
        .iter()
        .map(|r| r.resyncs.load(Ordering::Relaxed))
        .sum();
    println!("events received: {events} change, {resyncs} resync");
    let lags = lags(&placed, &received);
    let mut seen: Vec<Duration> = lags.iter().flatten().copied().collect();
    seen.sort_unstable();
    let at = |p: f64| {
        seen.get(((seen.len().max(1) - 1) as f64 * p).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "stream lag (201 to change event, {} orders): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        seen.len(),
        millis(at(0.50)),
        millis(at(0.99)),
        millis(at(1.0))
    );
    println!(
        "orders without an event within {}s after the burst: {}; with it while in flight (before the 201, counted as 0 ms): {}",
        EVENT_PATIENCE.as_secs(),
        lags.iter().filter(|lag| lag.is_none()).count(),
        early(&placed, &received)
    );

    let _ = stop.send(true);
    for follower in followers {
        match tokio::time::timeout(Duration::from_secs(5), follower).await {
            Ok(ended) => ended?.context("a stream failed")?,
            Err(_) => bail!("a stream did not end within 5s of the shutdown"),
        }
    }
    server.await??;
    projecting.await?;
    Ok(())
}

fn user(i: usize) -> String {
    format!("bench-user-{i}")
}

/// What the process spent over one idle window.
struct Idle {
    cpu_ms_per_second: f64,
    transactions: i64,
}

/// Sleeps through [`IDLE`], measuring the process's CPU time and the database's
/// committed transactions (as far as its statistics have been flushed; each backend
/// flushes them at most once a second).
async fn idle(pool: &PgPool) -> anyhow::Result<Idle> {
    let committed = "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()";
    let transactions: i64 = sqlx::query_scalar(committed).fetch_one(pool).await?;
    let (cpu, started) = (process_cpu()?, Instant::now());
    tokio::time::sleep(IDLE).await;
    let spent = (process_cpu()? - cpu).as_secs_f64();
    let elapsed = started.elapsed().as_secs_f64();
    let after: i64 = sqlx::query_scalar(committed).fetch_one(pool).await?;
    Ok(Idle {
        cpu_ms_per_second: spent * 1000.0 / elapsed,
        transactions: after - transactions,
    })
}

/// The process's resident set (VmRSS), in KiB; 0 where /proc is missing.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// Opens one stream per token (the `i`th for `bench-user-{i}`), [`OPENING`] at a time,
/// and returns once each has said `: ready`: what each receives, and their tasks.
async fn open(
    client: &reqwest::Client,
    base: &str,
    tokens: &[String],
) -> anyhow::Result<(Vec<Arc<Received>>, Vec<Follower>)> {
    let opening = Arc::new(Semaphore::new(OPENING));
    let (mut received, mut followers, mut readies) = (Vec::new(), Vec::new(), Vec::new());
    for (i, token) in tokens.iter().enumerate() {
        let Ok(permit) = tokio::time::timeout(OPEN_PATIENCE, opening.clone().acquire_owned()).await
        else {
            bail!("streams were not ready within {}s", OPEN_PATIENCE.as_secs());
        };
        let permit = permit?;
        let (ready, is_ready) = oneshot::channel();
        let log = Arc::new(Received::default());
        let request = client
            .get(format!("{base}/mypages/{}/changes", user(i)))
            .bearer_auth(token);
        followers.push(tokio::spawn(follow(request, ready, permit, log.clone())));
        received.push(log);
        readies.push(is_ready);
    }
    for (i, is_ready) in readies.into_iter().enumerate() {
        match tokio::time::timeout(OPEN_PATIENCE, is_ready).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                let follower = followers.swap_remove(i);
                follower.await??;
                bail!("the stream of {} ended before `: ready`", user(i));
            }
            Err(_) => bail!(
                "the stream of {} was not ready within {}s",
                user(i),
                OPEN_PATIENCE.as_secs()
            ),
        }
    }
    Ok((received, followers))
}

/// Reads one stream until it ends: says when it is ready (giving back its place among
/// those opening), and records the instant each change event arrived.
async fn follow(
    request: reqwest::RequestBuilder,
    ready: oneshot::Sender<()>,
    opening: tokio::sync::OwnedSemaphorePermit,
    log: Arc<Received>,
) -> anyhow::Result<()> {
    let mut response = request.send().await?;
    if response.status() != StatusCode::OK {
        bail!("a stream was answered {}", response.status());
    }
    let (mut ready, mut opening) = (Some(ready), Some(opening));
    let mut buffer: Vec<u8> = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let arrived = Instant::now();
        buffer.extend_from_slice(&chunk);
        while let Some(end) = buffer.windows(2).position(|two| two == b"\n\n") {
            let block: Vec<u8> = buffer.drain(..end + 2).collect();
            for line in String::from_utf8_lossy(&block).lines() {
                match line {
                    ": ready" => {
                        if let Some(ready) = ready.take() {
                            let _ = ready.send(());
                        }
                        opening.take();
                    }
                    "event: change" => {
                        if let Ok(mut changes) = log.changes.lock() {
                            changes.push(arrived);
                        }
                    }
                    "event: resync" => {
                        log.resyncs.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(())
}

/// Places `orders` orders at [`ORDER_CLIENTS`] clients, the `i`th for
/// `bench-user-{i % streams}` with that customer's token: those answered 201.
async fn burst(base: &str, tokens: &[String], orders: usize) -> anyhow::Result<Vec<Placed>> {
    let client = reqwest::Client::builder().build()?;
    let (next, tokens) = (Arc::new(AtomicUsize::new(0)), Arc::new(tokens.to_vec()));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..ORDER_CLIENTS {
        let (client, url, next, tokens) = (
            client.clone(),
            format!("{base}/orders"),
            next.clone(),
            tokens.clone(),
        );
        clients.spawn(async move {
            let (mut placed, mut refused) = (Vec::new(), Vec::new());
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= orders {
                    return anyhow::Ok((placed, refused));
                }
                let u = i % tokens.len();
                let body = json!({"customerId": user(u), "product": "bench", "qty": 1,
                                  "price": 1000, "payMethod": "CARD"});
                let sent = Instant::now();
                let reply = client
                    .post(&url)
                    .bearer_auth(&tokens[u])
                    .json(&body)
                    .send()
                    .await?;
                let created = Instant::now();
                let status = reply.status();
                // The body is read so that the connection serves the next order.
                let _ = reply.bytes().await;
                if status == StatusCode::CREATED {
                    placed.push(Placed {
                        user: u,
                        sent,
                        created,
                    });
                } else {
                    refused.push(status);
                }
            }
        });
    }
    let (mut placed, mut refused) = (Vec::new(), Vec::new());
    while let Some(client) = clients.join_next().await {
        let (some, others) = client??;
        placed.extend(some);
        refused.extend(others);
    }
    if !refused.is_empty() {
        println!(
            "burst: {} orders not answered 201 (first: {})",
            refused.len(),
            refused[0]
        );
    }
    Ok(placed)
}

/// Per order, the time from its 201 to the first change event on its customer's stream
/// after it (`None` while there is none). An event that arrived while the order was in
/// flight (the projector and the stream quicker than the answer) is its event, at 0.
fn lags(placed: &[Placed], received: &[Arc<Received>]) -> Vec<Option<Duration>> {
    let changes: Vec<Vec<Instant>> = received.iter().map(|r| r.changes()).collect();
    placed
        .iter()
        .map(|order| {
            let first = changes[order.user]
                .iter()
                .find(|&&arrived| arrived >= order.sent)?;
            Some(first.saturating_duration_since(order.created))
        })
        .collect()
}

/// Orders whose event arrived while they were in flight (after they were sent, before
/// their 201): counted at 0 in [`lags`].
fn early(placed: &[Placed], received: &[Arc<Received>]) -> usize {
    let changes: Vec<Vec<Instant>> = received.iter().map(|r| r.changes()).collect();
    placed
        .iter()
        .filter(|order| {
            changes[order.user]
                .iter()
                .find(|&&arrived| arrived >= order.sent)
                .is_some_and(|&first| first < order.created)
        })
        .count()
}
