//! `strata bench reads`: the read API over HTTP against the same queries through sqlx
//! (the raw ceiling), in the same run, over orders bulk-loaded into orderList.
//!
//! Two reads: one order by id (`GET /orderLists/{id}`), and one page of a customer's
//! orders (`GET /orderLists?customerId=…`, 50 rows of the 1,000 customers' 100 orders
//! each). Requests walk the loaded ids and customers in a scattered order. The ceiling
//! runs the read API's own statement through its store (`ViewStore`), so the two differ
//! by HTTP alone: routing, middleware, auth, JSON, and the client on the same cores.
//!
//! Then wrk, from another process, reads single orders from the server and from a bare
//! handler in the same process (axum and sqlx, no middleware, the same row, pool and
//! JSON): what strata adds to serving a row.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use projections::shop::{OrderRow, ORDER_LIST};
use projections::{Projector, View};
use read_api::store::{Arg, RowQuery};
use read_api::ViewStore;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Json;
use projections::table::ViewRow;

use super::projection::load_orders;
use super::wrk::{Scripts, Wrk, EACH_THREAD_READS_ITS_IDS};
use super::Bench;
use super::{micros, millis, timed, timed_with, Run};
use crate::admin::REBUILD_BATCH;
use crate::serve;

/// Customers the bulk load spreads orders over (`bench-0` … `bench-999`).
const CUSTOMERS: usize = 1_000;
/// A step through the ids that visits them all in a scattered order (a prime).
const STRIDE: usize = 7_919;
/// The view both reads are served from.
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
            conditions: Vec::new(),
            after: None,
            order_by: read_api::store::key::<OrderRow>(),
            limit,
        }
    }
}

pub async fn reads(
    backend: &Bench,
    views: ViewStore,
    orders: i64,
    concurrency: usize,
    seconds: u64,
) -> anyhow::Result<()> {
    let service = backend.service();
    let pool = service.log().pool().clone();
    let ids = loaded_orders(backend, &pool, orders).await?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
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
            address,
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
    against_bare_handler(&views, address, &authorization, &ids, concurrency, seconds).await?;
    let _ = stop.send(());
    server.await??;
    Ok(())
}

/// The request of wrk's script for single orders (after [`EACH_THREAD_READS_ITS_IDS`]):
/// the thread's ids round and round.
const ONE_ORDER_REQUEST: &str = r#"
function request()
  sent = sent + 1
  return wrk.format("GET", "/orderLists/" .. ids[(sent - 1) % #ids + 1])
end
"#;

/// `GET /orderLists/{id}` driven by wrk at strata and at a bare handler serving the
/// same row, one after the other, with the same requests.
async fn against_bare_handler(
    views: &ViewStore,
    strata: SocketAddr,
    authorization: &str,
    ids: &[String],
    clients: usize,
    seconds: u64,
) -> anyhow::Result<()> {
    let wrk = Wrk::find()?;
    let ViewStore::Postgres(pool) = views else {
        bail!("strata bench reads runs on PostgreSQL");
    };
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let bare = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, bare_router(pool.clone()), async {
        let _ = stopped.await;
    }));
    let one_order = format!("{EACH_THREAD_READS_ITS_IDS}{ONE_ORDER_REQUEST}");
    let scripts = Scripts::write(&[("one", &one_order)])?;
    let files = scripts.split_ids(ids, wrk.threads(clients))?;
    let script = scripts.path("one");
    let mut runs = Vec::new();
    for address in [strata, bare] {
        let base = format!("http://{address}");
        let run = wrk
            .run(
                &base,
                "/orderLists",
                clients,
                seconds,
                &script,
                authorization,
                Some(&files),
            )
            .await?;
        runs.push(run);
    }
    println!();
    println!("GET /orderLists/{{id}} driven by wrk, {clients} clients, {seconds}s each");
    println!(
        "{:<30} {:>10} {:>8} {:>8} {:>8} {:>10}",
        "server", "reads/s", "p50 ms", "p99 ms", "non-2xx", "CPU µs/req"
    );
    for (name, run) in ["strata (everything serve runs)", "bare axum + sqlx handler"]
        .iter()
        .zip(&runs)
    {
        println!(
            "{name:<30} {:>10.0} {:>8.2} {:>8.2} {:>8} {:>10.1}",
            run.per_second,
            millis(run.p50),
            millis(run.p99),
            run.non_2xx,
            micros(run.cpu_per_request)
        );
    }
    println!(
        "ratio strata ÷ bare: {:.2}",
        runs[0].per_second / runs[1].per_second
    );
    let _ = stop.send(());
    server.await??;
    Ok(())
}

/// One orderList row by id from a handler with nothing around it: no auth, metrics,
/// tracing, limits or freshness; the same statement shape, pool and JSON as strata's.
fn bare_router(pool: PgPool) -> axum::Router {
    let select = Arc::new(format!(
        "SELECT {} FROM order_list WHERE order_id = $1",
        OrderRow::select_list()
    ));
    let one = move |Path(id): Path<String>| {
        let (pool, select) = (pool.clone(), select.clone());
        async move {
            match sqlx::query_as::<_, OrderRow>(&select)
                .bind(id)
                .fetch_optional(&pool)
                .await
            {
                Ok(Some(row)) => Json(row).into_response(),
                Ok(None) => StatusCode::NOT_FOUND.into_response(),
                Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
            }
        }
    };
    axum::Router::new().route("/orderLists/{id}", get(one))
}

/// The ids of `orders` orders in orderList, bulk-loading and projecting what is missing.
async fn loaded_orders(backend: &Bench, pool: &PgPool, orders: i64) -> anyhow::Result<Vec<String>> {
    let store = backend.projection_store().await?;
    let projector =
        Projector::new(store, vec![&ORDER_LIST as &dyn View]).with_batch_size(REBUILD_BATCH);
    projector.catch_up(&ORDER_LIST).await?;
    let have: i64 = sqlx::query_scalar("SELECT count(*) FROM order_list")
        .fetch_one(pool)
        .await?;
    if have < orders {
        load_orders(pool, orders - have).await?;
        projector.catch_up(&ORDER_LIST).await?;
    }
    Ok(
        sqlx::query_scalar("SELECT order_id FROM order_list ORDER BY order_id LIMIT $1")
            .bind(orders)
            .fetch_all(pool)
            .await?,
    )
}

/// `concurrency` clients, each on an HTTP/1.1 connection of its own, reading back to
/// back. The client writes each request whole and parses the answer with httparse, as
/// wrk does, in the task that sent it: it shares the two cores with the server and
/// PostgreSQL, so every cycle it spends is one the server under test does not get.
async fn over_http(
    authorization: &str,
    address: SocketAddr,
    read: Read,
    ids: Arc<Vec<String>>,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<Run> {
    let authorization = authorization.to_string();
    let next = Arc::new(AtomicUsize::new(0));
    timed_with(
        concurrency,
        duration,
        || Connection::open(address),
        move |mut connection: Connection| {
            let path = read.path(&read.key(&ids, next.fetch_add(1, Ordering::Relaxed)));
            let request = format!(
                "GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: {authorization}\r\n\r\n"
            );
            async move {
                let status = connection.exchange(request.as_bytes()).await?;
                if !(200..300).contains(&status) {
                    bail!("GET {path} answered {status}");
                }
                Ok(connection)
            }
        },
    )
    .await
}

/// One client's keep-alive connection to the server under test.
struct Connection {
    stream: TcpStream,
    received: Vec<u8>,
}

impl Connection {
    async fn open(address: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            received: Vec::with_capacity(16 * 1024),
        })
    }

    /// Sends `request` and reads the whole response to it; its status.
    async fn exchange(&mut self, request: &[u8]) -> anyhow::Result<u16> {
        self.stream.write_all(request).await?;
        self.received.clear();
        loop {
            if self.stream.read_buf(&mut self.received).await? == 0 {
                bail!("the server closed the connection mid-response");
            }
            if let Some(status) = whole_response(&self.received)? {
                return Ok(status);
            }
        }
    }
}

/// The status of the response in `received`, once its head and `Content-Length` bytes
/// of body have all arrived.
fn whole_response(received: &[u8]) -> anyhow::Result<Option<u16>> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(head) = response.parse(received)? else {
        return Ok(None);
    };
    let length = response
        .headers
        .iter()
        .find(|header| header.name.eq_ignore_ascii_case("content-length"))
        .context("a response without Content-Length")?;
    let length: usize = std::str::from_utf8(length.value)?.parse()?;
    let status = response.code.context("a response without a status")?;
    Ok((received.len() >= head + length).then_some(status))
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
            let (rows, _) = store.rows::<OrderRow>(ORDER_LIST.name(), &query).await?;
            if rows.is_empty() {
                bail!("the read found no rows");
            }
            Ok(())
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::whole_response;

    const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";

    #[test]
    fn a_response_is_whole_once_its_content_length_has_arrived() {
        assert_eq!(whole_response(RESPONSE).unwrap(), Some(200));
        assert_eq!(
            whole_response(&RESPONSE[..RESPONSE.len() - 1]).unwrap(),
            None
        );
        assert_eq!(whole_response(&RESPONSE[..20]).unwrap(), None);
    }

    #[test]
    fn a_response_without_content_length_is_an_error() {
        assert!(whole_response(b"HTTP/1.1 200 OK\r\n\r\n").is_err());
    }
}
