//! Read-your-writes: a read naming the position a command returned waits until its
//! view has applied it, then shows the write; past the bound it is a 503.

use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::watch;

use crate::support::{on_both_stores, TestApp};

/// Runs the app's projectors until the returned sender is told to stop.
async fn running_projector(app: &TestApp) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = watch::channel(false);
    let worker = tokio::spawn(app.projector().await.run(stopped));
    (stop, worker)
}

on_both_stores! {
    async fn a_read_with_the_commands_position_never_sees_the_view_before_the_write(app: TestApp) {
        let (stop, worker) = running_projector(&app).await;
        for round in 0..100 {
            let placed = app.place_order("ryw", 1 + round % 5, 1).await;
            let (order_id, position) = (placed.id("orderId"), placed.position());
            let read = app.get(&format!("/orderLists/{order_id}?minPosition={position}")).await;
            assert_eq!(read.status, StatusCode::OK, "round {round}: {:?}", read.body);
            assert_eq!(read.body["paymentStatus"], "PAID", "round {round}");
            let seen: i64 = read.header("x-projection-position").unwrap().parse().unwrap();
            assert!(seen >= position, "round {round}: view at {seen}, write at {position}");
        }
        stop.send(true).expect("stop");
        worker.await.expect("worker");
    }

    async fn the_min_position_header_waits_like_the_query(app: TestApp) {
        let (stop, worker) = running_projector(&app).await;
        let placed = app.place_order("header", 2, 1).await;
        let cancelled = app.post(&format!("/orders/{}/cancel", placed.id("orderId")), json!(null)).await;
        let position = cancelled.position().to_string();
        let page = app.get_with("/orderLists?customerId=header", &[("X-Min-Position", &position)]).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(page.body["items"][0]["orderStatus"], "CANCELLED");
        stop.send(true).expect("stop");
        worker.await.expect("worker");
    }

    async fn a_position_beyond_the_logs_head_is_a_422_at_once(app: TestApp) {
        let placed = app.place_order("ahead", 1, 1).await;
        let beyond = placed.position() + 1_000_000;
        let started = std::time::Instant::now();
        for path in [format!("/orderLists?minPosition={beyond}"), format!("/mypages/ahead?minPosition={beyond}")] {
            let read = app.get(&path).await;
            assert_eq!((read.status, read.body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("minPosition")), "{path}");
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "answered without the wait");
    }

    async fn waiting_reads_have_a_bounded_share_and_others_are_answered_at_once(app: TestApp) {
        let position = app.place_order("waits", 1, 1).await.position();
        let path = format!("/orderLists?minPosition={position}");
        let started = std::time::Instant::now();
        let waiting = futures::future::join_all((0..80).map(|_| async {
            let reply = app.get(&path).await;
            (reply, started.elapsed())
        }));
        let other = async {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            app.get("/orderLists").await
        };
        let (replies, other) = tokio::join!(waiting, other);
        assert_eq!(other.status, StatusCode::OK, "a read without a position is not held up");
        let at_once = replies.iter().filter(|(reply, took)| {
            reply.body["error"] == "view_behind" && *took < std::time::Duration::from_secs(1)
        });
        assert!(at_once.count() >= 80 - 64, "past the share, 503 at once");
    }

    async fn a_position_the_view_does_not_reach_in_time_is_a_503_with_retry_after(app: TestApp) {
        let placed = app.place_order("late", 1, 1).await;
        let read = app.get(&format!("/orderLists?minPosition={}", placed.position())).await;
        assert_eq!(read.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(read.body["error"], "view_behind");
        assert!(read.header("retry-after").is_some());
        assert_eq!(read.header("x-projection-position"), Some("0"));
    }

    async fn a_min_position_that_is_not_a_position_is_a_422(app: TestApp) {
        let read = app.get("/orderLists?minPosition=soon").await;
        assert_eq!(read.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(read.body["field"], "minPosition");
        let read = app.get_with("/mypages/kim", &[("X-Min-Position", "-1")]).await;
        assert_eq!(read.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(read.body["field"], "X-Min-Position");
        // Also where the query's minPosition wins.
        let beyond_i64 = [("X-Min-Position", "9223372036854775808")];
        let read = app.get_with("/mypages/kim?minPosition=0", &beyond_i64).await;
        assert_eq!((read.status, read.body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("X-Min-Position")));
    }
}

on_both_stores! {
    async fn a_min_position_of_zero_asks_for_nothing_and_answers_at_once(app: TestApp) {
        let read = app.get("/orderLists?minPosition=0").await;
        assert_eq!(read.status, StatusCode::OK, "{:?}", read.body);
    }
}
