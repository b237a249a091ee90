//! `/metrics`: Prometheus text with request latency by route and status, events
//! appended, and each view's and policy's checkpoint, head and lag — no token needed.

use reqwest::StatusCode;

use crate::support::on_both_stores;

/// The value of the sample named exactly `series` (name and labels) in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

on_both_stores! {
    async fn metrics_count_requests_appends_and_show_where_each_view_stands(app: TestApp) {
        let placed = app.place_order("c-1", 1, 100).await;
        assert_eq!(placed.status, StatusCode::CREATED);
        let cancel = format!("/orders/{}/cancel", placed.id("orderId"));
        assert_eq!(app.post(&cancel, serde_json::json!(null)).await.status, StatusCode::OK);
        assert_eq!(app.post(&cancel, serde_json::json!(null)).await.status, StatusCode::CONFLICT);
        let missing = app.get(&format!("/orderLists/{}", uuid::Uuid::now_v7())).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        app.projector().await.catch_up_all().await.expect("views");

        let response = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
        assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
        let text = response.text().await.unwrap();

        let posted = r#"strata_http_request_duration_seconds_count{method="POST",route="/orders",status="201"}"#;
        assert_eq!(sample(&text, posted), Some(1.0), "{text}");
        let not_found = r#"strata_http_request_duration_seconds_count{method="GET",route="/orderLists/{id}",status="404"}"#;
        assert_eq!(sample(&text, not_found), Some(1.0), "{text}");
        assert_eq!(sample(&text, "strata_events_appended_total"), Some(3.0), "{text}");
        let commands = |command: &str, outcome: &str| {
            sample(&text, &format!(r#"strata_commands_total{{command="{command}",outcome="{outcome}"}}"#))
        };
        assert_eq!(commands("PlaceOrder", "accepted"), Some(1.0), "{text}");
        assert_eq!(commands("CancelOrder", "accepted"), Some(1.0), "{text}");
        assert_eq!(commands("CancelOrder", "rejected"), Some(1.0), "{text}");
        let order_list = r#"{name="orderList",kind="view"}"#;
        assert_eq!(sample(&text, &format!("strata_subscription_checkpoint{order_list}")), Some(3.0), "{text}");
        assert_eq!(sample(&text, &format!("strata_subscription_head{order_list}")), Some(3.0), "{text}");
        assert_eq!(sample(&text, &format!("strata_subscription_lag_events{order_list}")), Some(0.0), "{text}");
        let on_postgres = matches!(app.backend, crate::support::Backend::Postgres(_));
        assert_eq!(text.contains("strata_oldest_transaction_seconds"), on_postgres, "{text}");
        // The place and the accepted cancel went through the group commit, one at a time.
        let (batches, batched) = match on_postgres {
            true => (Some(2.0), Some(2.0)),
            false => (None, None),
        };
        assert_eq!(sample(&text, "strata_commit_batches_total"), batches, "{text}");
        assert_eq!(sample(&text, "strata_commits_batched_total"), batched, "{text}");
        assert_eq!(sample(&text, "strata_commits_queued"), batches.map(|_| 0.0), "{text}");
    }
}

/// Registers every view and policy, then appends `events` events none of them applies.
async fn every_subscription_lags_behind(app: &crate::support::TestApp, events: i64) {
    app.settle().await;
    let url = app.database_url().expect("a PostgreSQL database");
    let mut database = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         SELECT 'Order', 'lagging-' || n, 1, 'OrderPlaced', '1.0', '{}', '{}'
           FROM generate_series(1, $1) n",
    )
    .bind(events)
    .execute(&mut database)
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lag_of_hundreds_of_thousands_of_events_shows_as_it_is() {
    let app = crate::support::TestApp::spawn(crate::support::Store::Postgres).await;
    let head = app
        .scalar(
            "SELECT coalesce(max(global_position), 0) FROM events WHERE $1 = $1",
            "",
        )
        .await;
    every_subscription_lags_behind(&app, 300_000).await;
    let text = app.metrics().await;
    let order_list = r#"{name="orderList",kind="view"}"#;
    let lag = sample(
        &text,
        &format!("strata_subscription_lag_events{order_list}"),
    );
    let checkpoint = sample(
        &text,
        &format!("strata_subscription_checkpoint{order_list}"),
    );
    assert_eq!(checkpoint, Some(head as f64), "{text}");
    assert_eq!(lag, Some(300_000.0), "{text}");
    let age = sample(
        &text,
        &format!("strata_subscription_lag_seconds{order_list}"),
    );
    assert!(age.is_some_and(|seconds| seconds >= 0.0), "{text}");
    assert_eq!(
        sample(&text, "strata_subscription_metrics_stale"),
        Some(0.0),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_and_probes_go_on_while_scrapers_loop_over_metrics() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let app = crate::support::TestApp::spawn(crate::support::Store::Postgres).await;
    // A scrape that counted the lag each time would be expensive.
    every_subscription_lags_behind(&app, 200_000).await;
    let stop = Arc::new(AtomicBool::new(false));
    let anonymous = reqwest::Client::new();
    let scrapers: Vec<_> = (0..64)
        .map(|_| {
            let (stop, client, url) = (
                stop.clone(),
                anonymous.clone(),
                format!("{}/metrics", app.address),
            );
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let _ = client.get(&url).send().await;
                }
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let app = &app;
    let placed = futures::future::join_all(
        (0..40).map(|i| async move { app.place_order(&format!("c{i}"), 1, 1).await.status }),
    )
    .await;
    let ready = anonymous
        .get(format!("{}/health/ready", app.address))
        .send()
        .await
        .unwrap()
        .status();
    stop.store(true, Ordering::Relaxed);
    for scraper in scrapers {
        scraper.await.unwrap();
    }
    assert!(
        placed
            .iter()
            .all(|status| *status == reqwest::StatusCode::CREATED),
        "{placed:?}"
    );
    assert_eq!(ready, reqwest::StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_answers_while_every_command_connection_waits_on_a_lock() {
    use sqlx::Connection;

    let app = crate::support::TestApp::spawn(crate::support::Store::Postgres).await;
    let url = app.database_url().expect("a PostgreSQL database");
    let mut locker = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut lock = locker.begin().await.unwrap();
    sqlx::query("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    // More commands than the pool has connections, each holding one while it waits.
    let app = &app;
    let waiting = futures::future::join_all(
        (0..24).map(|i| async move { app.place_order(&format!("c{i}"), 1, 1).await.status }),
    );
    let probe = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let ready = reqwest::Client::new()
            .get(format!("{}/health/ready", app.address))
            .timeout(std::time::Duration::from_secs(2))
            .send()
            .await
            .map(|reply| reply.status());
        lock.rollback().await.unwrap();
        ready
    };
    let (placed, ready) = tokio::join!(waiting, probe);
    assert_eq!(ready.ok(), Some(StatusCode::OK));
    assert!(
        placed.iter().all(|status| *status == StatusCode::CREATED),
        "{placed:?}"
    );
}
