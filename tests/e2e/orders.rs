//! `POST /orders` and `POST /orders/{id}/cancel`: an order is never accepted unpaid.

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::support::on_both_stores;

on_both_stores! {
    async fn placing_an_order_answers_201_with_location_ids_and_position(app: TestApp) {
        let reply = app.place_order("customer-1", 2, 1000).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        let order_id = reply.id("orderId");
        reply.id("paymentId");
        assert_eq!(reply.body["orderStatus"], "PLACED");
        assert!(reply.position() > 0);
        assert_eq!(reply.header("location"), Some(format!("/orderLists/{order_id}").as_str()));
    }

    async fn an_order_and_its_payment_are_stored_together_with_correlation_metadata(app: TestApp) {
        let body = json!({"customerId": "c-7", "product": "컴퓨터", "qty": 3, "price": 500, "payMethod": "BANK"});
        let reply = app.post_with("/orders", body, &[("X-Correlation-Id", "flow-42")]).await;
        assert_eq!(reply.status, StatusCode::CREATED);
        assert_eq!(reply.header("x-correlation-id"), Some("flow-42"));
        let (order_id, payment_id) = (reply.id("orderId"), reply.id("paymentId"));

        let order = app.get(&format!("/admin/streams/Order/{order_id}")).await;
        let payment = app.get(&format!("/admin/streams/Payment/{payment_id}")).await;
        let placed = &order.body["items"][0];
        let paid = &payment.body["items"][0];
        assert_eq!(placed["eventType"], "OrderPlaced");
        assert_eq!(placed["payload"]["OrderPlaced"]["product"], "컴퓨터");
        assert_eq!(paid["eventType"], "PaymentMade");
        assert_eq!(paid["payload"]["PaymentMade"]["amount"], 1500);
        assert_eq!(paid["payload"]["PaymentMade"]["orderId"], order_id.to_string());
        for event in [placed, paid] {
            assert_eq!(event["metadata"]["correlationId"], "flow-42");
            assert!(event["metadata"]["causationId"].is_string());
            assert!(event["metadata"]["eventId"].is_string());
            assert_eq!(event["metadata"]["actor"], "admin:admin", "the token that sent it");
        }
        assert_eq!(placed["metadata"]["causationId"], paid["metadata"]["causationId"]);
        assert_eq!(paid["globalPosition"].as_i64(), Some(reply.position()));
    }

    async fn a_refused_payment_answers_402_and_stores_nothing(app: TestApp) {
        app.place_order("before", 1, 1).await;
        let before = app.count_events().await;
        let reply = app.place_order("big-spender", 10, 1_000_001).await;
        assert_eq!(reply.status, StatusCode::PAYMENT_REQUIRED);
        assert_eq!(reply.body["error"], "payment_refused");
        assert_eq!(app.count_events().await, before);
    }

    async fn a_payment_of_exactly_the_limit_is_accepted(app: TestApp) {
        let reply = app.place_order("limit", 10, 1_000_000).await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }

    async fn invalid_order_fields_answer_422_naming_the_field(app: TestApp) {
        let valid = json!({"customerId": "c", "product": "p", "qty": 1, "price": 1, "payMethod": "CARD"});
        let cases = [
            ("qty", json!(0)), ("qty", json!(1001)), ("qty", json!("3")), ("qty", json!(1.5)),
            ("price", json!(0)), ("price", json!(1_000_000_001_i64)), ("customerId", json!("")),
            ("customerId", json!("x".repeat(65))), ("product", json!("컴".repeat(201))),
            ("payMethod", json!("CASH")), ("product", json!(null)),
        ];
        for (field, value) in cases {
            let mut body = valid.clone();
            body[field] = value.clone();
            let reply = app.post("/orders", body).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value}");
            assert_eq!(reply.body["field"], field, "{field}={value}: {:?}", reply.body);
            assert!(reply.body["message"].as_str().unwrap().contains(field));
        }
        let mut missing = valid.clone();
        missing.as_object_mut().unwrap().remove("price");
        let reply = app.post("/orders", missing).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(reply.body["field"], "price");
        assert_eq!(app.count_events().await, 0);
    }

    async fn cancelling_an_order_answers_200_once_then_409(app: TestApp) {
        let order_id = app.place_order("c-1", 1, 100).await.id("orderId");
        let path = format!("/orders/{order_id}/cancel");
        let first = app.post(&path, json!(null)).await;
        assert_eq!(first.status, StatusCode::OK);
        assert_eq!(first.body["orderStatus"], "CANCELLED");
        let second = app.post(&path, json!(null)).await;
        assert_eq!(second.status, StatusCode::CONFLICT);
        assert_eq!(second.body["error"], "order_already_cancelled");
        assert_eq!(app.event_types("Order", order_id).await, ["OrderPlaced", "OrderCancelled"]);
    }

    async fn cancelling_an_unknown_order_answers_404_and_a_malformed_id_422(app: TestApp) {
        let unknown = app.post(&format!("/orders/{}/cancel", Uuid::now_v7()), json!(null)).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert_eq!(unknown.body["error"], "order_not_found");
        let malformed = app.post("/orders/not-a-uuid/cancel", json!(null)).await;
        assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(malformed.body["field"], "id");
    }

    async fn positions_grow_with_every_command(app: TestApp) {
        let first = app.place_order("c", 1, 1).await.position();
        let second = app.place_order("c", 1, 1).await.position();
        assert!(second > first);
    }
}
