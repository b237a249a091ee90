//! `Idempotency-Key`: a retried command returns its first response and appends nothing.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::on_both_stores;

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
}
