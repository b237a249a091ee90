//! `POST /bookings` and `POST /bookings/{id}/cancel`: no overlapping active bookings.

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::support::on_both_stores;

const NINE: &str = "2026-12-01T09:00:00Z";
const TEN: &str = "2026-12-01T10:00:00Z";
const ELEVEN: &str = "2026-12-01T11:00:00Z";

on_both_stores! {
    async fn a_booking_outside_1970_to_9999_is_refused_alike_on_both_stores(app: TestApp) {
        for (start, end, field) in [
            ("-5000-01-01T00:00:00Z", "-5000-01-01T01:00:00Z", "useStartDtm"),
            ("9999-12-31T23:30:00Z", "+10000-01-01T00:30:00Z", "useEndDtm"),
        ] {
            let reply = app.create_booking(1, start, end).await;
            assert_eq!((reply.status, reply.body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{:?}", reply.body);
        }
        assert_eq!(app.count_events().await, 0);
    }

    async fn creating_a_booking_answers_201_with_location(app: TestApp) {
        let reply = app.create_booking(556677, NINE, TEN).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        let booking_id = reply.id("bookingId");
        assert_eq!(reply.header("location"), Some(format!("/bookingLists/{booking_id}").as_str()));
        assert_eq!(app.event_types("Booking", booking_id).await, ["BookingCreated"]);
    }

    async fn an_overlapping_booking_of_the_same_room_answers_409(app: TestApp) {
        assert_eq!(app.create_booking(1, NINE, ELEVEN).await.status, StatusCode::CREATED);
        let overlapping = app.create_booking(1, TEN, "2026-12-01T12:00:00Z").await;
        assert_eq!(overlapping.status, StatusCode::CONFLICT);
        assert_eq!(overlapping.body["error"], "room_unavailable");
        let other_room = app.create_booking(2, TEN, ELEVEN).await;
        assert_eq!(other_room.status, StatusCode::CREATED);
    }

    async fn back_to_back_bookings_do_not_overlap(app: TestApp) {
        assert_eq!(app.create_booking(1, NINE, TEN).await.status, StatusCode::CREATED);
        assert_eq!(app.create_booking(1, TEN, ELEVEN).await.status, StatusCode::CREATED);
    }

    async fn a_cancelled_booking_frees_its_room(app: TestApp) {
        let booking_id = app.create_booking(1, NINE, TEN).await.id("bookingId");
        let cancel = app.post(&format!("/bookings/{booking_id}/cancel"), json!({"reason": "plans changed"})).await;
        assert_eq!(cancel.status, StatusCode::OK);
        assert_eq!(cancel.body["bookingStatus"], "CANCELLED");
        assert_eq!(app.create_booking(1, NINE, TEN).await.status, StatusCode::CREATED);
    }

    async fn cancelling_a_booking_twice_answers_409_and_an_unknown_one_404(app: TestApp) {
        let booking_id = app.create_booking(1, NINE, TEN).await.id("bookingId");
        let path = format!("/bookings/{booking_id}/cancel");
        assert_eq!(app.post(&path, json!(null)).await.status, StatusCode::OK);
        let again = app.post(&path, json!(null)).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.body["error"], "booking_already_cancelled");
        let unknown = app.post(&format!("/bookings/{}/cancel", Uuid::now_v7()), json!(null)).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    }

    async fn invalid_bookings_answer_422_naming_the_field(app: TestApp) {
        let cases = [
            (json!({"roomId": 1, "useStartDtm": TEN, "useEndDtm": TEN, "bookingUserId": "u"}), "useEndDtm"),
            (json!({"roomId": 1, "useStartDtm": TEN, "useEndDtm": NINE, "bookingUserId": "u"}), "useEndDtm"),
            (json!({"roomId": 1, "useStartDtm": NINE, "useEndDtm": "2026-12-02T09:00:01Z", "bookingUserId": "u"}), "useEndDtm"),
            (json!({"roomId": 0, "useStartDtm": NINE, "useEndDtm": TEN, "bookingUserId": "u"}), "roomId"),
            (json!({"roomId": 1, "useStartDtm": "tomorrow", "useEndDtm": TEN, "bookingUserId": "u"}), "useStartDtm"),
            (json!({"roomId": 1, "useStartDtm": NINE, "useEndDtm": TEN}), "bookingUserId"),
        ];
        for (body, field) in cases {
            let reply = app.post("/bookings", body.clone()).await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(reply.body["field"], field, "{body}: {:?}", reply.body);
        }
        let whole_day = json!({"roomId": 1, "useStartDtm": NINE, "useEndDtm": "2026-12-02T09:00:00Z", "bookingUserId": "u"});
        assert_eq!(app.post("/bookings", whole_day).await.status, StatusCode::CREATED);
    }
}
