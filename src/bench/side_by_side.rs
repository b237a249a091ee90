//! `strata bench` (`commands`): strata's commands side by side with the database's
//! ceiling and with cqrs-es, in one run, at each concurrency.
//!
//! - **ceiling**: single-row `INSERT` transactions into a copy of `events` through sqlx
//!   (what pgbench measures with a one-row script): the most commits per second the
//!   database gives one command each.
//! - **strata**: `POST /orders` (a new order and its payment, two events) and
//!   `POST /orders/{id}/cancel` (load an existing stream, append) over HTTP to an
//!   in-process server as `strata serve` serves it, driven by wrk from another
//!   process. The cancels go to orders written beforehand, one per request.
//! - **cqrs-es**: the same aggregate through cqrs-es 0.5 and postgres-es in process
//!   (`CqrsFramework::execute`, no HTTP): a new order (one event), and a cancel of an
//!   existing one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use domain::shop::order::{CancelOrder, CancelledBy, Order, OrderCommand, PlaceOrder};
use domain::shop::PayMethod;
use read_api::ViewStore;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::wrk::{Scripts, Wrk, WrkRun, EACH_THREAD_READS_ITS_IDS};
use super::{insert_ceiling, micros, millis, served_api, timed, Bench, Run};
use crate::serve;

/// The body of every `POST /orders`, and the payload of the orders written beforehand.
const ORDER: &str =
    r#"{"customerId":"bench","product":"keyboard","qty":1,"price":1000,"payMethod":"CARD"}"#;

/// wrk's script for `POST /orders`.
const ORDERS_SCRIPT: &str = r#"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"customerId":"bench","product":"keyboard","qty":1,"price":1000,"payMethod":"CARD"}'
"#;

/// The request of wrk's script for the cancels (after [`EACH_THREAD_READS_ITS_IDS`]):
/// each id once; past the thread's ids, it repeats the first, which is answered 409 and
/// counted apart.
const CANCEL_REQUEST: &str = r#"
function request()
  sent = sent + 1
  return wrk.format("POST", "/orders/" .. (ids[sent] or ids[1]) .. "/cancel")
end
"#;

/// One line of the table.
struct Row {
    workload: &'static str,
    clients: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
    refused: u64,
    /// For strata's commands: how many commits a batch carried on average (ADR 9).
    per_batch: Option<f64>,
    /// For strata's commands: the server's CPU time per request.
    cpu_per_request: Option<Duration>,
}

impl Row {
    fn driven(workload: &'static str, clients: usize, run: WrkRun) -> Self {
        Self {
            workload,
            clients,
            per_second: run.per_second,
            p50: run.p50,
            p99: run.p99,
            refused: run.non_2xx,
            per_batch: None,
            cpu_per_request: Some(run.cpu_per_request),
        }
    }

    /// This row with the commits per batch of `batches` batches carrying `commits`.
    fn batched(self, (batches, commits): (u64, u64)) -> Self {
        Self {
            per_batch: Some(commits as f64 / batches.max(1) as f64),
            ..self
        }
    }

    fn timed(workload: &'static str, clients: usize, run: &Run) -> Self {
        Self {
            workload,
            clients,
            per_second: run.per_second(),
            p50: run.percentile(0.50),
            p99: run.percentile(0.99),
            refused: 0,
            per_batch: None,
            cpu_per_request: None,
        }
    }

    fn print(&self) {
        let per_batch = self.per_batch.map_or(String::new(), |n| format!("{n:.1}"));
        let cpu = self
            .cpu_per_request
            .map_or(String::new(), |cpu| format!("{:.1}", micros(cpu)));
        println!(
            "{:<34} {:>7} {:>10.0} {:>8.2} {:>8.2} {:>8} {:>9} {:>10}",
            self.workload,
            self.clients,
            self.per_second,
            millis(self.p50),
            millis(self.p99),
            self.refused,
            per_batch,
            cpu
        );
    }
}

pub(super) async fn commands(
    backend: &Bench,
    views: ViewStore,
    levels: &[usize],
    seconds: u64,
) -> anyhow::Result<()> {
    let wrk = Wrk::find()?;
    let pool = backend.service().log().pool().clone();
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (router, authorization) = served_api(backend, views).await?;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, router, async {
        let _ = stopped.await;
    }));
    let duration = Duration::from_secs(seconds);
    let cancels = format!("{EACH_THREAD_READS_ITS_IDS}{CANCEL_REQUEST}");
    let scripts = Scripts::write(&[("orders", ORDERS_SCRIPT), ("cancels", &cancels)])?;
    let cqrs = postgres_es::postgres_cqrs::<Order>(pool.clone(), Vec::new(), ());
    let cqrs = Arc::new(cqrs);

    println!("strata bench: commands side by side, {seconds} s per run; HTTP driven by wrk");
    println!(
        "{:<34} {:>7} {:>10} {:>8} {:>8} {:>8} {:>9} {:>10}",
        "workload", "clients", "per s", "p50 ms", "p99 ms", "non-2xx", "per batch", "CPU µs/req"
    );
    let counts = backend.service().log().batch_counts();
    let batches = || (counts.batches(), counts.commits());
    let since =
        |(batches, commits): (u64, u64)| (counts.batches() - batches, counts.commits() - commits);
    let mut ratios = Vec::new();
    for &clients in levels {
        let ceiling = Row::timed(
            "1-row INSERT transactions",
            clients,
            &insert_ceiling(&pool, clients, duration).await?,
        );
        let before = batches();
        let orders = wrk
            .run(
                &base,
                "/orders",
                clients,
                seconds,
                &scripts.path("orders"),
                &authorization,
                None,
            )
            .await?;
        let orders =
            Row::driven("strata POST /orders (2 events)", clients, orders).batched(since(before));
        let needed = cancels_needed(orders.per_second, seconds);
        let ids = written_orders(&pool, needed).await?;
        let files = scripts.split_ids(&ids, wrk.threads(clients))?;
        let before = batches();
        let cancels = wrk
            .run(
                &base,
                "/orders",
                clients,
                seconds,
                &scripts.path("cancels"),
                &authorization,
                Some(&files),
            )
            .await?;
        let cancels =
            Row::driven("strata POST /orders/{id}/cancel", clients, cancels).batched(since(before));
        let placed = Row::timed(
            "cqrs-es PlaceOrder (1 event)",
            clients,
            &cqrs_place(cqrs.clone(), clients, duration).await?,
        );
        let ids = written_orders(&pool, cancels_needed(cancels.per_second * 2.0, seconds)).await?;
        let cancelled = Row::timed(
            "cqrs-es CancelOrder",
            clients,
            &cqrs_cancel(cqrs.clone(), ids, clients, duration).await?,
        );
        for row in [&ceiling, &orders, &cancels, &placed, &cancelled] {
            row.print();
        }
        ratios.push((
            clients,
            orders.per_second / ceiling.per_second,
            cancels.per_second / cancelled.per_second,
        ));
    }
    println!();
    println!(
        "{:>7} {:>28} {:>28}",
        "clients", "POST /orders ÷ 1-row INSERT", "cancel ÷ cqrs-es cancel"
    );
    for (clients, orders, cancels) in ratios {
        println!("{clients:>7} {orders:>28.2} {cancels:>28.2}");
    }
    let _ = stop.send(());
    server.await??;
    Ok(())
}

/// Orders to write for the cancels of a run at `per_second`, with room to spare.
fn cancels_needed(per_second: f64, seconds: u64) -> usize {
    (per_second * seconds as f64 * 1.5) as usize + 1_000
}

/// Orders per statement while writing them.
const WRITE_CHUNK: usize = 20_000;

/// Writes `count` placed orders straight into the log and answers their ids.
async fn written_orders(pool: &PgPool, count: usize) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::with_capacity(count);
    while ids.len() < count {
        let chunk = WRITE_CHUNK.min(count - ids.len());
        ids.extend(written_chunk(pool, chunk).await?);
    }
    Ok(ids)
}

async fn written_chunk(pool: &PgPool, count: usize) -> anyhow::Result<Vec<String>> {
    let ids = sqlx::query_scalar(
        "INSERT INTO events
             (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         SELECT 'Order', gen_random_uuid()::text, 1, 'OrderPlaced', '1.0',
                jsonb_build_object('OrderPlaced', $1::jsonb), '{}'
           FROM generate_series(1, $2)
         RETURNING aggregate_id",
    )
    .bind(ORDER)
    .bind(count as i64)
    .fetch_all(pool)
    .await
    .context("writing the orders to cancel")?;
    Ok(ids)
}

type Cqrs = postgres_es::PostgresCqrs<Order>;

async fn cqrs_place(cqrs: Arc<Cqrs>, clients: usize, duration: Duration) -> anyhow::Result<Run> {
    timed(clients, duration, move || {
        let cqrs = cqrs.clone();
        async move {
            let command = OrderCommand::PlaceOrder(PlaceOrder {
                customer_id: "bench".to_string(),
                product: "keyboard".to_string(),
                qty: 1,
                price: 1000,
                pay_method: PayMethod::Card,
            });
            cqrs.execute(&uuid::Uuid::now_v7().to_string(), command)
                .await
                .map_err(|error| anyhow::anyhow!("cqrs-es PlaceOrder: {error}"))
        }
    })
    .await
}

async fn cqrs_cancel(
    cqrs: Arc<Cqrs>,
    ids: Vec<String>,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Run> {
    let (ids, next) = (Arc::new(ids), Arc::new(AtomicUsize::new(0)));
    timed(clients, duration, move || {
        let (cqrs, ids, next) = (cqrs.clone(), ids.clone(), next.clone());
        async move {
            let id = ids
                .get(next.fetch_add(1, Ordering::Relaxed))
                .context("more cancels than orders written for them")?;
            let command = OrderCommand::CancelOrder(CancelOrder {
                cancelled_by: CancelledBy::Customer,
                requested_by: None,
            });
            cqrs.execute(id, command)
                .await
                .map_err(|error| anyhow::anyhow!("cqrs-es CancelOrder: {error}"))
        }
    })
    .await
}
