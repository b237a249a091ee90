//! The whole chain across processes: `strata command-api`, `strata read-api` and two
//! `strata projector` workers over one PostgreSQL database.

use reqwest::StatusCode;
use serde_json::json;

use crate::processes::{admin_client, eventually, free_port, post_json, start, Processes};
use crate::support::{Store, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_chain_runs_across_command_api_read_api_and_two_projectors() {
    let app = TestApp::spawn(Store::Postgres).await;
    let url = app.database_url().expect("a PostgreSQL database");
    let (commands, reads) = (free_port().await, free_port().await);
    let (worker_a, worker_b) = (free_port().await, free_port().await);
    let _processes = Processes(vec![
        start(&url, "command-api", commands),
        start(&url, "read-api", reads),
        start(&url, "projector", worker_a),
        start(&url, "projector", worker_b),
    ]);
    let client = admin_client();
    for port in [commands, reads, worker_a, worker_b] {
        eventually(
            &client,
            &format!("http://127.0.0.1:{port}/health/ready"),
            |s, _| s == StatusCode::OK,
        )
        .await;
    }
    let command_api = format!("http://127.0.0.1:{commands}");
    let read_api = format!("http://127.0.0.1:{reads}");

    let booking = json!({"roomId": 556677, "useStartDtm": "2026-12-01T09:00:00Z",
                         "useEndDtm": "2026-12-01T10:00:00Z", "bookingUserId": "user-9"});
    let created = post_json(&client, &format!("{command_api}/bookings"), &booking).await;
    let booking_id = created["bookingId"].as_str().unwrap().to_string();
    let row = eventually(
        &client,
        &format!("{read_api}/bookingLists/{booking_id}"),
        |s, body| s == StatusCode::OK && body["confirmStatus"] == "BOOKED",
    )
    .await;
    let confirm_id = row["confirmId"].as_str().unwrap();
    let completed = client
        .post(format!("{command_api}/confirms/{confirm_id}/complete"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(completed.status(), StatusCode::OK);
    eventually(
        &client,
        &format!("{read_api}/notifications?userId=user-9"),
        |_, body| {
            body["items"]
                .as_array()
                .is_some_and(|items| items.len() == 2)
        },
    )
    .await;
    eventually(
        &client,
        &format!("{read_api}/bookingLists/{booking_id}"),
        |_, body| body["confirmStatus"] == "CONFIRMED",
    )
    .await;

    let order = json!({"customerId": "c-9", "product": "컴퓨터", "qty": 1, "price": 1000, "payMethod": "CARD"});
    let placed = post_json(&client, &format!("{command_api}/orders"), &order).await;
    let order_id = placed["orderId"].as_str().unwrap();
    eventually(
        &client,
        &format!("{read_api}/orderLists/{order_id}"),
        |s, body| s == StatusCode::OK && body["deliveryStatus"] == "STARTED",
    )
    .await;
    let cancelled = client
        .post(format!("{command_api}/orders/{order_id}/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::OK);
    eventually(
        &client,
        &format!("{read_api}/orderLists/{order_id}"),
        |_, body| body["deliveryStatus"] == "CANCELLED" && body["paymentStatus"] == "CANCELLED",
    )
    .await;

    // The bookstore: a member's order ships and earns mileage, through the projectors'
    // policies, and shows in the read API.
    let joined = client
        .post(format!("{command_api}/members"))
        .json(&json!({"memberId": "m-9", "name": "M"}))
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), StatusCode::CREATED);
    let book = json!({"title": "데미안", "author": "Hesse", "price": 20_000, "stock": 3});
    let registered = post_json(&client, &format!("{command_api}/books"), &book).await;
    let book_id = registered["bookId"].as_str().unwrap();
    let book_order = json!({"memberId": "m-9", "bookId": book_id, "qty": 3});
    let ordered = post_json(&client, &format!("{command_api}/bookOrders"), &book_order).await;
    let book_order_id = ordered["orderId"].as_str().unwrap();
    eventually(
        &client,
        &format!("{read_api}/bookOrders/{book_order_id}"),
        |s, body| s == StatusCode::OK && body["shipmentStatus"] == "STARTED",
    )
    .await;
    eventually(&client, &format!("{read_api}/members/m-9"), |_, body| {
        body["grade"] == "SILVER" && body["mileage"] == 3_000
    })
    .await;
    eventually(
        &client,
        &format!("{read_api}/books/{book_id}"),
        |_, body| body["stock"] == 0,
    )
    .await;

    // The hotel and car sharing: a stay cancelled and refunded, a car order confirmed,
    // by the projectors' policies, shown by the read API.
    let first_night = chrono::Utc::now().date_naive() + chrono::Days::new(7);
    let room = json!({"name": "Ocean", "price": 50_000, "hostId": "h-9"});
    let room = post_json(&client, &format!("{command_api}/hotelRooms"), &room).await;
    let stay = json!({"roomId": room["roomId"], "guestId": "g-9", "startDate": first_night,
                      "endDate": first_night + chrono::Days::new(2), "payMethod": "CARD"});
    let stay = post_json(&client, &format!("{command_api}/hotelBookings"), &stay).await;
    let stay_id = stay["bookingId"].as_str().unwrap();
    let cancel = client
        .post(format!("{command_api}/hotelBookings/{stay_id}/cancel"))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), StatusCode::OK);
    eventually(
        &client,
        &format!("{read_api}/hotelBookings/{stay_id}"),
        |s, body| s == StatusCode::OK && body["paymentStatus"] == "CANCELLED",
    )
    .await;
    eventually(
        &client,
        &format!("{read_api}/notifications?userId=g-9"),
        |_, body| {
            body["items"]
                .as_array()
                .is_some_and(|items| items.len() == 3)
        },
    )
    .await;
    let car = json!({"name": "Kona", "pricePerHour": 10_000});
    let car = post_json(&client, &format!("{command_api}/cars"), &car).await;
    let start = chrono::Utc::now() + chrono::TimeDelta::days(3);
    let car_order = json!({"carId": car["carId"], "userId": "u-9", "startDtm": start,
                           "endDtm": start + chrono::TimeDelta::hours(2), "payMethod": "BANK"});
    let car_order = post_json(&client, &format!("{command_api}/carOrders"), &car_order).await;
    let car_order_id = car_order["orderId"].as_str().unwrap();
    eventually(
        &client,
        &format!("{read_api}/carOrders/{car_order_id}"),
        |s, body| s == StatusCode::OK && body["progress"] == "RESERVED",
    )
    .await;

    let twice = app
        .scalar(
            "SELECT count(*) FROM (SELECT 1 FROM events WHERE $1 = $1
        GROUP BY aggregate_type, aggregate_id, event_type HAVING count(*) > 1) twice",
            "",
        )
        .await;
    assert_eq!(twice, 0, "a command issued twice");
}
