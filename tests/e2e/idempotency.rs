//! `Idempotency-Key`: a retried command returns its first response and appends nothing;
//! a key keeps a digest of its request, and a client's key is forgotten after its time.

use std::time::Duration;

use command_api::store::EventLog;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::processes::{admin_client, eventually, free_port, start_with, Processes};
use crate::support::{on_both_stores, with_app, Store, TestApp};

on_both_stores! {
    async fn a_retry_with_the_same_key_returns_the_first_response_and_appends_nothing(app: TestApp) {
        let body = json!({"customerId": "c", "product": "p", "qty": 1, "price": 10, "payMethod": "CARD"});
        let key = [("Idempotency-Key", "order-attempt-1")];
        let first = app.post_with("/orders", body.clone(), &key).await;
        assert_eq!(first.status, StatusCode::CREATED);
        let events = app.count_events().await;
        let retry = app.post_with("/orders", body, &key).await;
        assert_eq!(retry.status, StatusCode::CREATED);
        assert_eq!(retry.body, first.body);
        assert_eq!(retry.header("location"), first.header("location"));
        assert_eq!(app.count_events().await, events);
    }

    async fn a_key_reused_with_another_body_answers_422(app: TestApp) {
        let key = [("Idempotency-Key", "k-1")];
        let body = json!({"customerId": "c", "product": "p", "qty": 1, "price": 10, "payMethod": "CARD"});
        assert_eq!(app.post_with("/orders", body, &key).await.status, StatusCode::CREATED);
        let other = json!({"customerId": "c", "product": "p", "qty": 2, "price": 10, "payMethod": "CARD"});
        let reply = app.post_with("/orders", other, &key).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.body["error"], "idempotency_key_reused");
    }

    async fn a_retried_cancel_answers_200_again_without_a_second_event(app: TestApp) {
        let order_id = app.place_order("c", 1, 1).await.id("orderId");
        let path = format!("/orders/{order_id}/cancel");
        let key = [("Idempotency-Key", "cancel-1")];
        let first = app.post_with(&path, json!(null), &key).await;
        let retry = app.post_with(&path, json!(null), &key).await;
        assert_eq!((first.status, retry.status), (StatusCode::OK, StatusCode::OK));
        assert_eq!(first.body, retry.body);
        assert_eq!(app.event_types("Order", order_id).await, ["OrderPlaced", "OrderCancelled"]);
    }

    async fn concurrent_retries_with_one_key_place_one_order(app: TestApp) {
        let body = json!({"customerId": "c", "product": "p", "qty": 1, "price": 10, "payMethod": "CARD"});
        let replies = join_all((0..10).map(|_| {
            app.post_with("/orders", body.clone(), &[("Idempotency-Key", "same")])
        }))
        .await;
        for reply in &replies {
            assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
            assert_eq!(reply.body, replies[0].body);
        }
        assert_eq!(app.count_events().await, 2);
    }

    async fn a_key_keeps_a_digest_of_its_request_and_not_the_request(app: TestApp) {
        let key = [("Idempotency-Key", "digest-1")];
        let body = json!({"customerId": "c", "product": "a secret product", "qty": 1, "price": 10, "payMethod": "CARD"});
        let first = app.post_with("/orders", body, &key).await;
        assert_eq!(first.status, StatusCode::CREATED);
        let digests = app.scalar(
            "SELECT count(*) FROM idempotency_keys WHERE length(request_digest) = 64 AND scope_key LIKE $1",
            "% digest-1").await;
        assert_eq!(digests, 1);
        let keeping_the_product = app.scalar(
            "SELECT count(*) FROM idempotency_keys WHERE CAST(response AS TEXT) LIKE $1 OR request_digest LIKE $1",
            "%secret%").await;
        assert_eq!(keeping_the_product, 0);
        // The same request in another key order is the same request.
        let reordered = json!({"payMethod": "CARD", "price": 10, "qty": 1, "product": "a secret product", "customerId": "c"});
        let retry = app.post_with("/orders", reordered, &key).await;
        assert_eq!((retry.status, &retry.body), (StatusCode::CREATED, &first.body));
    }

    async fn an_expired_client_key_is_forgotten_and_a_policys_is_kept(app: TestApp) {
        let key = [("Idempotency-Key", "expiring-1")];
        let body = json!({"customerId": "c", "product": "p", "qty": 1, "price": 10, "payMethod": "CARD"});
        let first = app.post_with("/orders", body.clone(), &key).await;
        app.create_booking(7, "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z").await;
        app.settle().await;
        let policy_keys = "SELECT count(*) FROM idempotency_keys WHERE scope_key LIKE $1";
        let issued = app.scalar(policy_keys, "policy %").await;
        assert!(issued > 0, "the booking policy issued a command");

        with_app!(&app.backend, a => {
            let kept = a.service().log().expire_idempotency_keys(Duration::from_secs(3600)).await;
            assert_eq!(kept.unwrap(), 0, "nothing is an hour old");
            tokio::time::sleep(Duration::from_millis(20)).await;
            let expired = a.service().log().expire_idempotency_keys(Duration::from_millis(10)).await;
            assert_eq!(expired.unwrap(), 1, "the client's one key");
        });

        assert_eq!(app.scalar(policy_keys, "policy %").await, issued);
        let again = app.post_with("/orders", body, &key).await;
        assert_eq!(again.status, StatusCode::CREATED);
        assert_ne!(again.id("orderId"), first.id("orderId"), "a new command");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_forgets_a_key_after_its_configured_time_to_live() {
    let app = TestApp::spawn(Store::Postgres).await;
    let url = app.database_url().expect("a PostgreSQL database");
    let port = free_port().await;
    let env = [("STRATA_IDEMPOTENCY_KEY_TTL_SECONDS", "1")];
    let _server = Processes(vec![start_with(&url, "serve", port, &env)]);
    let client = admin_client();
    let base = format!("http://127.0.0.1:{port}");
    eventually(&client, &format!("{base}/health/ready"), |s, _| {
        s == StatusCode::OK
    })
    .await;
    let body =
        json!({"customerId": "c", "product": "p", "qty": 1, "price": 10, "payMethod": "CARD"});
    let place = || async {
        let reply = client
            .post(format!("{base}/orders"))
            .header("Idempotency-Key", "short-lived")
            .json(&body)
            .send()
            .await
            .expect("an answer");
        reply.json::<serde_json::Value>().await.expect("JSON")["orderId"].clone()
    };
    let first = place().await;
    assert_eq!(place().await, first, "a retry at once is the first order");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        if place().await != first {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the key was never forgotten"
        );
    }
}
