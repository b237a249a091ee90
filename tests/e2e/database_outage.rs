//! The database goes away under a running server and comes back: commands get 503 with
//! `Retry-After` within the acquire timeout, readiness turns 503, and service resumes
//! without a restart, with every acknowledged command kept.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::processes::{admin_client, eventually, free_port, start_with, Processes};
use crate::support::{Store, TestApp};

/// A TCP proxy in front of PostgreSQL that the test can cut: while down it refuses new
/// connections and closes the ones it carries, as a database that went away would.
struct Proxy {
    port: u16,
    up: Arc<watch::Sender<bool>>,
}

impl Proxy {
    async fn start() -> Self {
        let port = free_port().await;
        let up = Arc::new(watch::Sender::new(true));
        let state = up.clone();
        tokio::spawn(async move {
            loop {
                let mut down = state.subscribe();
                let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
                loop {
                    tokio::select! {
                        accepted = listener.accept() => {
                            let Ok((inbound, _)) = accepted else { break };
                            tokio::spawn(carry(inbound, state.subscribe()));
                        }
                        _ = down.wait_for(|up| !*up) => break,
                    }
                }
                // Down: no listener, so connections are refused, until it is up again.
                drop(listener);
                let mut up = state.subscribe();
                if up.wait_for(|up| *up).await.is_err() {
                    return;
                }
            }
        });
        Self { port, up }
    }

    fn set(&self, up: bool) {
        self.up.send_replace(up);
    }
}

/// Copies both ways between a client and PostgreSQL until either closes or the proxy
/// goes down.
async fn carry(mut inbound: TcpStream, mut state: watch::Receiver<bool>) {
    let Ok(mut outbound) = TcpStream::connect("127.0.0.1:5432").await else {
        return;
    };
    tokio::select! {
        _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
        _ = state.wait_for(|up| !*up) => {}
    }
}

async fn place(client: &reqwest::Client, base: &str) -> (StatusCode, Value, Option<String>) {
    let order =
        json!({"customerId": "c-1", "product": "pen", "qty": 1, "price": 10, "payMethod": "CARD"});
    let response = client
        .post(format!("{base}/orders"))
        .json(&order)
        .send()
        .await
        .expect("an answer");
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        retry_after,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_goes_away_gives_503s_and_service_resumes_when_it_returns() {
    let app = TestApp::spawn(Store::Postgres).await;
    let direct = app.database_url().expect("a PostgreSQL database");
    let proxy = Proxy::start().await;
    let proxied = direct.replace("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port));
    assert_ne!(proxied, direct, "the URL goes through the proxy");
    let port = free_port().await;
    let timeout = [
        ("STRATA_DB_ACQUIRE_TIMEOUT_MS", "500"),
        ("RUST_LOG", "error"),
    ];
    let server = start_with(&proxied, "serve", port, &timeout);
    let _processes = Processes(vec![server]);
    let (client, base) = (admin_client(), format!("http://127.0.0.1:{port}"));
    eventually(&client, &format!("{base}/health/ready"), |s, _| {
        s == StatusCode::OK
    })
    .await;

    let mut acknowledged = Vec::new();
    for _ in 0..10 {
        let (status, body, _) = place(&client, &base).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        acknowledged.push(body["orderId"].as_str().unwrap().to_string());
    }

    proxy.set(false);
    for _ in 0..3 {
        let asked = Instant::now();
        let (status, body, retry_after) = place(&client, &base).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        // The first command may have been sent down the connection the proxy cut: its
        // outcome is unknown, and it says so.
        let code = body["error"].as_str().unwrap_or_default();
        assert!(
            ["unavailable", "commit_outcome_unknown"].contains(&code),
            "{body}"
        );
        assert_eq!(retry_after.as_deref(), Some("1"));
        assert!(
            asked.elapsed() < Duration::from_secs(3),
            "answered in {:?}",
            asked.elapsed()
        );
    }
    let ready = client
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let live = client
        .get(format!("{base}/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), StatusCode::OK);

    proxy.set(true);
    eventually(&client, &format!("{base}/health/ready"), |s, _| {
        s == StatusCode::OK
    })
    .await;
    // Readiness asks through a pool of its own: the commands' first tries may still meet
    // connections the outage ended less than 500 ms after their last use (handed out
    // without a ping) and answer 503, which the client retries.
    let deadline = Instant::now() + Duration::from_secs(5);
    let body = loop {
        let (status, body, _) = place(&client, &base).await;
        if status == StatusCode::CREATED {
            break body;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(
            Instant::now() < deadline,
            "service did not resume without a restart: {body}"
        );
    };
    acknowledged.push(body["orderId"].as_str().unwrap().to_string());
    app.assert_orders_stored(&acknowledged).await;
}

/// Connections the database ended while they sat idle in the pools (a restart, an
/// operator's `pg_terminate_backend`) are found out before use: no request fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_ended_while_idle_are_replaced_before_a_request_uses_them() {
    let app = TestApp::spawn(Store::Postgres).await;
    let order_id = app.place_order("idle", 1, 10).await.id("orderId");
    app.projector()
        .await
        .catch_up_all()
        .await
        .expect("views caught up");
    assert_eq!(
        app.get(&format!("/orderLists/{order_id}")).await.status,
        StatusCode::OK
    );
    let ended = app
        .scalar(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND $1 = $1",
            "",
        )
        .await;
    assert!(ended > 0, "the pools held connections");
    // The pools hand a connection used in the last 500 ms out untested: the scenario is
    // connections that have been idle for longer.
    tokio::time::sleep(Duration::from_millis(600)).await;
    for n in 0..20 {
        let placed = app.place_order("idle", 1, 10).await;
        assert_eq!(
            placed.status,
            StatusCode::CREATED,
            "order {n}: {:?}",
            placed.body
        );
        let read = app.get(&format!("/orderLists/{order_id}")).await;
        assert_eq!(read.status, StatusCode::OK, "read {n}: {:?}", read.body);
    }
}
