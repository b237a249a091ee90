//! A manager's decision on a confirm, and staff cancelling a delivery.

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::support::on_both_stores;

on_both_stores! {
    async fn completing_a_confirm_answers_200_and_a_second_decision_409(app: TestApp) {
        let booking_id = app.create_booking(7, "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z").await.id("bookingId");
        let confirm_id = app.request_confirm(booking_id).await;
        let complete = app.post(&format!("/confirms/{confirm_id}/complete"), json!({"managerId": "boss"})).await;
        assert_eq!(complete.status, StatusCode::OK, "{:?}", complete.body);
        assert_eq!(complete.body["confirmStatus"], "CONFIRMED");
        let deny = app.post(&format!("/confirms/{confirm_id}/deny"), json!({"managerId": "boss"})).await;
        assert_eq!(deny.status, StatusCode::CONFLICT);
        assert_eq!(app.event_types("Confirm", confirm_id).await, ["ConfirmRequested", "ConfirmCompleted"]);
    }

    async fn denying_a_confirm_answers_200(app: TestApp) {
        let confirm_id = app.request_confirm(Uuid::now_v7()).await;
        let deny = app.post(&format!("/confirms/{confirm_id}/deny"), json!({"managerId": "boss"})).await;
        assert_eq!(deny.status, StatusCode::OK);
        assert_eq!(deny.body["confirmStatus"], "DENIED");
    }

    async fn a_decision_needs_a_known_confirm_and_a_manager(app: TestApp) {
        let unknown = app.post(&format!("/confirms/{}/complete", Uuid::now_v7()), json!({"managerId": "m"})).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert_eq!(unknown.body["error"], "confirm_not_found");
        let confirm_id = app.request_confirm(Uuid::now_v7()).await;
        let anonymous = app.post(&format!("/confirms/{confirm_id}/complete"), json!({})).await;
        assert_eq!(anonymous.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(anonymous.body["field"], "managerId");
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
