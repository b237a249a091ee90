//! Health and the audit stream.

use reqwest::StatusCode;
use uuid::Uuid;

use crate::support::on_both_stores;

on_both_stores! {
    async fn health_answers_live_and_ready(app: TestApp) {
        assert_eq!(app.get("/health/live").await.status, StatusCode::OK);
        let ready = app.get("/health/ready").await;
        assert_eq!(ready.status, StatusCode::OK);
        assert_eq!(ready.body["status"], "ready");
    }

    async fn admin_routes_carry_the_correlation_id_like_every_route(app: TestApp) {
        let reply = app.get("/admin/projections").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.header("x-correlation-id").is_some());
        let missing = app.get("/admin/nowhere").await;
        assert_eq!(missing.body["error"], "route_not_found");
    }

    async fn unknown_streams_and_aggregate_types_answer_404(app: TestApp) {
        let stream = app.get(&format!("/admin/streams/Order/{}", Uuid::now_v7())).await;
        assert_eq!(stream.status, StatusCode::NOT_FOUND);
        assert_eq!(stream.body["error"], "stream_not_found");
        let kind = app.get(&format!("/admin/streams/Invoice/{}", Uuid::now_v7())).await;
        assert_eq!(kind.body["error"], "unknown_aggregate_type");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_each_requests_correlation_id() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    use serde_json::{json, Value};

    use crate::processes::{admin_client, command, eventually, free_port, Processes};
    use crate::support::{Store, TestApp};

    let app = TestApp::spawn(Store::Postgres).await;
    let port = free_port().await;
    let mut serve = command(&app.database_url().expect("PostgreSQL"), "serve", port)
        .env("STRATA_LOG_FORMAT", "json")
        .env("RUST_LOG", "info,tower_http=debug")
        .stdout(Stdio::piped())
        .spawn()
        .expect("strata started");
    let logs = BufReader::new(serve.stdout.take().expect("stdout"));
    let _processes = Processes(vec![serve]);
    let (client, base) = (admin_client(), format!("http://127.0.0.1:{port}"));
    eventually(&client, &format!("{base}/health/ready"), |s, _| {
        s == StatusCode::OK
    })
    .await;
    let order =
        json!({"customerId": "c", "product": "pen", "qty": 1, "price": 5, "payMethod": "CARD"});
    let placed = client
        .post(format!("{base}/orders"))
        .header("X-Correlation-Id", "log-flow-1")
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), StatusCode::CREATED);

    let search = tokio::task::spawn_blocking(move || {
        logs.lines()
            .map(|line| line.expect("a log line"))
            .find(|line| line.contains("log-flow-1"))
    });
    let line = tokio::time::timeout(std::time::Duration::from_secs(30), search)
        .await
        .expect("the log line within 30 s")
        .unwrap()
        .expect("a log line naming the request's correlation id");
    let entry: Value =
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("a JSON log line: {line}"));
    assert_eq!(entry["span"]["correlation_id"], "log-flow-1", "{entry}");
    assert_eq!(entry["span"]["path"], "/orders", "{entry}");
}
