//! Overload: past its limit of requests in flight a server refuses at once with 503 and
//! `Retry-After`, never a 500, keeps answering its probes, and recovers by itself.

use std::time::Duration;

use command_api::http::overload::Limits;
use futures::future::join_all;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::support::{Store, TestApp};

/// A read that waits for a position of the log that no view will reach (no projector
/// runs): it holds its slot for the whole `minPosition` bound (2 s in tests).
async fn slow_read(app: &TestApp) -> String {
    let position = app.place_order("slow", 1, 1).await.position();
    format!("/orderLists/{}?minPosition={position}", Uuid::now_v7())
}

async fn refused_past_the_limit(store: Store) {
    let limits = Limits {
        max_in_flight: 4,
        request_timeout: Duration::from_secs(10),
    };
    let app = TestApp::spawn_limited(store, limits).await;
    let path = slow_read(&app).await;
    let slow = join_all((0..64).map(|_| app.get(&path)));
    let probe = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.get("/health/live").await
    };
    let (replies, probe) = tokio::join!(slow, probe);
    assert_eq!(
        probe.status,
        StatusCode::OK,
        "probes pass outside the limit"
    );
    let overloaded: Vec<_> = replies
        .iter()
        .filter(|r| r.body["error"] == "overloaded")
        .collect();
    assert!(overloaded.len() >= 60 - 4, "{} refused", overloaded.len());
    for reply in &overloaded {
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reply.header("retry-after"), Some("1"));
    }
    for reply in &replies {
        assert!(
            !reply.status.is_server_error() || reply.status == StatusCode::SERVICE_UNAVAILABLE,
            "{reply:?}"
        );
    }
    let placed = app.place_order("c-1", 1, 100).await;
    assert_eq!(
        placed.status,
        StatusCode::CREATED,
        "the server recovers by itself"
    );
}

async fn timed_out(store: Store) {
    let limits = Limits {
        max_in_flight: 512,
        // Below the read's 2 s wait, with time for the order it needs to commit.
        request_timeout: Duration::from_millis(1000),
    };
    let app = TestApp::spawn_limited(store, limits).await;
    let reply = app.get(&slow_read(&app).await).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.body["error"], "timed_out");
    assert_eq!(reply.header("retry-after"), Some("1"));
}

mod past_the_in_flight_limit_requests_get_503_at_once_and_the_server_recovers {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        refused_past_the_limit(Store::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        refused_past_the_limit(Store::Sqlite).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_time_limit_gets_503() {
    timed_out(Store::Postgres).await;
}
