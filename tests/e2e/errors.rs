//! Bad input gets a clear JSON error with a stable code, never a 500.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{on_both_stores, TestApp};

async fn send(app: &TestApp, path: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let response = app
        .client
        .post(format!("{}{path}", app.address))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("sent");
    let status = response.status();
    (status, response.json().await.expect("a JSON error body"))
}

on_both_stores! {
    async fn a_user_id_with_a_line_break_is_refused_so_it_cannot_forge_log_lines(app: TestApp) {
        let forged = "kim\r\n2026-11-30T00:00:00Z  INFO forged";
        let order = serde_json::json!({"customerId": forged, "product": "pen", "qty": 1, "price": 1, "payMethod": "CARD"});
        let booking = serde_json::json!({"roomId": 1, "useStartDtm": "2026-12-01T09:00:00Z",
            "useEndDtm": "2026-12-01T10:00:00Z", "bookingUserId": forged});
        let member = serde_json::json!({"memberId": forged, "name": "n"});
        for (path, body, field) in [("/orders", order, "customerId"), ("/bookings", booking, "bookingUserId"), ("/members", member, "memberId")] {
            let reply = app.post(path, body).await;
            assert_eq!((reply.status, reply.body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{path}");
        }
        let read = app.get("/mypages/kim%0D%0Aforged").await;
        assert_eq!((read.status, read.body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("userId")));
        assert_eq!(app.count_events().await, 0);
    }

    async fn malformed_json_answers_400(app: TestApp) {
        let (status, body) = send(&app, "/orders", "application/json", b"{\"qty\": ".to_vec()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "malformed_json");
    }

    async fn a_body_that_is_not_an_object_answers_422(app: TestApp) {
        let (status, body) = send(&app, "/orders", "application/json", b"[1, 2]".to_vec()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"], "invalid_field");
    }

    async fn a_wrong_content_type_answers_415(app: TestApp) {
        let (status, body) = send(&app, "/orders", "text/plain", b"{}".to_vec()).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(body["error"], "unsupported_media_type");
    }

    async fn a_body_over_64_kib_answers_413(app: TestApp) {
        let product = "x".repeat(70 * 1024);
        let body = format!(r#"{{"customerId":"c","product":"{product}","qty":1,"price":1,"payMethod":"CARD"}}"#);
        let (status, body) = send(&app, "/orders", "application/json", body.into_bytes()).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["error"], "payload_too_large");
    }

    async fn unknown_routes_and_methods_answer_json(app: TestApp) {
        let missing = app.get("/nowhere").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(missing.body["error"], "route_not_found");
        let wrong_method = app.get("/orders").await;
        assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(wrong_method.body["error"], "method_not_allowed");
    }

    async fn an_invalid_correlation_id_answers_400(app: TestApp) {
        let long = "c".repeat(300);
        let reply = app.post_with("/orders", serde_json::json!({}), &[("X-Correlation-Id", long.as_str())]).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.body["error"], "invalid_header");
    }

    async fn a_whole_number_written_with_a_fraction_is_the_integer_as_the_document_says(app: TestApp) {
        let body = br#"{"customerId":"c","product":"pen","qty":2.0,"price":1e3,"payMethod":"CARD"}"#;
        let (status, placed) = send(&app, "/orders", "application/json", body.to_vec()).await;
        assert_eq!(status, StatusCode::CREATED, "{placed}");
        let stream = app.stream("Order", placed["orderId"].as_str().unwrap().parse().unwrap()).await;
        let placed = &stream[0]["payload"]["OrderPlaced"];
        assert_eq!((placed["qty"].as_i64(), placed["price"].as_i64()), (Some(2), Some(1000)));
        let fraction = br#"{"customerId":"c","product":"pen","qty":2.5,"price":1,"payMethod":"CARD"}"#;
        let (status, refused) = send(&app, "/orders", "application/json", fraction.to_vec()).await;
        assert_eq!((status, refused["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("qty")));
    }

    async fn a_null_optional_body_is_no_body(app: TestApp) {
        let booking_id = app
            .create_booking(5, "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z")
            .await
            .id("bookingId");
        let path = format!("/bookings/{booking_id}/cancel");
        let (status, cancelled) = send(&app, &path, "application/json", b"null".to_vec()).await;
        assert_eq!(status, StatusCode::OK, "{cancelled}");
        let events = app.stream("Booking", booking_id).await;
        assert_eq!(events.last().unwrap()["payload"]["BookingCancelled"]["reason"], "CANCELLED_BY_USER");
    }
}
