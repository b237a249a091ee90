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
async fn json_logs_carry_the_correlation_id_of_requests_and_of_the_reactions_they_cause() {
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
    // The booking's notification is logged by the sink policy, in a reaction's span
    // that carries the correlation id of the request that caused it.
    let booking = json!({"roomId": 7, "useStartDtm": "2026-12-01T09:00:00Z",
                         "useEndDtm": "2026-12-01T10:00:00Z", "bookingUserId": "u"});
    let booked = client
        .post(format!("{base}/bookings"))
        .header("X-Correlation-Id", "log-flow-2")
        .json(&booking)
        .send()
        .await
        .unwrap();
    assert_eq!(booked.status(), StatusCode::CREATED);

    let search = tokio::task::spawn_blocking(move || {
        let mut wanted = [("log-flow-1", "request"), ("log-flow-2", "reaction")]
            .map(|want| (want, None::<Value>));
        for line in logs.lines().map(|line| line.expect("a log line")) {
            let Ok(entry) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            for ((id, span), found) in &mut wanted {
                if found.is_none()
                    && entry["span"]["correlation_id"] == *id
                    && entry["span"]["name"] == *span
                {
                    *found = Some(entry.clone());
                }
            }
            if wanted.iter().all(|(_, found)| found.is_some()) {
                break;
            }
        }
        wanted.map(|(want, found)| found.unwrap_or_else(|| panic!("no log line for {want:?}")))
    });
    let [request, reaction] = tokio::time::timeout(std::time::Duration::from_secs(30), search)
        .await
        .expect("the log lines within 30 s")
        .unwrap();
    assert_eq!(request["span"]["path"], "/orders", "{request}");
    assert!(reaction["span"]["policy"].is_string(), "{reaction}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrating_again_and_replaying_log_no_database_notices_by_default() {
    let app = crate::support::TestApp::spawn(crate::support::Store::Postgres).await;
    let url = app.database_url().expect("PostgreSQL");
    for args in [&["migrate"][..], &["replay", "--view", "orderList"]] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(args)
            .env("DATABASE_URL", &url)
            .env_remove("RUST_LOG")
            .output()
            .expect("strata ran");
        assert!(output.status.success(), "{args:?}: {output:?}");
        let printed = [output.stdout, output.stderr].concat();
        let printed = String::from_utf8_lossy(&printed);
        assert!(printed.contains("INFO"), "{args:?} logs at info: {printed}");
        assert!(
            !printed.contains("skipping"),
            "{args:?} logged a notice: {printed}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_strata_takes_the_port_and_host_that_serve_takes() {
    use crate::processes::{admin_client, eventually, free_port, Processes};

    let port = free_port().await;
    let data = std::env::temp_dir().join(format!("strata_plain_{}", uuid::Uuid::now_v7()));
    let plain = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .env("STRATA_PORT", port.to_string())
        .env("STRATA_HOST", "127.0.0.1")
        .env("STRATA_DATA_DIR", &data)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("strata started");
    let _processes = Processes(vec![plain]);
    eventually(
        &admin_client(),
        &format!("http://127.0.0.1:{port}/health/live"),
        |status, _| status == reqwest::StatusCode::OK,
    )
    .await;
    let _ = std::fs::remove_dir_all(data);
}

#[test]
fn a_token_valid_for_longer_than_ten_years_is_refused_not_a_panic() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["token", "--role", "admin", "--sub", "ops"])
        .args(["--valid-for-seconds", "18446744073709551615"])
        .env("STRATA_JWT_SECRET", "0123456789abcdef0123456789abcdef0123")
        .output()
        .expect("strata ran");
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(
        said.contains("--valid-for-seconds") && !said.contains("panicked"),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_benchmarks_refuse_a_database_that_holds_others_events() {
    let app = crate::support::TestApp::spawn(crate::support::Store::Postgres).await;
    app.place_order("kim", 1, 1).await;
    let before = app.count_events().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["bench", "--seconds", "1", "--concurrency", "1"])
        .env("DATABASE_URL", app.database_url().expect("PostgreSQL"))
        .env("RUST_LOG", "warn")
        .output()
        .expect("strata ran");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{said}");
    assert!(said.contains("--any-database"), "{said}");
    assert_eq!(app.count_events().await, before, "nothing was written");
}
