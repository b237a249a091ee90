//! A manager's decision on a confirm, and staff cancelling a delivery.

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use auth::Role;

use crate::support::on_both_stores;

on_both_stores! {
    async fn completing_a_confirm_answers_200_and_a_second_decision_409(app: TestApp) {
        let booking_id = app.create_booking(7, "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z").await.id("bookingId");
        let confirm_id = app.request_confirm(booking_id).await;
        let complete = app.post(&format!("/confirms/{confirm_id}/complete"), json!({})).await;
        assert_eq!(complete.status, StatusCode::OK, "{:?}", complete.body);
        assert_eq!(complete.body["confirmStatus"], "CONFIRMED");
        let deny = app.post(&format!("/confirms/{confirm_id}/deny"), json!({})).await;
        assert_eq!(deny.status, StatusCode::CONFLICT);
        assert_eq!(app.event_types("Confirm", confirm_id).await, ["ConfirmRequested", "ConfirmCompleted"]);
    }

    async fn denying_a_confirm_answers_200(app: TestApp) {
        let confirm_id = app.request_confirm(Uuid::now_v7()).await;
        let deny = app.post(&format!("/confirms/{confirm_id}/deny"), json!({})).await;
        assert_eq!(deny.status, StatusCode::OK);
        assert_eq!(deny.body["confirmStatus"], "DENIED");
    }

    async fn a_decision_needs_a_known_confirm(app: TestApp) {
        let unknown = app.post(&format!("/confirms/{}/complete", Uuid::now_v7()), json!({})).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert_eq!(unknown.body["error"], "confirm_not_found");
    }

    async fn a_decision_is_recorded_under_the_deciding_managers_token(app: TestApp) {
        let bearer = format!("Bearer {}", app.token(Role::Manager, "manager-7"));
        let as_manager = [("authorization", bearer.as_str())];
        let confirm_id = app.request_confirm(Uuid::now_v7()).await;
        let posing = app.post_with(&format!("/confirms/{confirm_id}/complete"), json!({"managerId": "manager-8"}), &as_manager).await;
        assert_eq!(posing.status, StatusCode::FORBIDDEN, "{:?}", posing.body);
        assert_eq!(posing.body["error"], "forbidden");
        let decided = app.post_with(&format!("/confirms/{confirm_id}/complete"), serde_json::Value::Null, &as_manager).await;
        assert_eq!(decided.status, StatusCode::OK, "{:?}", decided.body);
        let events = app.stream("Confirm", confirm_id).await;
        assert_eq!(events[1]["payload"]["ConfirmCompleted"]["managerId"], "manager-7", "{events:?}");
    }

    async fn cancelling_a_delivery_answers_200_once_then_409(app: TestApp) {
        let order_id = app.place_order("c", 1, 10).await.id("orderId");
        let delivery_id = app.start_delivery(order_id).await;
        let path = format!("/deliveries/{delivery_id}/cancel");
        let first = app.post(&path, json!(null)).await;
        assert_eq!(first.status, StatusCode::OK);
        assert_eq!(first.body["deliveryStatus"], "CANCELLED");
        let second = app.post(&path, json!(null)).await;
        assert_eq!(second.status, StatusCode::CONFLICT);
        assert_eq!(second.body["error"], "delivery_already_cancelled");
        let unknown = app.post(&format!("/deliveries/{}/cancel", Uuid::now_v7()), json!(null)).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    }
}
