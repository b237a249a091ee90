//! The database goes away under a running server and comes back: commands get 503 with
//! `Retry-After` within the acquire timeout, readiness turns 503, and service resumes
//! without a restart, with every acknowledged command kept.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::processes::{admin_client, eventually, free_port, start_with, Processes};
use crate::support::{Store, TestApp};
use crate::tcp_proxy::Proxy;

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
    let proxy = Proxy::start(5432).await;
    let proxied = proxy.in_front_of(&direct, 5432);
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

    proxy.take_down();
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

    proxy.point_at(5432);
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
