//! A rolling update behind the entry point: HAProxy with `deploy/haproxy.cfg` in front of
//! two `strata command-api` and two `strata read-api` processes, and a `strata
//! projector`, over one PostgreSQL database. Orders and reads go through HAProxy the
//! whole time while every process is replaced, one at a time: SIGTERM, wait for it to
//! exit, start a new one on the same port, wait until HAProxy counts it in again. No
//! request may fail, and every acknowledged order must be in the log once and in
//! orderList.
//!
//! It needs `haproxy` on the PATH, so it is ignored by `cargo test`;
//! `tests/deploy/run` installs HAProxy and runs it. The image's health check, `strata
//! probe`, is tested here too, without HAProxy.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::processes::{
    admin_client, client_as, eventually, free_port, start_with, terminate, Processes,
};
use crate::support::{Store, TestApp};

/// The entry point's configuration, as deployed.
const HAPROXY_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/haproxy.cfg");

/// Clients placing orders, and clients reading them, through HAProxy.
const ORDERING_CLIENTS: usize = 8;
const READING_CLIENTS: usize = 4;
/// Each client's pause between two requests: at most ~300 requests/s in all.
const PACE: Duration = Duration::from_millis(40);
/// How long a stopping process may take to exit, and a new one to be counted in.
const WITHIN: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs haproxy; tests/deploy/run runs it"]
async fn every_process_replaced_under_load_through_haproxy_fails_no_request_and_loses_no_order() {
    let app = TestApp::spawn(Store::Postgres).await;
    let mut deployment = Deployment::start(&app.database_url().expect("PostgreSQL")).await;
    let entry = deployment.entry.clone();
    let load = Load::start(&entry);
    tokio::time::sleep(Duration::from_secs(1)).await;

    for index in 0..deployment.members.len() {
        let started = Instant::now();
        let exit = deployment.replace(index).await;
        let (role, port) = deployment.members[index];
        eprintln!(
            "replaced {role} on port {port} in {} ms ({} orders acknowledged so far)",
            started.elapsed().as_millis(),
            load.acknowledged.lock().unwrap().len()
        );
        assert!(exit.success(), "{role} exited with {exit:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (acknowledged, tally) = load.stop().await;
    eprintln!("{tally}");
    assert!(
        tally.failures.is_empty(),
        "{} requests failed:\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
    assert!(
        acknowledged.len() >= 100 && tally.reads_answered >= 100,
        "the load ran: {tally}"
    );

    // Every acknowledged order once in the log, and nothing else placed.
    let ids: BTreeSet<&str> = acknowledged.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids.len(), acknowledged.len(), "an order acknowledged twice");
    let listed = serde_json::to_string(&ids).unwrap();
    let not_once = app
        .scalar(
            "SELECT count(*) FROM (SELECT ack.id FROM jsonb_array_elements_text(CAST($1 AS jsonb)) AS ack(id) \
             LEFT JOIN events e ON e.aggregate_type = 'Order' AND e.aggregate_id = ack.id \
             AND e.event_type = 'OrderPlaced' GROUP BY ack.id HAVING count(e.aggregate_id) <> 1) AS wrong",
            &listed,
        )
        .await;
    assert_eq!(
        not_once, 0,
        "acknowledged orders not in the log exactly once"
    );
    let placed = app
        .scalar(
            "SELECT count(*) FROM events WHERE event_type = 'OrderPlaced' AND $1 = $1",
            "",
        )
        .await;
    assert_eq!(
        placed,
        acknowledged.len() as i64,
        "orders placed but not acknowledged"
    );

    // And in orderList, read through the entry point once it has every position.
    let reader = admin_client();
    let head = acknowledged.iter().map(|o| o.position).max().unwrap();
    let last = &acknowledged.last().unwrap().id;
    eventually(
        &reader,
        &format!("{entry}/orderLists/{last}?minPosition={head}"),
        |status, _| status == StatusCode::OK,
    )
    .await;
    let mut by_customer: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for order in &acknowledged {
        by_customer
            .entry(&order.customer)
            .or_default()
            .insert(&order.id);
    }
    for (customer, expected) in by_customer {
        let rows = order_list(&reader, &entry, customer).await;
        let listed: BTreeSet<&str> = rows.iter().map(String::as_str).collect();
        assert_eq!(
            rows.len(),
            listed.len(),
            "{customer}: an order listed twice"
        );
        assert_eq!(
            listed, expected,
            "{customer}: orderList differs from the acknowledged orders"
        );
    }
}

/// `strata probe` exits 0 against a process that is ready, 1 against a closed port.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_passes_on_a_ready_process_and_fails_on_a_closed_port() {
    let app = TestApp::spawn(Store::Postgres).await;
    let closed = free_port().await;
    let ready = probe(&["--url", &format!("{}/health/ready", app.address)]).await;
    assert_eq!(ready.code(), Some(0), "{ready:?}");
    let port = app.address.rsplit(':').next().unwrap().to_string();
    let by_port = probe(&["--port", &port]).await;
    assert_eq!(by_port.code(), Some(0), "{by_port:?}");
    let refused = probe(&["--port", &closed.to_string()]).await;
    assert_eq!(refused.code(), Some(1), "{refused:?}");
    let missing = probe(&["--url", &format!("{}/no-such-path", app.address)]).await;
    assert_eq!(missing.code(), Some(1), "{missing:?}");
}

/// Runs `strata probe` with `args`.
async fn probe(args: &[&str]) -> ExitStatus {
    let mut command = Command::new(env!("CARGO_BIN_EXE_strata"));
    command
        .arg("probe")
        .args(args)
        .env_remove("STRATA_PORT")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    tokio::task::spawn_blocking(move || command.status().expect("strata probe ran"))
        .await
        .unwrap()
}

/// Split mode behind HAProxy: the processes (in the order they are replaced), HAProxy,
/// and where to reach the entry point and HAProxy's view of its servers.
struct Deployment {
    database_url: String,
    /// Each process's role and port; `processes.0[i]` runs `members[i]`.
    members: Vec<(&'static str, u16)>,
    /// Stopped first (fields drop in order), so it reports no servers going away.
    _haproxy: Processes,
    processes: Processes,
    entry: String,
    stats: String,
}

impl Deployment {
    async fn start(database_url: &str) -> Self {
        let mut members = Vec::new();
        for role in [
            "command-api",
            "read-api",
            "command-api",
            "read-api",
            "projector",
        ] {
            members.push((role, free_port().await));
        }
        let processes = Processes(
            members
                .iter()
                .map(|&(role, port)| strata(database_url, role, port))
                .collect(),
        );
        for &(_, port) in &members {
            ready(port).await;
        }
        let (entry_port, stats_port) = (free_port().await, free_port().await);
        let address = |index: usize| format!("127.0.0.1:{}", members[index].1);
        let haproxy = Command::new("haproxy")
            .args(["-db", "-f", HAPROXY_CONFIG])
            .env("STRATA_ENTRY_BIND", format!("127.0.0.1:{entry_port}"))
            .env("STRATA_STATS_BIND", format!("127.0.0.1:{stats_port}"))
            .env("STRATA_COMMAND_API_1", address(0))
            .env("STRATA_READ_API_1", address(1))
            .env("STRATA_COMMAND_API_2", address(2))
            .env("STRATA_READ_API_2", address(3))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("haproxy started (apt-get install haproxy)");
        let deployment = Self {
            database_url: database_url.to_string(),
            members,
            processes,
            _haproxy: Processes(vec![haproxy]),
            entry: format!("http://127.0.0.1:{entry_port}"),
            stats: format!("http://127.0.0.1:{stats_port}/stats;csv"),
        };
        for index in 0..deployment.members.len() {
            deployment.counted_in(index).await;
        }
        deployment
    }

    /// Stops member `index` with SIGTERM, waits for it to exit, starts a new one on the
    /// same port and waits until it is counted in; the stopped one's exit status.
    async fn replace(&mut self, index: usize) -> ExitStatus {
        let mut stopping = Processes(vec![self.processes.0.remove(index)]);
        let exit = terminate(&mut stopping, WITHIN).await;
        let (role, port) = self.members[index];
        let replacement = strata(&self.database_url, role, port);
        self.processes.0.insert(index, replacement);
        self.counted_in(index).await;
        exit
    }

    /// Waits until member `index` is ready and, for an API, until HAProxy's health
    /// checks have put it back in its backend.
    async fn counted_in(&self, index: usize) {
        let (role, port) = self.members[index];
        ready(port).await;
        let server = match (role, index) {
            ("command-api", 0) => ("commands", "command-1"),
            ("command-api", _) => ("commands", "command-2"),
            ("read-api", 1) => ("reads", "read-1"),
            ("read-api", _) => ("reads", "read-2"),
            _ => return,
        };
        let deadline = Instant::now() + WITHIN;
        loop {
            if self.server_status(server).await.as_deref() == Some("UP") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "HAProxy never counted {server:?} in"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A server's status on HAProxy's stats page (`UP`, `DOWN`, `DOWN 1/2`, …).
    async fn server_status(&self, (backend, server): (&str, &str)) -> Option<String> {
        let csv = reqwest::get(&self.stats).await.ok()?.text().await.ok()?;
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next()?.trim_start_matches("# ").split(',').collect();
        let status = header.iter().position(|column| *column == "status")?;
        lines
            .map(|line| line.split(',').collect::<Vec<_>>())
            .find(|row| row.first() == Some(&backend) && row.get(1) == Some(&server))
            .and_then(|row| row.get(status).map(|s| s.to_string()))
    }
}

/// Waits until the process on `port` answers its readiness probe.
async fn ready(port: u16) {
    let url = format!("http://127.0.0.1:{port}/health/ready");
    eventually(&admin_client(), &url, |status, _| status == StatusCode::OK).await;
}

/// `strata <role>` on `port` (warnings to stderr), with small pools: the five
/// processes and the test's own must fit in PostgreSQL's default 100 connections (a
/// projector running every view and policy holds 35 by itself).
fn strata(database_url: &str, role: &str, port: u16) -> Child {
    let pools = [("STRATA_DB_POOL_SIZE", "4"), ("STRATA_READ_POOL_SIZE", "4")];
    start_with(database_url, role, port, &pools)
}

/// An order acknowledged (201) through the entry point.
#[derive(Debug, Clone)]
struct Acknowledged {
    id: String,
    customer: String,
    position: i64,
}

/// What the clients saw.
#[derive(Debug, Default)]
struct Tally {
    orders_acknowledged: u64,
    reads_answered: u64,
    /// Every request that failed: a 5xx, another unexpected status, or no answer.
    failures: Vec<String>,
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "through HAProxy: {} orders acknowledged, {} reads answered, {} requests failed",
            self.orders_acknowledged,
            self.reads_answered,
            self.failures.len()
        )
    }
}

/// Clients placing and reading orders through the entry point until stopped.
struct Load {
    stop: Arc<AtomicBool>,
    acknowledged: Arc<Mutex<Vec<Acknowledged>>>,
    reads: Arc<AtomicU64>,
    failures: Arc<Mutex<Vec<String>>>,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    fn start(entry: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        let reads = Arc::new(AtomicU64::new(0));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let mut clients = Vec::new();
        for n in 0..ORDERING_CLIENTS {
            let customer = format!("rolling-{n}");
            let client = client_as(Role::Customer, &customer);
            let (entry, stop) = (entry.to_string(), stop.clone());
            let (acknowledged, failures) = (acknowledged.clone(), failures.clone());
            clients.push(tokio::spawn(async move {
                let order = json!({"customerId": customer, "product": "pen", "qty": 1,
                                   "price": 10, "payMethod": "CARD"});
                while !stop.load(Ordering::Relaxed) {
                    let sent = client
                        .post(format!("{entry}/orders"))
                        .header("Idempotency-Key", Uuid::now_v7().to_string())
                        .json(&order)
                        .send()
                        .await;
                    match answer(sent).await {
                        Ok((StatusCode::CREATED, body)) => {
                            acknowledged.lock().unwrap().push(Acknowledged {
                                id: body["orderId"].as_str().expect("an orderId").to_string(),
                                customer: customer.clone(),
                                position: body["position"].as_i64().expect("a position"),
                            })
                        }
                        outcome => failures
                            .lock()
                            .unwrap()
                            .push(failure("POST /orders", outcome)),
                    }
                    tokio::time::sleep(PACE).await;
                }
            }));
        }
        for n in 0..READING_CLIENTS {
            let client = admin_client();
            let (entry, stop, reads) = (entry.to_string(), stop.clone(), reads.clone());
            let (acknowledged, failures) = (acknowledged.clone(), failures.clone());
            clients.push(tokio::spawn(async move {
                let mut turn = n;
                while !stop.load(Ordering::Relaxed) {
                    turn += READING_CLIENTS;
                    let path = {
                        let known = acknowledged.lock().unwrap();
                        match known.len() {
                            0 => None,
                            // A recent order (maybe not projected yet: 404), or one
                            // customer's page.
                            len if turn % 5 != 0 => Some(format!(
                                "/orderLists/{}",
                                known[len - 1 - turn % len.min(50)].id
                            )),
                            _ => Some(format!(
                                "/orderLists?customerId=rolling-{}&limit=20",
                                turn % ORDERING_CLIENTS
                            )),
                        }
                    };
                    if let Some(path) = path {
                        match answer(client.get(format!("{entry}{path}")).send().await).await {
                            Ok((StatusCode::OK | StatusCode::NOT_FOUND, _)) => {
                                reads.fetch_add(1, Ordering::Relaxed);
                            }
                            outcome => failures
                                .lock()
                                .unwrap()
                                .push(failure(&format!("GET {path}"), outcome)),
                        }
                    }
                    tokio::time::sleep(PACE).await;
                }
            }));
        }
        Self {
            stop,
            acknowledged,
            reads,
            failures,
            clients,
        }
    }

    /// Stops the clients; the orders acknowledged, and what the clients saw.
    async fn stop(self) -> (Vec<Acknowledged>, Tally) {
        self.stop.store(true, Ordering::Relaxed);
        for client in self.clients {
            client.await.expect("a client ran to its end");
        }
        let acknowledged = self.acknowledged.lock().unwrap().clone();
        let tally = Tally {
            orders_acknowledged: acknowledged.len() as u64,
            reads_answered: self.reads.load(Ordering::Relaxed),
            failures: self.failures.lock().unwrap().clone(),
        };
        (acknowledged, tally)
    }
}

/// A response's status and JSON body (Null when not JSON), or why there was none.
async fn answer(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<(StatusCode, Value), String> {
    let response = sent.map_err(|error| format!("no answer: {error:?}"))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|error| format!("{status}, body cut: {error:?}"))?;
    Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

/// How `request`, which the load expected to succeed, went wrong: for the tally.
fn failure(request: &str, outcome: Result<(StatusCode, Value), String>) -> String {
    match outcome {
        Ok((status, body)) => format!("{request}: {status} {body}"),
        Err(error) => format!("{request}: {error}"),
    }
}

/// Every orderId of `customer`'s orderList rows, page by page, through the entry point.
async fn order_list(client: &reqwest::Client, entry: &str, customer: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut query = vec![
            ("customerId", customer.to_string()),
            ("limit", "500".into()),
        ];
        query.extend(after.take().map(|cursor| ("after", cursor)));
        let page: Value = client
            .get(format!("{entry}/orderLists"))
            .query(&query)
            .send()
            .await
            .expect("a page")
            .json()
            .await
            .expect("a JSON page");
        for row in page["items"].as_array().expect("items") {
            ids.push(row["orderId"].as_str().expect("an orderId").to_string());
        }
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => return ids,
        }
    }
}
