//! Car sharing (SPEC §2 "Car-sharing context"): a car's interval paid in the same commit
//! and claimed on the shared time-slot guard; the reservation confirmed by policy; a
//! cancel cancels the reservation, which cancels the payment.

use std::sync::Arc;

use auth::Role;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use futures::future::join_all;
use policies::NotificationSink;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{on_both_stores, Reply, TestApp};

/// The hour `hours` hours from the next whole hour (UTC).
fn at(hours: i64) -> DateTime<Utc> {
    let next_hour = Utc::now()
        .duration_trunc(TimeDelta::hours(1))
        .expect("an hour")
        + TimeDelta::hours(1);
    next_hour + TimeDelta::hours(hours)
}

/// A car at `price` an hour, registered by a manager.
async fn register_car(app: &TestApp, price: i64) -> Uuid {
    let reply = app
        .as_user(Role::Manager, "lee")
        .post("/cars", json!({"name": "Ioniq 5", "pricePerHour": price}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.id("carId")
}

/// `user` orders `car` for [start, end), as the user.
async fn order(
    app: &TestApp,
    user: &str,
    car: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Reply {
    let body = json!({"carId": car, "userId": user, "startDtm": start, "endDtm": end, "payMethod": "POINT"});
    app.as_user(Role::Customer, user)
        .post("/carOrders", body)
        .await
}

/// The active claims on `car`'s time in the guard's table.
async fn claims(app: &TestApp, car: Uuid) -> i64 {
    app.scalar(
        "SELECT count(*) FROM car_slots WHERE CAST(resource_id AS TEXT) = $1",
        &car.to_string(),
    )
    .await
}

/// The reservation the policy keeps for an order (`reservationId` in its row).
async fn reservation_of(app: &TestApp, order_id: Uuid) -> Uuid {
    let row = app.get(&format!("/carOrders/{order_id}")).await;
    row.body["reservationId"]
        .as_str()
        .expect("a reservation")
        .parse()
        .expect("a UUID")
}

on_both_stores! {
    async fn an_order_is_paid_in_its_commit_and_its_reservation_confirmed_by_policy(app: TestApp) {
        let car = register_car(&app, 12_000).await;
        let ordered = order(&app, "kim", car, at(2), at(2) + TimeDelta::minutes(90)).await;
        assert_eq!(ordered.status, StatusCode::CREATED, "{:?}", ordered.body);
        assert_eq!(ordered.body["amount"], 24_000, "90 minutes are paid as two hours");
        let (order_id, payment) = (ordered.id("orderId"), ordered.id("paymentId"));
        assert_eq!(ordered.header("location"), Some(format!("/carOrders/{order_id}").as_str()));
        assert_eq!(app.event_types("CarOrder", order_id).await, ["CarOrdered"]);
        assert_eq!(app.event_types("CarPayment", payment).await, ["PayApproved"]);
        assert_eq!(claims(&app, car).await, 1);
        app.settle().await;
        let kim = app.as_user(Role::Customer, "kim");
        let row = kim.get(&format!("/carOrders/{order_id}")).await;
        assert_eq!((row.body["progress"].as_str(), row.body["reservationStatus"].as_str(), row.body["paymentStatus"].as_str(), row.body["hours"].as_i64()),
                   (Some("RESERVED"), Some("CONFIRMED"), Some("APPROVED"), Some(2)), "{:?}", row.body);
        let page = kim.get("/mypages/kim").await;
        assert_eq!(page.body["carOrders"][0]["orderId"], order_id.to_string(), "{:?}", page.body);
        let other = app.as_user(Role::Customer, "lee").get(&format!("/carOrders/{order_id}")).await;
        assert_eq!((other.status, other.body["error"].as_str()), (StatusCode::NOT_FOUND, Some("car_order_not_found")));
        app.assert_views_equal_a_rebuild().await;
    }

    async fn of_twenty_concurrent_overlapping_orders_of_one_car_exactly_one_is_placed(app: TestApp) {
        let car = register_car(&app, 1_000).await;
        let app = &app;
        let replies = join_all((0..20i64).map(|i| async move {
            // Every order holds 10:00–11:00 of the day after tomorrow.
            let start = at(48) - TimeDelta::minutes(i % 4 * 10);
            order(app, &format!("user-{i}"), car, start, at(49) + TimeDelta::minutes(i % 3 * 10)).await
        }))
        .await;
        let placed = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
        let taken: Vec<_> = replies.iter().filter(|r| r.status == StatusCode::CONFLICT)
            .map(|r| r.body["error"].as_str().unwrap_or_default()).collect();
        assert_eq!((placed, taken), (1, vec!["car_unavailable"; 19]));
        assert_eq!(claims(app, car).await, 1);
        assert_eq!(app.count_events().await, 1 + 2, "the car and one order with its payment");
    }

    async fn back_to_back_orders_both_succeed(app: TestApp) {
        let car = register_car(&app, 1_000).await;
        assert_eq!(order(&app, "kim", car, at(10), at(12)).await.status, StatusCode::CREATED);
        assert_eq!(order(&app, "lee", car, at(12), at(14)).await.status, StatusCode::CREATED);
        let between = order(&app, "park", car, at(11), at(13)).await;
        assert_eq!((between.status, between.body["error"].as_str()), (StatusCode::CONFLICT, Some("car_unavailable")));
    }

    async fn a_refused_payment_stores_and_claims_nothing(app: TestApp) {
        let car = register_car(&app, 1_000_000).await;
        let before = app.count_events().await;
        let refused = order(&app, "kim", car, at(1), at(12)).await;
        assert_eq!((refused.status, refused.body["error"].as_str()), (StatusCode::PAYMENT_REQUIRED, Some("payment_refused")));
        assert_eq!(app.count_events().await, before);
        assert_eq!(claims(&app, car).await, 0);
        assert_eq!(order(&app, "kim", car, at(1), at(11)).await.status, StatusCode::CREATED, "ten hours are payable and free");
    }

    async fn a_cancel_cancels_the_reservation_and_then_the_payment(app: TestApp) {
        let car = register_car(&app, 5_000).await;
        let ordered = order(&app, "kim", car, at(5), at(7)).await;
        let (order_id, payment) = (ordered.id("orderId"), ordered.id("paymentId"));
        app.settle().await;
        let cancel = format!("/carOrders/{order_id}/cancel");
        let by_another = app.as_user(Role::Customer, "lee").post(&cancel, Value::Null).await;
        assert_eq!(by_another.status, StatusCode::NOT_FOUND);
        let cancelled = app.as_user(Role::Customer, "kim").post(&cancel, Value::Null).await;
        assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.body);
        assert_eq!(claims(&app, car).await, 0);
        let twice = app.as_user(Role::Customer, "kim").post(&cancel, Value::Null).await;
        assert_eq!((twice.status, twice.body["error"].as_str()), (StatusCode::CONFLICT, Some("car_order_already_cancelled")));
        assert_eq!(order(&app, "lee", car, at(5), at(7)).await.status, StatusCode::CREATED, "the time is free again");
        app.settle().await;
        let reservation = reservation_of(&app, order_id).await;
        assert_eq!(app.event_types("CarReservation", reservation).await, ["ReservationConfirmed", "ReservationCancelled"]);
        assert_eq!(app.event_types("CarPayment", payment).await, ["PayApproved", "PayCancelled"]);
        let row = app.get(&format!("/carOrders/{order_id}")).await;
        assert_eq!((row.body["orderStatus"].as_str(), row.body["progress"].as_str(), row.body["reservationStatus"].as_str(), row.body["paymentStatus"].as_str()),
                   (Some("CANCELLED"), Some("CANCELLED"), Some("CANCELLED"), Some("CANCELLED")));
        app.assert_views_equal_a_rebuild().await;
    }

    async fn with_the_reservation_policy_down_orders_are_placed_and_each_is_confirmed_once_when_it_starts(app: TestApp) {
        let car = register_car(&app, 1_000).await;
        let mut orders = Vec::new();
        for (i, user) in ["kim", "lee", "park"].into_iter().enumerate() {
            let start = at(3 * i as i64);
            let reply = order(&app, user, car, start, start + TimeDelta::hours(1)).await;
            assert_eq!(reply.status, StatusCode::CREATED);
            orders.push(reply.id("orderId"));
        }
        let others = app.backend.policies(&["hotel"], Arc::new(NotificationSink::log())).await;
        app.settle_with(&others).await;
        let row = app.get(&format!("/carOrders/{}", orders[0])).await;
        assert_eq!((row.body["progress"].as_str(), row.body["reservationStatus"].as_str()), (Some("PAID"), None));
        let reservations = app.backend.policies(&["sharecar"], Arc::new(NotificationSink::log())).await;
        reservations.catch_up_all().await.expect("confirmed");
        reservations.catch_up_all().await.expect("caught up again");
        app.settle().await;
        for order_id in orders {
            let reservation = reservation_of(&app, order_id).await;
            assert_eq!(app.event_types("CarReservation", reservation).await, ["ReservationConfirmed"]);
            assert_eq!(app.get(&format!("/carOrders/{order_id}")).await.body["progress"], "RESERVED");
        }
    }

    async fn every_bad_order_is_refused_naming_its_field(app: TestApp) {
        let car = register_car(&app, 1_000).await;
        let body = |start: Value, end: Value| json!({"carId": car, "userId": "kim", "startDtm": start, "endDtm": end, "payMethod": "CARD"});
        for (request, field, code) in [
            (body(json!("tomorrow 10:00"), json!(at(3))), "startDtm", "invalid_field"),
            (body(json!(at(3)), json!(at(3))), "endDtm", "invalid_field"),
            (body(json!(at(3)), json!(at(2))), "endDtm", "invalid_field"),
            (body(json!(at(3)), json!(at(3) + TimeDelta::days(7) + TimeDelta::minutes(1))), "endDtm", "invalid_field"),
            (body(json!(at(-3)), json!(at(-2))), "startDtm", "invalid_field"),
            (body(json!(at(0) + TimeDelta::days(366)), json!(at(1) + TimeDelta::days(366))), "startDtm", "invalid_field"),
            (json!({"carId": Uuid::now_v7(), "userId": "kim", "startDtm": at(3), "endDtm": at(4), "payMethod": "CARD"}), "carId", "car_not_found"),
            (json!({"carId": car, "userId": "kim", "startDtm": at(3), "endDtm": at(4), "payMethod": "CASH"}), "payMethod", "invalid_field"),
        ] {
            let reply = app.post("/carOrders", request.clone()).await;
            assert_eq!((reply.status, reply.body["field"].as_str(), reply.body["error"].as_str()),
                       (StatusCode::UNPROCESSABLE_ENTITY, Some(field), Some(code)), "{request}: {:?}", reply.body);
        }
        let for_another = app.as_user(Role::Customer, "lee").post("/carOrders", body(json!(at(3)), json!(at(4)))).await;
        assert_eq!(for_another.status, StatusCode::FORBIDDEN);
        let by_a_customer = app.as_user(Role::Customer, "kim").post("/cars", json!({"name": "Kona", "pricePerHour": 1})).await;
        assert_eq!(by_a_customer.status, StatusCode::FORBIDDEN);
        for (request, field) in [
            (json!({"name": "", "pricePerHour": 1}), "name"),
            (json!({"name": "Kona", "pricePerHour": 1_000_001}), "pricePerHour"),
        ] {
            let reply = app.post("/cars", request).await;
            assert_eq!((reply.status, reply.body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)));
        }
        assert_eq!(app.count_events().await, 1, "only the car");
    }

    async fn free_car_search_and_a_cars_booked_intervals(app: TestApp) {
        let (taken, free) = (register_car(&app, 1_000).await, register_car(&app, 2_000).await);
        order(&app, "kim", taken, at(10), at(12)).await;
        app.settle().await;
        let ids = |reply: Reply| -> Vec<String> {
            reply.body["items"].as_array().expect("items").iter()
                .map(|car| car["carId"].as_str().unwrap_or_default().to_string()).collect()
        };
        let query = |from: DateTime<Utc>, to: DateTime<Utc>| {
            let (from, to) = (from.to_rfc3339(), to.to_rfc3339());
            let encode = |time: &str| time.replace('+', "%2B");
            format!("/cars?freeFrom={}&freeTo={}", encode(&from), encode(&to))
        };
        let user = app.as_user(Role::Customer, "lee");
        assert_eq!(ids(user.get(&query(at(11), at(13))).await), [free.to_string()]);
        assert_eq!(ids(user.get(&query(at(12), at(13))).await), [taken.to_string(), free.to_string()]);
        let one = user.get(&format!("/cars/{taken}")).await;
        let ranges = &one.body["bookedRanges"];
        assert_eq!(ranges.as_array().map(Vec::len), Some(1), "{:?}", one.body);
        let start: DateTime<Utc> = ranges[0]["startDtm"].as_str().unwrap().parse().unwrap();
        assert_eq!(start, at(10));
        let reply = user.get(&query(at(12), at(12))).await;
        assert_eq!((reply.status, reply.body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("freeTo")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn across_two_command_apis_of_twenty_overlapping_orders_exactly_one_is_placed() {
    use crate::processes::{client_as, command_apis, post_json};
    use crate::support::Store;

    let app = TestApp::spawn(Store::Postgres).await;
    let (_processes, bases) = command_apis(&app.database_url().expect("PostgreSQL"), 2).await;
    let manager = client_as(Role::Manager, "lee");
    let car = post_json(
        &manager,
        &format!("{}/cars", bases[1]),
        &json!({"name": "Kona", "pricePerHour": 1_000}),
    )
    .await;
    let car = car["carId"].as_str().expect("a car").to_string();
    let replies = join_all((0..20i64).map(|i| {
        let (user, base) = (format!("user-{i}"), &bases[i as usize % 2]);
        let start = at(24) - TimeDelta::minutes(i % 4 * 10);
        let body = json!({"carId": car, "userId": user, "startDtm": start, "endDtm": at(25), "payMethod": "CARD"});
        let client = client_as(Role::Customer, &user);
        async move { client.post(format!("{base}/carOrders")).json(&body).send().await.expect("an answer").status() }
    }))
    .await;
    let placed = replies
        .iter()
        .filter(|status| **status == StatusCode::CREATED)
        .count();
    let taken = replies
        .iter()
        .filter(|status| **status == StatusCode::CONFLICT)
        .count();
    assert_eq!((placed, taken), (1, 19));
    assert_eq!(claims(&app, car.parse().unwrap()).await, 1);
}
