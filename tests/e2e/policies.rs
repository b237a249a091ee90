//! The policies (SPEC §2) driven by the log: the shop's and the booking's flows end to
//! end, each command issued once, correlation carried along, refusals recorded.

use ::policies::booking::confirm_id;
use ::policies::shop::delivery_id;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{on_both_stores, TestApp};

/// Events of the same type recorded twice in one stream: a command issued twice.
const DUPLICATED: &str = "
    SELECT count(*) FROM (
        SELECT aggregate_type, aggregate_id, event_type FROM events WHERE $1 = $1
         GROUP BY aggregate_type, aggregate_id, event_type HAVING count(*) > 1) twice";

async fn order_row(app: &TestApp, order_id: Uuid) -> Value {
    let reply = app.get(&format!("/orderLists/{order_id}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body
}

async fn booking_row(app: &TestApp, booking_id: Uuid) -> Value {
    let reply = app.get(&format!("/bookingLists/{booking_id}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body
}

async fn create_booking_as(app: &TestApp, room: i64, hour: u32, correlation: &str) -> Uuid {
    let body = json!({
        "roomId": room,
        "useStartDtm": format!("2026-12-01T{hour:02}:00:00Z"),
        "useEndDtm": format!("2026-12-01T{:02}:00:00Z", hour + 1),
        "bookingUserId": "user-1"
    });
    let reply = app
        .post_with("/bookings", body, &[("X-Correlation-Id", correlation)])
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.id("bookingId")
}

fn metadata<'e>(event: &'e Value, field: &str) -> &'e str {
    event["metadata"][field].as_str().expect("metadata field")
}

on_both_stores! {
    async fn a_paid_order_starts_its_delivery(app: TestApp) {
        let order_id = app.place_order("c-1", 2, 1000).await.id("orderId");
        app.settle().await;
        let row = order_row(&app, order_id).await;
        assert_eq!(row["deliveryStatus"], "STARTED");
        assert_eq!(row["deliveryId"], delivery_id(order_id).to_string());
        assert_eq!(app.event_types("Delivery", delivery_id(order_id)).await, ["DeliveryStarted"]);
    }

    async fn a_customer_cancel_cancels_the_delivery_and_the_payment(app: TestApp) {
        let order_id = app.place_order("c-1", 1, 500).await.id("orderId");
        app.settle().await;
        let cancel = app.post(&format!("/orders/{order_id}/cancel"), json!(null)).await;
        assert_eq!(cancel.status, StatusCode::OK, "{:?}", cancel.body);
        app.settle().await;
        let row = order_row(&app, order_id).await;
        assert_eq!(row["orderStatus"], "CANCELLED");
        assert_eq!(row["cancelledBy"], "CUSTOMER");
        assert_eq!(row["deliveryStatus"], "CANCELLED");
        assert_eq!(row["paymentStatus"], "CANCELLED");
    }

    async fn a_delivery_cancelled_by_a_manager_cancels_the_order_and_the_payment(app: TestApp) {
        let order_id = app.place_order("c-1", 1, 500).await.id("orderId");
        app.settle().await;
        let cancel = app.post(&format!("/deliveries/{}/cancel", delivery_id(order_id)), json!(null)).await;
        assert_eq!(cancel.status, StatusCode::OK, "{:?}", cancel.body);
        app.settle().await;
        let row = order_row(&app, order_id).await;
        assert_eq!(row["orderStatus"], "CANCELLED");
        assert_eq!(row["cancelledBy"], "DELIVERY");
        assert_eq!(row["deliveryStatus"], "CANCELLED");
        assert_eq!(row["paymentStatus"], "CANCELLED");
        assert_eq!(app.event_types("Order", order_id).await, ["OrderPlaced", "OrderCancelled"]);
    }

    async fn an_order_cancelled_before_its_payment_is_seen_starts_no_delivery(app: TestApp) {
        let order_id = app.place_order("c-1", 1, 500).await.id("orderId");
        let cancel = app.post(&format!("/orders/{order_id}/cancel"), json!(null)).await;
        assert_eq!(cancel.status, StatusCode::OK);
        app.settle().await;
        assert!(app.event_types("Delivery", delivery_id(order_id)).await.is_empty());
        let row = order_row(&app, order_id).await;
        assert_eq!(row["paymentStatus"], "CANCELLED");
        assert!(row["deliveryStatus"].is_null());
    }

    async fn no_command_is_issued_twice_when_the_worker_is_killed_and_restarted_ten_times(app: TestApp) {
        let mut orders = Vec::new();
        for n in 0..200 {
            orders.push(app.place_order(&format!("c-{n}"), 1, 100).await.id("orderId"));
        }
        for order_id in orders.iter().step_by(2) {
            let cancel = app.post(&format!("/orders/{order_id}/cancel"), json!(null)).await;
            assert_eq!(cancel.status, StatusCode::OK);
        }
        // The policies append 200 events in all (100 deliveries, 100 payment cancels);
        // each worker is killed as soon as it is seen to have appended 2 or 3 of them
        // (reactions to different orders run side by side, so a few more land).
        let before = app.count_events().await;
        for life in 0..10 {
            let (_running, running) = tokio::sync::watch::channel(false);
            let worker = tokio::spawn(app.policies().await.run(running));
            let born = app.count_events().await;
            let goal = born + 2 + life % 2;
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while app.count_events().await < goal {
                assert!(std::time::Instant::now() < deadline, "life {life} made no progress");
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
            worker.abort();
            let _ = worker.await;
        }
        assert!(app.count_events().await < before + 200, "killed before the work was done");
        app.settle().await;
        assert_eq!(app.count_events().await, before + 200);
        assert_eq!(app.scalar(DUPLICATED, "").await, 0, "an event type recorded twice in a stream");
        for (n, order_id) in orders.iter().enumerate() {
            let row = order_row(&app, *order_id).await;
            let cancelled = n % 2 == 0;
            assert_eq!(row["paymentStatus"], if cancelled { "CANCELLED" } else { "PAID" });
            if !cancelled {
                assert_eq!(row["deliveryStatus"], "STARTED");
            } else {
                assert_ne!(row["deliveryStatus"], "STARTED");
            }
        }
    }

    async fn a_booking_asks_for_a_confirm_and_completing_it_notifies_the_user(app: TestApp) {
        let booking_id = create_booking_as(&app, 556677, 9, "flow-create").await;
        app.settle().await;
        let row = booking_row(&app, booking_id).await;
        assert_eq!(row["confirmStatus"], "BOOKED");
        let confirm_id = confirm_id(booking_id);
        assert_eq!(row["confirmId"], confirm_id.to_string());

        let complete = app
            .post_with(&format!("/confirms/{confirm_id}/complete"), json!({}), &[("X-Correlation-Id", "flow-complete")])
            .await;
        assert_eq!(complete.status, StatusCode::OK, "{:?}", complete.body);
        app.settle().await;
        assert_eq!(booking_row(&app, booking_id).await["confirmStatus"], "CONFIRMED");

        let notifications = app.get("/notifications?userId=user-1").await.body["items"].clone();
        let said: Vec<(&str, &str)> = notifications.as_array().unwrap().iter()
            .map(|n| (n["contents"].as_str().unwrap(), n["correlationId"].as_str().unwrap()))
            .collect();
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(said.contains(&("conference room[556677] reservation is requested", "flow-create")), "{said:?}");
        assert!(said.contains(&("conference room[556677] reservation is complete", "flow-complete")), "{said:?}");

        let created = &app.stream("Booking", booking_id).await[0];
        let requested = &app.stream("Confirm", confirm_id).await[0];
        assert_eq!(metadata(requested, "correlationId"), "flow-create");
        assert_eq!(metadata(requested, "causationId"), metadata(created, "eventId"));
        assert_eq!(metadata(requested, "actor"), "policy:booking");
    }

    async fn a_denied_confirm_cancels_the_booking_deletes_the_confirm_and_says_so(app: TestApp) {
        let booking_id = create_booking_as(&app, 42, 10, "flow-create").await;
        app.settle().await;
        let confirm_id = confirm_id(booking_id);
        let deny = app
            .post_with(&format!("/confirms/{confirm_id}/deny"), json!({}), &[("X-Correlation-Id", "flow-deny")])
            .await;
        assert_eq!(deny.status, StatusCode::OK, "{:?}", deny.body);
        app.settle().await;

        let row = booking_row(&app, booking_id).await;
        assert_eq!(row["bookingStatus"], "CANCELLED");
        assert_eq!(row["confirmStatus"], "DELETED");
        assert_eq!(app.event_types("Confirm", confirm_id).await, ["ConfirmRequested", "ConfirmDenied", "ConfirmDeleted"]);
        let cancelled = &app.stream("Booking", booking_id).await[1];
        assert_eq!(cancelled["payload"]["BookingCancelled"]["reason"], "DENIED");

        // Every event the denial caused carries the denial's correlation id.
        let chain = app.scalar(
            "SELECT count(*) FROM events WHERE metadata->>'correlationId' = $1", "flow-deny").await;
        assert_eq!(chain, 5, "ConfirmDenied, BookingCancelled, ConfirmDeleted and two notifications");
        let notifications = app.get("/notifications?userId=user-1").await.body["items"].clone();
        let contents: Vec<&str> = notifications.as_array().unwrap().iter()
            .map(|n| n["contents"].as_str().unwrap()).collect();
        assert_eq!(contents.len(), 3, "{contents:?}");
        assert!(contents.contains(&"conference room[42] reservation has been denied"));
        assert!(contents.contains(&"conference room[42] reservation has been canceled"));
    }

    async fn a_command_the_domain_refuses_is_recorded_and_skipped(app: TestApp) {
        // A denial of a confirm whose booking does not exist: cancelling it is refused.
        let confirm_id = Uuid::now_v7();
        let payload = json!({"ConfirmDenied": {
            "bookingId": Uuid::now_v7(), "managerId": "boss", "confirmDtm": "2026-12-01T09:00:00Z"
        }});
        app.append_raw_event("Confirm", confirm_id, "ConfirmDenied", payload, json!({})).await;
        let order_id = app.place_order("c-1", 1, 10).await.id("orderId");
        app.settle().await;
        let refused = app.scalar(
            "SELECT count(*) FROM policy_rejections WHERE code = $1", "booking_not_found").await;
        assert_eq!(refused, 1);
        // The policies went on past it.
        assert_eq!(order_row(&app, order_id).await["deliveryStatus"], "STARTED");
        app.settle().await;
        let refused = app.scalar(
            "SELECT count(*) FROM policy_rejections WHERE policy = $1", "booking").await;
        assert_eq!(refused, 1, "recorded once, not retried");
    }

    async fn a_poison_event_stops_only_its_policy(app: TestApp) {
        app.append_raw_event("Booking", Uuid::now_v7(), "BookingCreated", json!({"garbage": true}), json!({})).await;
        let order_id = app.place_order("c-1", 1, 10).await.id("orderId");
        let policies = app.policies().await;
        assert!(policies.catch_up("booking").await.is_err());
        policies.catch_up("shop").await.expect("shop goes on");
        // (Views that read bookings stop at the same event; orderList does not.)
        let order_list = &projections::shop::ORDER_LIST;
        app.projector().await.catch_up(order_list).await.expect("orderList");
        assert_eq!(order_row(&app, order_id).await["deliveryStatus"], "STARTED");
        let statuses = app.get("/admin/projections").await.body["items"].clone();
        let booking = statuses.as_array().unwrap().iter()
            .find(|s| s["name"] == "booking").expect("the booking policy is listed").clone();
        assert_eq!(booking["kind"], "policy");
        assert_eq!(booking["state"], "failed");
        assert!(booking["lastError"].as_str().unwrap().contains("undecodable"));
    }
}
