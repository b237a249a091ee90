//! `strata bench reads`: the read API over HTTP against the same queries through sqlx
//! (the raw ceiling), in the same run, over orders bulk-loaded into orderList.
//!
//! Two reads: one order by id (`GET /orderLists/{id}`), and one page of a customer's
//! orders (`GET /orderLists?customerId=…`, 50 rows of the 1,000 customers' 100 orders
//! each). Requests walk the loaded ids and customers in a scattered order. The ceiling
//! runs the read API's own statement through its store (`ViewStore`), so the two differ
//! by HTTP alone: routing, middleware, auth, JSON, and the client on the same cores.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use axum::body::Bytes;
use axum::http::{header, HeaderValue, Request};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use projections::{Projector, ViewName};
use read_api::store::{Arg, OrderRow, RowQuery, ViewRow};
use read_api::ViewStore;
use sqlx::PgPool;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::projection::load_orders;
use super::{millis, timed, timed_with, Run};
use crate::admin::REBUILD_BATCH;
use crate::{serve, Backend};

/// Customers the bulk load spreads orders over (`bench-0` … `bench-999`).
const CUSTOMERS: usize = 1_000;
/// A step through the ids that visits them all in a scattered order (a prime).
const STRIDE: usize = 7_919;
/// The view both reads are served from.
const VIEW: &str = "orderList";
/// What the page read asks for.
const PAGE_LIMIT: i64 = 50;

/// One of the two reads measured.
#[derive(Clone, Copy)]
enum Read {
    OneOrder,
    CustomerPage,
}

impl Read {
    fn name(self) -> &'static str {
        match self {
            Self::OneOrder => "GET /orderLists/{id}",
            Self::CustomerPage => "GET /orderLists?customerId=",
        }
    }

    /// The key the `n`th request asks for.
    fn key(self, ids: &[String], n: usize) -> String {
        match self {
            Self::OneOrder => ids[(n * STRIDE) % ids.len()].clone(),
            Self::CustomerPage => format!("bench-{}", (n * STRIDE) % CUSTOMERS),
        }
    }

    fn path(self, key: &str) -> String {
        match self {
            Self::OneOrder => format!("/orderLists/{key}"),
            Self::CustomerPage => format!("/orderLists?customerId={key}&limit={PAGE_LIMIT}"),
        }
    }

    /// What the read API asks its store for this read.
    fn query(self, key: String) -> RowQuery<'static> {
        let (column, limit) = match self {
            Self::OneOrder => ("order_id", None),
            Self::CustomerPage => ("customer_id", Some(PAGE_LIMIT + 1)),
        };
        RowQuery {
            table: "order_list",
            filters: vec![(column, Arg::Text(key))],
            after: None,
            order_by: OrderRow::KEY,
            limit,
        }
    }
}

pub async fn reads(
    backend: &Backend,
    views: ViewStore,
    orders: i64,
    concurrency: usize,
    seconds: u64,
) -> anyhow::Result<()> {
    let Backend::Postgres(service) = backend else {
        bail!("strata bench needs the PostgreSQL backend");
    };
    let pool = service.log().pool().clone();
    let ids = loaded_orders(backend, &pool, orders).await?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    let (router, authorization) = super::served_api(backend, views.clone()).await?;
    let server = tokio::spawn(serve(listener, router, async {
        let _ = stopped.await;
    }));
    let duration = Duration::from_secs(seconds);
    println!(
        "strata bench reads: {} orders, {concurrency} clients, {seconds}s each",
        ids.len()
    );
    println!(
        "{:<28} {:>10} {:>8} {:>8} {:>10} {:>8} {:>8} {:>7}",
        "read", "HTTP/s", "p50 ms", "p99 ms", "sqlx/s", "p50 ms", "p99 ms", "ratio"
    );
    let ids = Arc::new(ids);
    for read in [Read::OneOrder, Read::CustomerPage] {
        let http = over_http(
            &authorization,
            &address,
            read,
            ids.clone(),
            concurrency,
            duration,
        )
        .await?;
        let raw = through_store(&views, read, ids.clone(), concurrency, duration).await?;
        println!(
            "{:<28} {:>10.0} {:>8.2} {:>8.2} {:>10.0} {:>8.2} {:>8.2} {:>7.2}",
            read.name(),
            http.per_second(),
            millis(http.percentile(0.50)),
            millis(http.percentile(0.99)),
            raw.per_second(),
            millis(raw.percentile(0.50)),
            millis(raw.percentile(0.99)),
            http.per_second() / raw.per_second(),
        );
    }
    let _ = stop.send(());
    server.await??;
    Ok(())
}

/// The ids of `orders` orders in orderList, bulk-loading and projecting what is missing.
async fn loaded_orders(
    backend: &Backend,
    pool: &PgPool,
    orders: i64,
) -> anyhow::Result<Vec<String>> {
    let store = backend.projection_store().await?;
    let projector = Projector::new(store, vec![ViewName::OrderList]).with_batch_size(REBUILD_BATCH);
    projector.catch_up(ViewName::OrderList).await?;
    let have: i64 = sqlx::query_scalar("SELECT count(*) FROM order_list")
        .fetch_one(pool)
        .await?;
    if have < orders {
        load_orders(pool, orders - have).await?;
        projector.catch_up(ViewName::OrderList).await?;
    }
    Ok(
        sqlx::query_scalar("SELECT order_id FROM order_list ORDER BY order_id LIMIT $1")
            .bind(orders)
            .fetch_all(pool)
            .await?,
    )
}

/// `concurrency` clients, each on an HTTP/1 connection of its own, reading back to
/// back. The client is bare hyper, as a load generator like wrk or oha is: it shares
/// the two cores with the server and PostgreSQL, and reqwest's pool and per-request
/// machinery would take their time from the server under test.
async fn over_http(
    authorization: &str,
    address: &str,
    read: Read,
    ids: Arc<Vec<String>>,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<Run> {
    let authorization = HeaderValue::from_str(authorization)?;
    let next = Arc::new(AtomicUsize::new(0));
    let open = || connect(address);
    timed_with(
        concurrency,
        duration,
        open,
        move |mut connection: Connection| {
            let path = read.path(&read.key(&ids, next.fetch_add(1, Ordering::Relaxed)));
            let request = Request::get(path)
                .header(header::HOST, "bench")
                .header(header::AUTHORIZATION, authorization.clone())
                .body(Empty::<Bytes>::new());
            async move {
                let request = request?;
                let uri = request.uri().clone();
                connection.ready().await?;
                let response = connection.send_request(request).await?;
                if !response.status().is_success() {
                    bail!("GET {uri} answered {}", response.status());
                }
                response.into_body().collect().await?;
                Ok(connection)
            }
        },
    )
    .await
}

/// One client's HTTP/1 connection to the server under test.
type Connection = http1::SendRequest<Empty<Bytes>>;

async fn connect(address: &str) -> anyhow::Result<Connection> {
    let stream = TcpStream::connect(address.trim_start_matches("http://")).await?;
    stream.set_nodelay(true)?;
    let (connection, driver) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(driver);
    Ok(connection)
}

/// The read API's own query for the read, through its store and pool: what the read
/// costs without HTTP.
async fn through_store(
    views: &ViewStore,
    read: Read,
    ids: Arc<Vec<String>>,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<Run> {
    let (store, next) = (views.clone(), Arc::new(AtomicUsize::new(0)));
    timed(concurrency, duration, move || {
        let query = read.query(read.key(&ids, next.fetch_add(1, Ordering::Relaxed)));
        let store = store.clone();
        async move {
            let (rows, _) = store.rows::<OrderRow>(VIEW, &query).await?;
            if rows.is_empty() {
                bail!("the read found no rows");
            }
            Ok(())
        }
    })
    .await
}
