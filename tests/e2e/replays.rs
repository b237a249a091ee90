//! Rebuilding a view from the log while the live one keeps serving, then swapping.

use futures::future::join;
use projections::shop::ORDER_LIST;
use reqwest::StatusCode;
use strata::admin::REBUILD_BATCH;
use tokio::sync::watch;
use uuid::Uuid;

use crate::support::{on_both_stores, TestApp};

on_both_stores! {
    async fn a_rebuild_during_writes_equals_the_incremental_view(app: TestApp) {
        for _ in 0..100 {
            app.place_order("before", 1, 1).await;
        }
        let projector = app.projector().await;
        projector.catch_up_all().await.expect("caught up");
        let (stop, stopped) = watch::channel(false);
        let tail = tokio::spawn(projector.clone().run(stopped));
        let store = app.backend.projection_store().await.expect("store");
        let writes = async {
            for _ in 0..100 {
                app.place_order("during", 2, 1).await;
                let reply = app.get("/admin/projections").await;
                assert_eq!(reply.status, StatusCode::OK, "the live side keeps serving");
                let served = app.scalar("SELECT count(*) FROM order_list WHERE $1 = $1", "").await;
                assert!(served >= 100, "readers never see a partial view: {served} rows");
            }
        };
        let (report, ()) = join(projections::rebuild(&store, &ORDER_LIST, 7), writes).await;
        let report = report.expect("rebuilt");
        // The 200 events the live view had when the rebuild began were built in batches
        // beforehand; the swap's transaction only caught up what came during it.
        assert!(report.events - report.events_at_swap >= 200, "{report:?}");
        assert!(report.compared);
        assert!(report.differences.is_empty(), "{report:?}");
        assert!(report.events >= 200, "{report:?}");
        stop.send(true).expect("stop");
        tail.await.expect("worker");
        projector.catch_up_all().await.expect("caught up");
        assert_eq!(app.scalar("SELECT count(*) FROM order_list WHERE $1 = $1", "").await, 200);
        assert_eq!(app.scalar("SELECT CAST(sum(qty) AS BIGINT) FROM order_list WHERE customer_id = $1", "during").await, 200);
    }

    async fn a_rebuild_reports_and_repairs_a_view_that_drifted(app: TestApp) {
        let order_id = app.place_order("kim", 3, 1).await.id("orderId").to_string();
        app.place_order("lee", 1, 1).await;
        app.projector().await.catch_up_all().await.expect("caught up");
        app.execute("UPDATE order_list SET qty = 999 WHERE order_id = $1", &order_id).await;
        let store = app.backend.projection_store().await.expect("store");
        let report = projections::rebuild(&store, &ORDER_LIST, REBUILD_BATCH).await.expect("rebuilt");
        assert_eq!(report.differences.len(), 1, "{report:?}");
        assert_eq!((report.differences[0].only_in_rebuilt, report.differences[0].only_in_live), (1, 1));
        assert_eq!(app.scalar("SELECT qty FROM order_list WHERE order_id = $1", &order_id).await, 3);
    }

    async fn a_rebuild_of_a_view_that_never_ran_reads_the_whole_log(app: TestApp) {
        for _ in 0..30 {
            app.place_order("kim", 1, 1).await;
        }
        let store = app.backend.projection_store().await.expect("store");
        let report = projections::rebuild(&store, &ORDER_LIST, 7).await.expect("rebuilt");
        assert_eq!((report.events, report.position), (60, 60), "{report:?}");
        assert!(!report.compared, "nothing to compare with: {report:?}");
        assert_eq!(app.scalar("SELECT count(*) FROM order_list WHERE customer_id = $1", "kim").await, 30);
        let resumed = app.get("/admin/projections").await;
        let order_list = resumed.body["items"].as_array().expect("items").iter()
            .find(|item| item["name"] == "orderList").expect("orderList").clone();
        assert_eq!(order_list["checkpoint"], 60, "{order_list}");
    }

    async fn a_rebuild_after_a_fix_resumes_a_failed_view(app: TestApp) {
        let poison = Uuid::now_v7().to_string();
        app.execute("INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) VALUES ('Order', $1, 1, 'OrderPlaced', '1.0', '{\"Broken\": {}}', '{}')", &poison).await;
        app.place_order("kim", 1, 1).await;
        let projector = app.projector().await;
        assert!(projector.catch_up(&ORDER_LIST).await.is_err());
        // The operator's fix: here, removing the broken event.
        app.execute("DELETE FROM events WHERE aggregate_id = $1", &poison).await;
        let reply = app.post("/admin/projections/orderList/rebuild", serde_json::Value::Null).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED);
        let unknown = app.post("/admin/projections/invoices/rebuild", serde_json::Value::Null).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        // The rebuild runs in the background; the view resumes when it has swapped.
        while projector.catch_up(&ORDER_LIST).await.is_err() {
            tokio::task::yield_now().await;
        }
        assert_eq!(app.scalar("SELECT count(*) FROM order_list WHERE customer_id = $1", "kim").await, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_view_is_rebuilt_by_one_process_at_a_time() {
    let app = TestApp::spawn(crate::support::Store::Postgres).await;
    app.place_order("kim", 1, 1).await;
    let store = app.backend.projection_store().await.expect("store");
    // Another process's rebuild, as far as the server can tell: a session of its own.
    let elsewhere = projections::replay::Rebuild::start(&store, &ORDER_LIST)
        .await
        .expect("the first rebuild starts");
    let second = projections::replay::Rebuild::start(&store, &ORDER_LIST).await;
    assert!(matches!(
        second,
        Err(projections::ProjectionError::RebuildRunning(_))
    ));
    let refused = app
        .post(
            "/admin/projections/orderList/rebuild",
            serde_json::Value::Null,
        )
        .await;
    assert_eq!(
        (refused.status, refused.body["error"].as_str()),
        (StatusCode::CONFLICT, Some("rebuild_running"))
    );
    let report = elsewhere.run(REBUILD_BATCH).await.expect("rebuilt");
    assert_eq!(report.events, 2);
    let again = app
        .post(
            "/admin/projections/orderList/rebuild",
            serde_json::Value::Null,
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::ACCEPTED,
        "the lock ends with its rebuild"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_whose_shadow_is_dropped_under_it_fails_without_touching_the_live_view() {
    let app = TestApp::spawn(crate::support::Store::Postgres).await;
    app.place_order("kim", 1, 1).await;
    app.settle().await;
    // The live view stands still from here on: no worker runs it.
    let app = &app;
    futures::future::join_all(
        (0..200).map(|i| async move { app.place_order(&format!("c{i}"), 1, 1).await }),
    )
    .await;
    let checkpoint = "SELECT position FROM projection_checkpoints WHERE name = $1";
    let live_position = app.scalar(checkpoint, "orderList").await;
    let live_rows = "SELECT count(*) FROM order_list WHERE customer_id <> $1";
    assert_eq!(app.scalar(live_rows, "").await, 1);

    let store = app.backend.projection_store().await.expect("store");
    let rebuild = tokio::spawn(async move { projections::rebuild(&store, &ORDER_LIST, 1).await });
    let url = app.database_url().expect("a PostgreSQL database");
    let mut other = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let shadow = loop {
        let shadow: Option<String> = sqlx::query_scalar(
            "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'strata_rebuild_%'",
        )
        .fetch_optional(&mut other)
        .await
        .unwrap();
        if let Some(shadow) = shadow {
            break shadow;
        }
        assert!(
            !rebuild.is_finished(),
            "the rebuild ended before its shadow was seen"
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    };
    // Dropped while the rebuild applies events, not while it creates its tables.
    let progress =
        format!("SELECT position FROM {shadow}.projection_checkpoints WHERE name = 'orderList'");
    loop {
        let position: Result<Option<i64>, _> = sqlx::query_scalar(&progress)
            .fetch_optional(&mut other)
            .await;
        if matches!(position, Ok(Some(position)) if position > 0) {
            break;
        }
        assert!(
            !rebuild.is_finished(),
            "the rebuild ended before it applied events"
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    // The drop may deadlock with a batch (and lose): then it tries again.
    let drop = format!("DROP SCHEMA {shadow} CASCADE");
    while let Err(error) = sqlx::query(&drop).execute(&mut other).await {
        assert!(error.to_string().contains("deadlock"), "{error}");
    }

    let outcome = rebuild.await.unwrap();
    assert!(outcome.is_err(), "{outcome:?}");
    assert_eq!(app.scalar(checkpoint, "orderList").await, live_position);
    assert_eq!(app.scalar(live_rows, "").await, 1);
}
