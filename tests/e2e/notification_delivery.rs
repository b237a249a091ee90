//! Notifications reach a webhook after they are recorded, at least once and without
//! ever holding up a booking: a dead receiver gets every notification, once, when it
//! comes back.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ::policies::{NotificationSink, PolicyError, WebhookSettings};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;
use tokio::net::TcpListener;

use crate::processes::free_port;
use crate::support::{on_both_stores, TestApp};

type Received = Arc<Mutex<Vec<(String, Value)>>>;

/// A webhook receiver on `port` that keeps each request's `Idempotency-Key` and body.
async fn start_receiver(port: u16) -> Received {
    let received = Received::default();
    let router = Router::new()
        .route("/notifications", post(receive))
        .with_state(received.clone());
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind the receiver");
    tokio::spawn(async move { axum::serve(listener, router).await });
    received
}

async fn receive(
    State(received): State<Received>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> StatusCode {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    received.lock().unwrap().push((key.to_string(), body));
    StatusCode::NO_CONTENT
}

/// The ids of every notification recorded in the log.
async fn recorded_notifications(app: &TestApp) -> HashSet<String> {
    let sql = "SELECT aggregate_id FROM events WHERE aggregate_type = 'Notification'";
    let rows = match &app.backend {
        crate::support::Backend::Postgres(s) => sqlx::query(sql)
            .fetch_all(s.service().log().pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect(),
        crate::support::Backend::Sqlite(s) => sqlx::query(sql)
            .fetch_all(s.service().log().pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect(),
    };
    rows
}

/// Polls `/admin/projections` until the sink's status satisfies `wanted`.
async fn wait_for_sink_status(app: &TestApp, wanted: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let statuses = app.get("/admin/projections").await.body["items"].clone();
        let sink = statuses
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "notificationSink")
            .cloned()
            .unwrap_or(Value::Null);
        if wanted(&sink) {
            return sink;
        }
        assert!(
            Instant::now() < deadline,
            "sink status never turned as wanted: {sink}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

on_both_stores! {
    async fn a_dead_webhook_never_blocks_bookings_and_gets_every_notification_once_when_back(app: TestApp) {
        let port = free_port().await;
        let settings = WebhookSettings {
            attempts: 2,
            open_after: 2,
            cooldown: Duration::from_secs(1),
            max_cooldown: Duration::from_secs(1),
            ..WebhookSettings::new(format!("http://127.0.0.1:{port}/notifications"))
        };
        let sink = Arc::new(NotificationSink::webhook(settings));
        let flows = app.backend.policies(&["booking", "notify"], sink.clone()).await;
        let delivery = app.backend.policies(&["notificationSink"], sink.clone()).await;

        for hour in 8..12 {
            let body = json!({"roomId": 5, "useStartDtm": format!("2026-12-01T{hour:02}:00:00Z"),
                              "useEndDtm": format!("2026-12-01T{:02}:00:00Z", hour + 1), "bookingUserId": "user-1"});
            let created = app.post("/bookings", body).await;
            assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
            app.settle_with(&flows).await;
            let confirm_id = ::policies::booking::confirm_id(created.id("bookingId"));
            let decision = if hour % 2 == 0 { "complete" } else { "deny" };
            let decided = app.post(&format!("/confirms/{confirm_id}/{decision}"), json!({})).await;
            assert_eq!(decided.status, StatusCode::OK, "{:?}", decided.body);
        }
        app.settle_with(&flows).await;
        let recorded = recorded_notifications(&app).await;
        assert_eq!(recorded.len(), 4 + 2 + 2 * 2, "requested ×4, complete ×2, denied and canceled ×2");

        // The receiver is down: the sink fails, then its circuit opens and it stops trying.
        assert!(matches!(delivery.catch_up("notificationSink").await, Err(PolicyError::Sink(_))));
        let tried = sink.requests_sent();
        assert!(tried >= 2, "{tried}");
        assert!(matches!(delivery.catch_up("notificationSink").await, Err(PolicyError::Sink(_))));
        assert_eq!(sink.requests_sent(), tried, "an open circuit sends nothing");

        // Its worker keeps retrying in the background, and says so.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(delivery.run(stopped));
        let failing = wait_for_sink_status(&app, |status| status["lastError"].is_string()).await;
        assert!(failing["lastError"].as_str().unwrap().contains("retrying"), "{failing}");

        // The receiver is back: once the circuit lets a probe through, everything arrives.
        let received = start_receiver(port).await;
        let started = received.clone();
        let deadline = Instant::now() + Duration::from_secs(20);
        while received.lock().unwrap().len() < recorded.len() {
            assert!(Instant::now() < deadline, "not delivered in time");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        wait_for_sink_status(&app, |status| status["lastError"].is_null()).await;
        let _ = stop.send(true);
        worker.await.unwrap();
        // Rebuilding every view replays the log; the sink delivers nothing again.
        app.assert_views_equal_a_rebuild().await;
        let again = app.backend.policies(&["notificationSink"], sink.clone()).await;
        again.catch_up("notificationSink").await.expect("nothing left to deliver");
        assert_eq!(started.lock().unwrap().len(), recorded.len(), "delivered again");
        let received = received.lock().unwrap().clone();
        let ids: Vec<String> = received.iter().map(|(key, _)| key.clone()).collect();
        assert_eq!(ids.len(), recorded.len(), "each notification once: {ids:?}");
        assert_eq!(ids.iter().cloned().collect::<HashSet<_>>(), recorded);
        for (key, body) in &received {
            assert_eq!(body["notificationId"], key.as_str());
            assert_eq!(body["userId"], "user-1");
            assert!(body["contents"].as_str().unwrap().starts_with("conference room[5]"));
        }
    }
}

/// A webhook that answers every notification with a 307 to `to`.
async fn start_redirecting(port: u16, to: String) {
    let router = Router::new().route(
        "/notifications",
        post(move || {
            let to = to.clone();
            async move { (StatusCode::TEMPORARY_REDIRECT, [("location", to)]) }
        }),
    );
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind the redirecting webhook");
    tokio::spawn(async move { axum::serve(listener, router).await });
}

fn outgoing() -> ::policies::notifications::OutgoingNotification {
    ::policies::notifications::OutgoingNotification {
        notification_id: uuid::Uuid::now_v7().to_string(),
        user_id: "kim".into(),
        contents: "hello".into(),
        cause: "test".into(),
        send_dtm: chrono::Utc::now(),
        correlation_id: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_redirect_is_answered_not_followed() {
    let (redirecting, elsewhere) = (free_port().await, free_port().await);
    let received = start_receiver(elsewhere).await;
    start_redirecting(
        redirecting,
        format!("http://127.0.0.1:{elsewhere}/notifications"),
    )
    .await;
    let sink = NotificationSink::webhook(WebhookSettings::new(format!(
        "http://127.0.0.1:{redirecting}/notifications?token=secret"
    )));
    let delivery = sink.deliver(&outgoing()).await.expect("an answer");
    assert_eq!(delivery, ::policies::notifications::Delivery::Refused(307));
    assert!(
        received.lock().unwrap().is_empty(),
        "nothing went to the other host"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_webhook_is_reached_over_tls() {
    // Nothing listens there: the request gets as far as connecting, which a client
    // without TLS never tries for https://.
    let port = free_port().await;
    let mut settings = WebhookSettings::new(format!("https://127.0.0.1:{port}/notifications"));
    settings.attempts = 1;
    let sink = NotificationSink::webhook(settings);
    let failed = sink
        .deliver(&outgoing())
        .await
        .expect_err("nothing listens there");
    let said = failed.to_string().to_lowercase();
    assert!(said.contains("connection refused"), "{said}");
}

#[test]
fn a_webhook_that_is_not_http_or_https_stops_the_start() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["migrate"])
        .env(
            "STRATA_NOTIFY_WEBHOOK",
            "ftp://user:secret@example.com/drop",
        )
        .output()
        .expect("strata ran");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{said}");
    assert!(
        said.contains("http:// or https://") && !said.contains("secret"),
        "{said}"
    );
}

/// A receiver that answers a redirect while `refusing`, and takes notifications
/// otherwise, keeping the `Idempotency-Key` of each it took.
async fn start_refusing_receiver(port: u16, refusing: Arc<AtomicBool>) -> Received {
    let received = Received::default();
    let state = (received.clone(), refusing);
    let router = Router::new()
        .route(
            "/notifications",
            post(
                |State((received, refusing)): State<(Received, Arc<AtomicBool>)>,
                 headers: HeaderMap,
                 Json(body): Json<Value>| async move {
                    if refusing.load(Ordering::SeqCst) {
                        return StatusCode::FOUND;
                    }
                    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
                    received
                        .lock()
                        .unwrap()
                        .push((key.unwrap_or_default().to_string(), body));
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(state);
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    tokio::spawn(async move { axum::serve(listener, router).await });
    received
}

async fn a_refused_notification_is_a_dead_letter_to_see_and_send_again(
    store: crate::support::Store,
) {
    let port = free_port().await;
    let refusing = Arc::new(AtomicBool::new(true));
    let received = start_refusing_receiver(port, refusing.clone()).await;
    let sink = Arc::new(NotificationSink::webhook(WebhookSettings::new(format!(
        "http://127.0.0.1:{port}/notifications"
    ))));
    let app = TestApp::spawn_delivering_to(store, sink.clone()).await;
    let delivery = app.backend.policies(&["notificationSink"], sink).await;
    let notification = app
        .send_notification("user-1", "booked", "2026-12-05T10:00:00Z")
        .await;
    app.settle_with(&delivery).await;

    let listed = app.get("/admin/deadLetters").await;
    assert_eq!(listed.status, StatusCode::OK);
    let items = listed.body["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["policy"], "notificationSink");
    assert_eq!(items[0]["code"], "webhook_refused");
    assert_eq!(items[0]["resendable"], true);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"strata_dead_letters{policy="notificationSink"} 1"#),
        "{metrics}"
    );

    let key = items[0]["key"].clone();
    let refused = app
        .post("/admin/deadLetters/resend", json!({"key": key}))
        .await;
    assert_eq!(
        (refused.status, refused.body["error"].as_str()),
        (StatusCode::CONFLICT, Some("webhook_refused"))
    );
    refusing.store(false, Ordering::SeqCst);
    let resent = app
        .post("/admin/deadLetters/resend", json!({"key": key}))
        .await;
    assert_eq!(resent.status, StatusCode::OK, "{:?}", resent.body);
    let taken = received.lock().unwrap().clone();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].0, notification.to_string());
    assert_eq!(taken[0].1["contents"], "booked");
    let listed = app.get("/admin/deadLetters").await;
    assert_eq!(listed.body["items"], json!([]));
    // `/metrics` reads the database at most once a second.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !app
        .metrics()
        .await
        .contains(r#"strata_dead_letters{policy="notificationSink"} 0"#)
    {
        assert!(
            Instant::now() < deadline,
            "the dead letter is still counted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let again = app
        .post("/admin/deadLetters/resend", json!({"key": key}))
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.body["error"], "dead_letter_not_found");
}

mod a_refused_notification_is_a_dead_letter_an_admin_sees_and_sends_again {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::a_refused_notification_is_a_dead_letter_to_see_and_send_again(
            crate::support::Store::Postgres,
        )
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::a_refused_notification_is_a_dead_letter_to_see_and_send_again(
            crate::support::Store::Sqlite,
        )
        .await;
    }
}
