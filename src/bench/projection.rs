//! `strata bench rebuild` and `strata bench lag`: how fast views are built.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;
use policies::NotificationSink;
use projections::shop::ORDER_LIST;
use projections::{Projector, View};
use serde_json::json;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;
use uuid::Uuid;

use read_api::ViewStore;

use super::Bench;
use super::{client_sending, millis, served_api};
use crate::admin::REBUILD_BATCH;
use crate::serve;

/// Orders per `INSERT … SELECT` while bulk-loading.
const LOAD_CHUNK: i64 = 100_000;
/// Every how many commands the lag bench samples one.
const LAG_SAMPLE_EVERY: u64 = 10;
/// How often a sample looks for its row: the lag's resolution, and a load on the
/// shared cores that a finer one would add to what it measures.
const LAG_POLL: Duration = Duration::from_millis(2);

/// Loads `events` events (orders and their payments) straight into the log, catches
/// orderList up, then rebuilds it from position 0.
pub async fn rebuild(backend: &Bench, events: i64) -> anyhow::Result<()> {
    let service = backend.service();
    let loading = Instant::now();
    load_orders(service.log().pool(), events / 2).await?;
    println!(
        "loaded {events} events in {:.1}s; peak RSS {} MiB",
        loading.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
    let store = backend.projection_store().await?;
    let projector = Projector::new(store.clone(), vec![&ORDER_LIST as &dyn View])
        .with_batch_size(REBUILD_BATCH);
    let catching_up = Instant::now();
    projector.catch_up(&ORDER_LIST).await?;
    let elapsed = catching_up.elapsed().as_secs_f64();
    let applied = projector.applied_events();
    println!(
        "catch-up:  {applied} events in {elapsed:.1}s = {:.0} events/s; peak RSS {} MiB",
        applied as f64 / elapsed,
        peak_rss_mib()
    );
    let rebuilding = Instant::now();
    let report = projections::rebuild(&store, &ORDER_LIST, REBUILD_BATCH).await?;
    let elapsed = rebuilding.elapsed().as_secs_f64();
    println!(
        "rebuild:   {} events in {elapsed:.1}s = {:.0} events/s (shadow build, compare, swap); peak RSS {} MiB; differences: {}",
        report.events,
        report.events as f64 / elapsed,
        peak_rss_mib(),
        report.differences.len()
    );
    Ok(())
}

/// Inserts `orders` orders as the command side writes them: each `OrderPlaced`
/// followed by its `PaymentMade` (one commit, adjacent positions), ids uuid v7.
pub(crate) async fn load_orders(pool: &PgPool, orders: i64) -> anyhow::Result<()> {
    let insert = "
        WITH o AS (SELECT * FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS o(order_id, payment_id, g))
        INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
        SELECT aggregate_type, aggregate_id, 1, event_type, '1.0', payload, '{}'::jsonb FROM (
            SELECT g, 0 AS kind, 'Order' AS aggregate_type, order_id AS aggregate_id,
                   'OrderPlaced' AS event_type,
                   jsonb_build_object('OrderPlaced', jsonb_build_object('customerId', 'bench-' || (g % 1000),
                       'product', 'keyboard', 'qty', 1 + g % 5, 'price', 1000, 'payMethod', 'CARD')) AS payload
              FROM o
            UNION ALL
            SELECT g, 1, 'Payment', payment_id, 'PaymentMade',
                   jsonb_build_object('PaymentMade', jsonb_build_object('orderId', order_id,
                       'amount', 1000 * (1 + g % 5), 'payMethod', 'CARD'))
              FROM o) e
        ORDER BY g, kind";
    let mut loaded = 0;
    while loaded < orders {
        let chunk = LOAD_CHUNK.min(orders - loaded);
        let ids = || {
            (0..chunk)
                .map(|_| Uuid::now_v7().to_string())
                .collect::<Vec<_>>()
        };
        sqlx::query(insert)
            .bind(ids())
            .bind(ids())
            .execute(pool)
            .await?;
        loaded += chunk;
    }
    Ok(())
}

/// The process's peak resident set (VmHWM), in MiB; 0 where /proc is missing.
fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kib| kib / 1024)
}

/// Places orders at a steady rate through an in-process server with its projector
/// (as `strata serve` runs) and measures, for every tenth after the warm-up, the time
/// from the 201 to the order's row being readable in orderList — or, with `delivery`,
/// to the row showing the delivery the shop policy started for it. Without a rate it
/// first measures the peak and runs at half of it. However the server answers, it
/// reports: what it sent, what was refused or failed, and what it could not send.
pub async fn lag(
    backend: &Bench,
    views: ViewStore,
    load: &Load,
    delivery: bool,
) -> anyhow::Result<()> {
    let projector = backend.projector(vec![&ORDER_LIST as &dyn View]).await?;
    projector.catch_up(&ORDER_LIST).await?;
    let (stop, stopped) = watch::channel(false);
    let mut workers = tokio::task::JoinSet::new();
    workers.spawn(projector.run(stopped.clone()));
    if delivery {
        let sink = Arc::new(NotificationSink::log());
        let shop = policies::registry::named(&backend.policies(sink), &["shop"])?;
        let shop = backend.policy_workers(shop).await?;
        shop.catch_up_all().await?;
        workers.spawn(shop.run(stopped.clone()));
    }
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/orders", listener.local_addr()?);
    let mut server_stopped = stopped.clone();
    let (router, authorization) = served_api(backend, views.clone()).await?;
    let client = client_sending(&authorization)?;
    let server = tokio::spawn(serve(listener, router, async move {
        let _ = server_stopped.changed().await;
    }));
    let rate = match load.rate {
        Some(rate) => rate,
        None => {
            let peak = peak_rate(&client, &url).await;
            println!("peak: {peak:.0} orders/s with {PEAK_CLIENTS} clients for {}s; lag runs at half of it", PEAK_RUN.as_secs());
            caught_up(&views).await?;
            ((peak / 2.0) as u64).max(1)
        }
    };
    let tally = Arc::new(Tally::default());
    drive_at_rate(&client, &url, rate, load, &views, delivery, &tally).await;
    let _ = stop.send(true);
    while let Some(worker) = workers.join_next().await {
        worker?;
    }
    server.await??;
    let mut lags = tally.lags.lock().map(|s| s.clone()).unwrap_or_default();
    lags.sort_unstable();
    let at = |p: f64| {
        lags.get(((lags.len().max(1) - 1) as f64 * p) as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{} at {} orders/s for {}s after {}s of warm-up ({} samples): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        if delivery { "delivery lag" } else { "lag" },
        rate,
        load.measured.as_secs(),
        load.warm_up.as_secs(),
        lags.len(),
        millis(at(0.50)),
        millis(at(0.99)),
        millis(at(1.0))
    );
    println!(
        "sent {}, accepted {}, refused {} (a non-201 answer), failed {} (no answer), not sent {} (more than {MAX_IN_FLIGHT} in flight), samples never seen {}",
        tally.sent.load(Ordering::Relaxed),
        tally.accepted.load(Ordering::Relaxed),
        tally.refused.load(Ordering::Relaxed),
        tally.failed.load(Ordering::Relaxed),
        tally.skipped.load(Ordering::Relaxed),
        tally.unseen.load(Ordering::Relaxed),
    );
    Ok(())
}

/// A steady load: `rate` orders per second (half the measured peak when `None`),
/// sampled only after `warm_up`.
pub struct Load {
    pub rate: Option<u64>,
    pub warm_up: Duration,
    pub measured: Duration,
}

/// Requests the lag bench keeps in flight at most: past them a tick sends nothing and
/// is counted, so an overloaded server slows the bench down instead of piling up tasks.
const MAX_IN_FLIGHT: usize = 256;
/// How long a sample waits for its row before it is counted as never seen.
const SAMPLE_PATIENCE: Duration = Duration::from_secs(10);
/// Closed-loop clients, and how long, for the peak the default rate derives from.
const PEAK_CLIENTS: usize = 16;
const PEAK_RUN: Duration = Duration::from_secs(3);

/// What the lag bench sent and what became of it.
#[derive(Default)]
struct Tally {
    sent: AtomicU64,
    accepted: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
    skipped: AtomicU64,
    unseen: AtomicU64,
    lags: Mutex<Vec<Duration>>,
}

fn order_body() -> serde_json::Value {
    json!({"customerId": "lag", "product": "keyboard", "qty": 1, "price": 1000, "payMethod": "CARD"})
}

/// Orders per second that [`PEAK_CLIENTS`] clients placing one order after another
/// get accepted in [`PEAK_RUN`].
async fn peak_rate(client: &reqwest::Client, url: &str) -> f64 {
    let accepted = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + PEAK_RUN;
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..PEAK_CLIENTS {
        let (client, url, accepted) = (client.clone(), url.to_string(), accepted.clone());
        clients.spawn(async move {
            while Instant::now() < deadline {
                let sent = client.post(&url).json(&order_body()).send().await;
                if sent.is_ok_and(|reply| reply.status() == reqwest::StatusCode::CREATED) {
                    accepted.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while clients.join_next().await.is_some() {}
    accepted.load(Ordering::Relaxed) as f64 / PEAK_RUN.as_secs_f64()
}

async fn drive_at_rate(
    client: &reqwest::Client,
    url: &str,
    rate: u64,
    load: &Load,
    views: &ViewStore,
    delivery: bool,
    tally: &Arc<Tally>,
) {
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let measuring = Instant::now() + load.warm_up;
    let deadline = measuring + load.measured;
    let mut requests = tokio::task::JoinSet::new();
    while Instant::now() < deadline {
        ticks.tick().await;
        let Ok(permit) = in_flight.clone().try_acquire_owned() else {
            tally.skipped.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let sent = tally.sent.fetch_add(1, Ordering::Relaxed) + 1;
        let (client, url, views, tally) = (
            client.clone(),
            url.to_string(),
            views.clone(),
            tally.clone(),
        );
        let sample = Instant::now() >= measuring && sent.is_multiple_of(LAG_SAMPLE_EVERY);
        requests.spawn(async move {
            let placed = place(&client, &url).await;
            // The request is over: a sample's wait does not hold a place in flight.
            drop(permit);
            let order_id = match placed {
                Ok(Placed::Accepted(order_id)) => order_id,
                Ok(Placed::Refused) => return tally.refused.fetch_add(1, Ordering::Relaxed),
                Err(_) => return tally.failed.fetch_add(1, Ordering::Relaxed),
            };
            tally.accepted.fetch_add(1, Ordering::Relaxed);
            if let (true, Some(order_id)) = (sample, order_id) {
                match wait_for_row(&views, &order_id, delivery).await {
                    Ok(Some(lag)) => tally.lags.lock().map(|mut s| s.push(lag)).unwrap_or(()),
                    Ok(None) | Err(_) => {
                        tally.unseen.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            0
        });
        // Finished requests leave the set as the run goes, not all at its end.
        while requests.try_join_next().is_some() {}
    }
    while requests.join_next().await.is_some() {}
}

/// What became of one order the bench placed.
enum Placed {
    /// Answered 201, with the order's id when the body named one.
    Accepted(Option<String>),
    Refused,
}

async fn place(client: &reqwest::Client, url: &str) -> anyhow::Result<Placed> {
    let reply = client.post(url).json(&order_body()).send().await?;
    if reply.status() != reqwest::StatusCode::CREATED {
        return Ok(Placed::Refused);
    }
    let body: serde_json::Value = reply.json().await.unwrap_or_default();
    Ok(Placed::Accepted(
        body["orderId"].as_str().map(str::to_string),
    ))
}

/// Waits (up to [`SAMPLE_PATIENCE`]) until orderList has applied the whole log, so that
/// the peak run's orders are not still being projected while the lag is measured.
async fn caught_up(views: &ViewStore) -> anyhow::Result<()> {
    let ViewStore::Postgres(pool) = views else {
        bail!("lag is measured on PostgreSQL");
    };
    let started = Instant::now();
    loop {
        let head: i64 = sqlx::query_scalar("SELECT coalesce(max(global_position), 0) FROM events")
            .fetch_one(pool)
            .await?;
        if views.position(ORDER_LIST.name()).await? >= head || started.elapsed() > SAMPLE_PATIENCE {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls orderList for the order's row (with `delivery`, a row whose delivery has
/// started) every `LAG_POLL`; returns how long it took, or `None` past
/// [`SAMPLE_PATIENCE`].
async fn wait_for_row(
    views: &ViewStore,
    order_id: &str,
    delivery: bool,
) -> anyhow::Result<Option<Duration>> {
    let ViewStore::Postgres(pool) = views else {
        bail!("lag is measured on PostgreSQL");
    };
    let started = Instant::now();
    loop {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT position FROM order_list
              WHERE order_id = $1 AND (NOT $2 OR delivery_status = 'STARTED')",
        )
        .bind(order_id)
        .bind(delivery)
        .fetch_optional(pool)
        .await?;
        if found.is_some() {
            return Ok(Some(started.elapsed()));
        }
        if started.elapsed() > SAMPLE_PATIENCE {
            return Ok(None);
        }
        tokio::time::sleep(LAG_POLL).await;
    }
}
