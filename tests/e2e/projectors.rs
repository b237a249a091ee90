//! Projector workers: every event takes effect exactly once, none is skipped, and a
//! worker that was down or crashed catches up. Tests drain the workers
//! (`catch_up_all`) instead of sleeping.

use std::time::Duration;

use crate::support::Backend;
use futures::future::join_all;
use futures::{stream, StreamExt};
use projections::booking::BOOKING_LIST;
use projections::shop::ORDER_LIST;
use serde_json::json;
use sqlx::PgPool;
use tokio::sync::watch;
use uuid::Uuid;

use crate::support::{on_both_stores, Store, TestApp};

on_both_stores! {
    async fn the_order_list_follows_the_commands(app: TestApp) {
        let order_id = app.place_order("kim", 3, 700).await.id("orderId");
        app.post(&format!("/orders/{order_id}/cancel"), json!(null)).await;
        app.projector().await.catch_up_all().await.expect("caught up");
        let id = order_id.to_string();
        let cancelled = app.scalar("SELECT count(*) FROM order_list WHERE order_id = $1 AND order_status = 'CANCELLED' AND payment_status = 'PAID' AND qty = 3", &id).await;
        assert_eq!(cancelled, 1);
    }

    async fn a_worker_that_was_down_catches_up_from_its_checkpoint(app: TestApp) {
        app.place_order("early", 1, 1).await;
        let projector = app.projector().await;
        projector.catch_up_all().await.expect("caught up");
        for _ in 0..1_000 {
            app.place_order("late", 2, 1).await;
        }
        projector.catch_up_all().await.expect("caught up");
        assert_eq!(app.scalar("SELECT count(*) FROM order_list WHERE $1 = $1", "").await, 1_001);
        assert_eq!(app.scalar("SELECT CAST(sum(qty) AS BIGINT) FROM order_list WHERE customer_id = $1", "late").await, 2_000);
        let checkpoint = app.scalar("SELECT position FROM projection_checkpoints WHERE name = $1", "orderList").await;
        assert_eq!(checkpoint, app.scalar("SELECT max(global_position) FROM events WHERE $1 = $1", "").await);
    }

    async fn a_worker_aborted_mid_batch_ten_times_still_applies_every_event_once(app: TestApp) {
        let projector = app.projector().await.with_batch_size(7);
        let mut expected_qty = 0;
        for round in 0..10 {
            let (stop, stopped) = watch::channel(false);
            let worker = tokio::spawn(projector.clone().run(stopped));
            for i in 0..20 {
                let qty = 1 + (round * 20 + i) % 5;
                expected_qty += qty;
                app.place_order("crash", qty, 1).await;
            }
            worker.abort();
            let _ = worker.await;
            drop(stop);
        }
        projector.catch_up_all().await.expect("caught up");
        assert_eq!(app.count_events().await, 400, "every acknowledged command is stored");
        assert_eq!(app.scalar("SELECT count(*) FROM order_list WHERE customer_id = $1", "crash").await, 200);
        assert_eq!(app.scalar("SELECT CAST(sum(qty) AS BIGINT) FROM order_list WHERE customer_id = $1", "crash").await, expected_qty);
        app.assert_views_equal_a_rebuild().await;
    }
}

on_both_stores! {
    async fn admin_projections_shows_checkpoint_head_and_lag(app: TestApp) {
        app.place_order("kim", 1, 1).await;
        let projector = app.projector().await;
        projector.catch_up(&ORDER_LIST).await.expect("caught up");
        app.place_order("kim", 1, 1).await;
        let items = app.get("/admin/projections").await.body["items"].clone();
        let order_list = items.as_array().unwrap().iter().find(|i| i["name"] == "orderList").expect("orderList");
        assert_eq!(order_list["kind"], "view");
        assert_eq!(order_list["state"], "running");
        assert_eq!(order_list["checkpoint"], 2);
        assert_eq!(order_list["head"], 4);
        assert_eq!(order_list["lagEvents"], 2);
        projector.catch_up(&ORDER_LIST).await.expect("caught up");
        let items = app.get("/admin/projections").await.body["items"].clone();
        let order_list = items.as_array().unwrap().iter().find(|i| i["name"] == "orderList").unwrap();
        assert_eq!((order_list["lagEvents"].as_i64(), order_list["lagMs"].as_i64()), (Some(0), Some(0)));
    }

    async fn a_poison_event_stops_its_view_only_and_shows_in_admin(app: TestApp) {
        let sql = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) VALUES ('Order', $1, 1, 'OrderPlaced', '1.0', '{\"OrderPlaced\": {\"qty\": \"many\"}}', '{}')";
        match &app.backend {
            Backend::Postgres(s) => sqlx::query(sql).bind(Uuid::now_v7().to_string()).execute(s.service().log().pool()).await.map(drop),
            Backend::Sqlite(s) => sqlx::query(sql).bind(Uuid::now_v7().to_string()).execute(s.service().log().pool()).await.map(drop),
        }
        .expect("poison inserted");
        let booking = app.create_booking(1, "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z").await.id("bookingId");
        let projector = app.projector().await;
        let error = projector.catch_up(&ORDER_LIST).await.expect_err("poison");
        assert!(error.to_string().contains("position 1"), "{error}");
        assert!(projector.catch_up(&ORDER_LIST).await.is_err(), "stays stopped");
        projector.catch_up(&BOOKING_LIST).await.expect("other views go on");
        let id = booking.to_string();
        assert_eq!(app.scalar("SELECT count(*) FROM booking_list WHERE booking_id = $1", &id).await, 1);
        let items = app.get("/admin/projections").await.body["items"].clone();
        let order_list = items.as_array().unwrap().iter().find(|i| i["name"] == "orderList").unwrap();
        assert_eq!(order_list["state"], "failed");
        assert_eq!(order_list["failedPosition"], 1);
        assert!(order_list["lastError"].as_str().unwrap().contains("OrderPlaced"));
    }
}

/// Inserts one `OrderPlaced` in a transaction held open for `hold` before it commits,
/// as a slow writer would.
async fn slow_order(pool: &PgPool, qty: i64, hold: Duration) {
    let payload = json!({"OrderPlaced": {"customerId": "gap", "product": "p", "qty": qty, "price": 1, "payMethod": "CARD"}});
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query("INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) VALUES ('Order', $1, 1, 'OrderPlaced', '1.0', $2, '{}')")
        .bind(Uuid::now_v7().to_string())
        .bind(payload)
        .execute(&mut *tx)
        .await
        .expect("insert");
    tokio::time::sleep(hold).await;
    tx.commit().await.expect("commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tailing_worker_never_skips_events_of_slow_concurrent_writers() {
    let app = TestApp::spawn(Store::Postgres).await;
    let Backend::Postgres(service) = &app.backend else {
        unreachable!()
    };
    let pool = service.service().log().pool().clone();
    let projector = app.projector().await;
    let (stop, stopped) = watch::channel(false);
    let tail = tokio::spawn(projector.clone().run(stopped));
    let writers = (0..32_i64).map(|writer| {
        let pool = pool.clone();
        async move {
            for i in 0..20_i64 {
                let hold = Duration::from_millis(((writer * 7919 + i * 104_729) % 23) as u64);
                slow_order(&pool, 1 + (writer + i) % 4, hold).await;
            }
        }
    });
    join_all(writers).await;
    stop.send(true).expect("stop");
    tail.await.expect("worker");
    // Whatever the tailing worker passed, it must not have skipped: draining now only
    // applies what it had not reached yet.
    projector.catch_up(&ORDER_LIST).await.expect("caught up");
    let expected: i64 = (0..32_i64)
        .flat_map(|w| (0..20_i64).map(move |i| 1 + (w + i) % 4))
        .sum();
    assert_eq!(
        app.scalar(
            "SELECT count(*) FROM order_list WHERE customer_id = $1",
            "gap"
        )
        .await,
        640
    );
    assert_eq!(
        app.scalar(
            "SELECT CAST(sum(qty) AS BIGINT) FROM order_list WHERE customer_id = $1",
            "gap"
        )
        .await,
        expected
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_share_a_view_without_applying_an_event_twice() {
    let app = TestApp::spawn(Store::Postgres).await;
    let workers: Vec<_> = join_all((0..3).map(|_| app.projector())).await;
    let (stop, stopped) = watch::channel(false);
    let mut running: Vec<_> = workers
        .iter()
        .map(|worker| tokio::spawn(worker.clone().run(stopped.clone())))
        .collect();
    let app = &app;
    // 64 clients at a time, well inside the server's in-flight limit: every order counts.
    let write = |from: i64| {
        stream::iter(from..from + 1_250)
            .map(|i| async move {
                let placed = app.place_order("scale", 1 + i % 3, 1).await;
                assert_eq!(
                    placed.status,
                    reqwest::StatusCode::CREATED,
                    "{:?}",
                    placed.body
                );
            })
            .buffer_unordered(64)
            .collect::<Vec<_>>()
    };
    write(0).await;
    // Kill one worker mid-way: the others take its share.
    running.remove(0).abort();
    write(1_250).await;
    stop.send(true).expect("stop");
    for worker in running {
        worker.await.expect("worker");
    }
    workers[1].catch_up_all().await.expect("caught up");
    // Each worker counts the events of the batches it committed; with every view caught
    // up, each of the 5,000 events went through one batch per view — more means twice.
    let applied: u64 = workers.iter().map(|w| w.applied_events()).sum();
    let views = workers[0].views().len() as u64;
    assert!(
        applied <= views * 5_000,
        "{applied} events applied: some twice"
    );
    assert!(workers[2].applied_events() > 0 || workers[1].applied_events() > 0);
    assert_eq!(
        app.scalar(
            "SELECT count(*) FROM order_list WHERE customer_id = $1",
            "scale"
        )
        .await,
        2_500
    );
    let expected: i64 = (0..2_500_i64).map(|i| 1 + i % 3).sum();
    assert_eq!(
        app.scalar(
            "SELECT CAST(sum(qty) AS BIGINT) FROM order_list WHERE customer_id = $1",
            "scale"
        )
        .await,
        expected
    );
}

/// An open transaction that keeps committed events from the views is named, with its
/// pid, in `/admin/projections` (and in `ProjectionStore::statuses`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_transaction_holding_views_back_is_named_with_its_pid() {
    let app = TestApp::spawn(Store::Postgres).await;
    let Backend::Postgres(service) = &app.backend else {
        unreachable!("a PostgreSQL app")
    };
    let mut holder = service
        .service()
        .log()
        .pool()
        .acquire()
        .await
        .unwrap()
        .detach();
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut holder)
        .await
        .unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut holder)
        .await
        .unwrap();
    let store = app.backend.projection_store().await.unwrap();
    store
        .connect()
        .await
        .unwrap()
        .register(&ORDER_LIST)
        .await
        .unwrap();
    assert_eq!(
        app.place_order("c-1", 1, 10).await.status,
        reqwest::StatusCode::CREATED
    );

    // Other tests' transactions are short: one open for a second is this one.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let statuses = store.statuses(Duration::from_secs(1)).await.unwrap().items;
    let order_list = statuses
        .iter()
        .find(|s| s.name == "orderList")
        .expect("orderList");
    let held = order_list
        .held_back_by
        .as_ref()
        .expect("the holder is named");
    assert_eq!(held.pid, pid);
    assert!(held.age_ms >= 1000, "{held:?}");

    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    let statuses = store.statuses(Duration::from_secs(60)).await.unwrap().items;
    assert!(
        statuses.iter().all(|s| s.held_back_by.is_none()),
        "{statuses:?}"
    );
    let listed = app.get("/admin/projections").await;
    let first = listed.body["items"][0].as_object().expect("a status");
    assert_eq!(
        first.get("heldBackBy"),
        Some(&serde_json::Value::Null),
        "{first:?}"
    );
}
