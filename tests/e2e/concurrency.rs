//! Guarantees across aggregates, kept under concurrent requests.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::on_both_stores;

on_both_stores! {
    async fn of_fifty_concurrent_overlapping_bookings_exactly_one_succeeds(app: TestApp) {
        let app = &app;
        let replies = join_all((0..50).map(|i| async move {
            // Every request overlaps every other: all contain 10:00–10:30.
            let start = format!("2026-12-01T{:02}:{:02}:00Z", 9 + i % 2, (i * 7) % 30);
            app.create_booking(42, &start, "2026-12-01T10:30:00Z").await
        }))
        .await;
        let created = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
        let conflicts = replies.iter().filter(|r| r.status == StatusCode::CONFLICT).count();
        assert_eq!((created, conflicts), (1, 49));
        assert_eq!(app.count_events().await, 1);
    }

    async fn of_twenty_concurrent_cancels_of_one_order_exactly_one_succeeds(app: TestApp) {
        let order_id = app.place_order("c", 1, 1).await.id("orderId");
        let path = format!("/orders/{order_id}/cancel");
        let replies = join_all((0..20).map(|_| app.post(&path, json!(null)))).await;
        let ok = replies.iter().filter(|r| r.status == StatusCode::OK).count();
        let conflicts = replies.iter().filter(|r| r.status == StatusCode::CONFLICT).count();
        assert_eq!((ok, conflicts), (1, 19));
        assert_eq!(app.event_types("Order", order_id).await, ["OrderPlaced", "OrderCancelled"]);
    }

    async fn a_cancel_that_loses_the_race_is_decided_again_on_the_new_state(app: TestApp) {
        let order_id = app.place_order("c", 1, 1).await.id("orderId");
        let path = format!("/orders/{order_id}/cancel");
        let replies = join_all((0..20).map(|_| app.post(&path, json!(null)))).await;
        let codes: Vec<&str> = replies
            .iter()
            .filter(|r| r.status != StatusCode::OK)
            .map(|r| r.body["error"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(codes, ["order_already_cancelled"; 19]);
    }

    async fn concurrent_orders_never_leave_an_order_without_its_payment(app: TestApp) {
        let replies = join_all((0..40).map(|i| {
            // Every other order is too expensive to pay.
            let price = if i % 2 == 0 { 100 } else { 20_000_000 };
            app.place_order("c", 1, price)
        }))
        .await;
        let placed: Vec<_> = replies.iter().filter(|r| r.status == StatusCode::CREATED).collect();
        let refused = replies.iter().filter(|r| r.status == StatusCode::PAYMENT_REQUIRED).count();
        assert_eq!((placed.len(), refused), (20, 20));
        assert_eq!(app.count_events().await, 40);
        for reply in placed {
            assert_eq!(app.event_types("Order", reply.id("orderId")).await, ["OrderPlaced"]);
            assert_eq!(app.event_types("Payment", reply.id("paymentId")).await, ["PaymentMade"]);
        }
    }
}
