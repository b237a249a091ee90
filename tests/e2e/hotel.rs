//! The hotel (SPEC §2 "Hotel context"): a host's rooms, a guest's nights paid in the
//! same commit and claimed on the shared time-slot guard, cancellations refunded and
//! a deleted room's stays cancelled by policy, everyone told.

use std::sync::Arc;

use auth::Role;
use chrono::{Days, NaiveDate, Utc};
use futures::future::join_all;
use policies::NotificationSink;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{on_both_stores, Reply, TestApp};

const HOST: &str = "hana";

/// The day `n` days from today (UTC).
fn day(n: u64) -> NaiveDate {
    Utc::now().date_naive() + Days::new(n)
}

/// A room of Hana's at `price` a night, registered by Hana herself.
async fn register_room(app: &TestApp, price: i64) -> Uuid {
    let reply = app
        .as_user(Role::Host, HOST)
        .post("/hotelRooms", json!({"name": "Ocean", "price": price}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.id("roomId")
}

/// `guest` books `room` for the nights [first, check_out), as the guest.
async fn book(
    app: &TestApp,
    guest: &str,
    room: Uuid,
    first: NaiveDate,
    check_out: NaiveDate,
) -> Reply {
    let body = json!({"roomId": room, "guestId": guest, "startDate": first, "endDate": check_out, "payMethod": "CARD"});
    app.as_user(Role::Customer, guest)
        .post("/hotelBookings", body)
        .await
}

/// The active claims on `room`'s nights in the guard's table.
async fn claimed_nights(app: &TestApp, room: Uuid) -> i64 {
    app.scalar(
        "SELECT count(*) FROM hotel_room_slots WHERE CAST(resource_id AS TEXT) = $1",
        &room.to_string(),
    )
    .await
}

/// The notifications `user` has, as their contents.
async fn notices(app: &TestApp, user: &str) -> Vec<String> {
    let page = app.get(&format!("/notifications?userId={user}")).await;
    let mut contents: Vec<String> = page.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|notification| {
            notification["contents"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    contents.sort();
    contents
}

on_both_stores! {
    async fn a_guest_books_nights_paid_in_the_same_commit_and_guest_and_host_see_it(app: TestApp) {
        let room = register_room(&app, 120_000).await;
        let booked = book(&app, "kim", room, day(10), day(12)).await;
        assert_eq!(booked.status, StatusCode::CREATED, "{:?}", booked.body);
        assert_eq!(booked.body["amount"], 240_000);
        let (stay, payment) = (booked.id("bookingId"), booked.id("paymentId"));
        assert_eq!(booked.header("location"), Some(format!("/hotelBookings/{stay}").as_str()));
        assert_eq!(app.event_types("HotelBooking", stay).await, ["RoomBooked"]);
        assert_eq!(app.event_types("HotelPayment", payment).await, ["PaymentApproved"]);
        assert_eq!(claimed_nights(&app, room).await, 1);
        app.settle().await;

        let kim = app.as_user(Role::Customer, "kim");
        let row = kim.get(&format!("/hotelBookings/{stay}")).await;
        assert_eq!(row.status, StatusCode::OK, "{:?}", row.body);
        assert_eq!((row.body["bookingStatus"].as_str(), row.body["paymentStatus"].as_str(), row.body["payMethod"].as_str()),
                   (Some("BOOKED"), Some("APPROVED"), Some("CARD")));
        assert_eq!((row.body["nights"].as_i64(), row.body["startDate"].as_str()), (Some(2), Some(day(10).to_string().as_str())));
        let page = kim.get("/mypages/kim").await;
        assert_eq!(page.body["stays"][0]["bookingId"], stay.to_string(), "{:?}", page.body);
        let hana = app.as_user(Role::Host, HOST);
        let hosting = hana.get(&format!("/mypages/{HOST}")).await;
        assert_eq!(hosting.body["hosting"][0]["bookingId"], stay.to_string(), "{:?}", hosting.body);
        let hosts_list = hana.get("/hotelBookings").await;
        assert_eq!(hosts_list.body["items"].as_array().map(Vec::len), Some(1));
        let another_host = app.as_user(Role::Host, "jun");
        let probe = another_host.get(&format!("/hotelBookings/{stay}")).await;
        assert_eq!((probe.status, probe.body["error"].as_str()), (StatusCode::NOT_FOUND, Some("hotel_booking_not_found")));
        let nights = format!("{}~{}", day(10), day(12));
        assert_eq!(notices(&app, "kim").await, [format!("room Ocean booked {nights}, 240000 paid")]);
        assert_eq!(notices(&app, HOST).await, [format!("new booking of room Ocean {nights}")]);
        app.assert_views_equal_a_rebuild().await;
    }

    async fn a_host_staying_in_their_own_room_hears_as_guest_and_as_host(app: TestApp) {
        let room = register_room(&app, 1_000).await;
        let body = json!({"roomId": room, "guestId": HOST, "startDate": day(3), "endDate": day(4), "payMethod": "BANK"});
        assert_eq!(app.post("/hotelBookings", body).await.status, StatusCode::CREATED);
        app.settle().await;
        let nights = format!("{}~{}", day(3), day(4));
        assert_eq!(notices(&app, HOST).await, [
            format!("new booking of room Ocean {nights}"),
            format!("room Ocean booked {nights}, 1000 paid"),
        ]);
    }

    async fn of_twenty_concurrent_overlapping_stays_of_one_room_exactly_one_is_booked(app: TestApp) {
        let room = register_room(&app, 1_000).await;
        let app = &app;
        let replies = join_all((0..20u64).map(|i| async move {
            // Every stay holds the night of day 30.
            book(app, &format!("guest-{i}"), room, day(29 + i % 2), day(31 + i % 3)).await
        }))
        .await;
        let booked = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
        let taken: Vec<_> = replies.iter().filter(|r| r.status == StatusCode::CONFLICT)
            .map(|r| r.body["error"].as_str().unwrap_or_default()).collect();
        assert_eq!((booked, taken), (1, vec!["room_unavailable"; 19]));
        assert_eq!(claimed_nights(app, room).await, 1);
        assert_eq!(app.count_events().await, 1 + 2, "the room and one stay with its payment");
    }

    async fn the_check_out_day_may_be_the_next_guests_first_night(app: TestApp) {
        let room = register_room(&app, 1_000).await;
        assert_eq!(book(&app, "kim", room, day(10), day(12)).await.status, StatusCode::CREATED);
        assert_eq!(book(&app, "lee", room, day(12), day(14)).await.status, StatusCode::CREATED);
        let between = book(&app, "park", room, day(11), day(13)).await;
        assert_eq!((between.status, between.body["error"].as_str()), (StatusCode::CONFLICT, Some("room_unavailable")));
        let other_room = register_room(&app, 1_000).await;
        assert_eq!(book(&app, "park", other_room, day(11), day(13)).await.status, StatusCode::CREATED);
    }

    async fn a_refused_payment_stores_and_claims_nothing(app: TestApp) {
        let room = register_room(&app, 1_000_000).await;
        let before = app.count_events().await;
        let refused = book(&app, "kim", room, day(10), day(21)).await;
        assert_eq!((refused.status, refused.body["error"].as_str()), (StatusCode::PAYMENT_REQUIRED, Some("payment_refused")), "{:?}", refused.body);
        assert_eq!(app.count_events().await, before);
        assert_eq!(claimed_nights(&app, room).await, 0);
        app.settle().await;
        let stays = app.get("/hotelBookings").await;
        assert_eq!(stays.body["items"], json!([]));
        // Ten nights cost exactly the most a payment may be: the same nights are free.
        assert_eq!(book(&app, "kim", room, day(10), day(20)).await.status, StatusCode::CREATED);
    }

    async fn every_bad_stay_is_refused_naming_its_field(app: TestApp) {
        let room = register_room(&app, 1_000).await;
        let stay = |start: Value, end: Value| json!({"roomId": room, "guestId": "kim", "startDate": start, "endDate": end, "payMethod": "CARD"});
        let yesterday = Utc::now().date_naive() - Days::new(1);
        for (body, field, code) in [
            (stay(json!("2027/01/10"), json!(day(12))), "startDate", "invalid_field"),
            (stay(json!(day(10)), json!("12 Jan")), "endDate", "invalid_field"),
            (stay(json!(day(12)), json!(day(12))), "endDate", "invalid_field"),
            (stay(json!(day(12)), json!(day(10))), "endDate", "invalid_field"),
            (stay(json!(day(10)), json!(day(41))), "endDate", "invalid_field"),
            (stay(json!(yesterday), json!(day(2))), "startDate", "invalid_field"),
            (stay(json!(day(366)), json!(day(368))), "startDate", "invalid_field"),
            (json!({"roomId": Uuid::now_v7(), "guestId": "kim", "startDate": day(10), "endDate": day(12), "payMethod": "CARD"}), "roomId", "room_not_found"),
            (json!({"roomId": "room-1", "guestId": "kim", "startDate": day(10), "endDate": day(12), "payMethod": "CARD"}), "roomId", "invalid_field"),
            (json!({"roomId": room, "guestId": "kim", "startDate": day(10), "endDate": day(12)}), "payMethod", "invalid_field"),
        ] {
            let reply = app.post("/hotelBookings", body.clone()).await;
            assert_eq!((reply.status, reply.body["field"].as_str(), reply.body["error"].as_str()),
                       (StatusCode::UNPROCESSABLE_ENTITY, Some(field), Some(code)), "{body}: {:?}", reply.body);
        }
        let for_another = app.as_user(Role::Customer, "lee")
            .post("/hotelBookings", stay(json!(day(10)), json!(day(12)))).await;
        assert_eq!(for_another.status, StatusCode::FORBIDDEN);
        for (body, field) in [
            (json!({"name": "", "price": 1}), "name"),
            (json!({"name": "r", "price": 1_000_001}), "price"),
            (json!({"name": "r", "price": 0}), "price"),
        ] {
            let reply = app.as_user(Role::Host, HOST).post("/hotelRooms", body).await;
            assert_eq!((reply.status, reply.body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)));
        }
        let nameless_host = app.post("/hotelRooms", json!({"name": "r", "price": 1})).await;
        assert_eq!(nameless_host.body["field"], "hostId", "an admin names the host");
        let stay_id = book(&app, "kim", room, day(10), day(12)).await.id("bookingId");
        let lees = app.as_user(Role::Customer, "lee")
            .post(&format!("/hotelBookings/{stay_id}/cancel"), Value::Null).await;
        assert_eq!((lees.status, lees.body["error"].as_str()), (StatusCode::NOT_FOUND, Some("hotel_booking_not_found")));
        assert_eq!(app.count_events().await, 1 + 2, "only the room and the one good stay");
    }

    async fn a_cancelled_stay_frees_its_nights_and_is_refunded_by_policy(app: TestApp) {
        let room = register_room(&app, 50_000).await;
        let kims = book(&app, "kim", room, day(10), day(12)).await;
        let (stay, payment) = (kims.id("bookingId"), kims.id("paymentId"));
        let cancel = format!("/hotelBookings/{stay}/cancel");
        let cancelled = app.as_user(Role::Customer, "kim").post(&cancel, Value::Null).await;
        assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.body);
        assert_eq!(claimed_nights(&app, room).await, 0);
        let again = app.as_user(Role::Customer, "kim").post(&cancel, Value::Null).await;
        assert_eq!((again.status, again.body["error"].as_str()), (StatusCode::CONFLICT, Some("hotel_booking_already_cancelled")));
        assert_eq!(book(&app, "lee", room, day(10), day(12)).await.status, StatusCode::CREATED, "the nights are free again");
        app.settle().await;
        assert_eq!(app.event_types("HotelPayment", payment).await, ["PaymentApproved", "PaymentCancelled"]);
        let row = app.get(&format!("/hotelBookings/{stay}")).await;
        assert_eq!((row.body["bookingStatus"].as_str(), row.body["cancelledBy"].as_str(), row.body["paymentStatus"].as_str()),
                   (Some("CANCELLED"), Some("GUEST"), Some("CANCELLED")));
        let nights = format!("{}~{}", day(10), day(12));
        assert_eq!(notices(&app, "kim").await, [
            format!("booking of room Ocean {nights} cancelled"),
            "payment of 100000 refunded".to_string(),
            format!("room Ocean booked {nights}, 100000 paid"),
        ]);
        // The room's host may cancel a stay in it; another host may not find it.
        let lees = app.get("/hotelBookings?guestId=lee").await.body["items"][0]["bookingId"].as_str().unwrap().to_string();
        let jun = app.as_user(Role::Host, "jun").post(&format!("/hotelBookings/{lees}/cancel"), Value::Null).await;
        assert_eq!(jun.status, StatusCode::NOT_FOUND);
        let hana = app.as_user(Role::Host, HOST).post(&format!("/hotelBookings/{lees}/cancel"), Value::Null).await;
        assert_eq!(hana.status, StatusCode::OK);
        app.settle().await;
        assert_eq!(app.get(&format!("/hotelBookings/{lees}")).await.body["cancelledBy"], "HOST");
        app.assert_views_equal_a_rebuild().await;
    }

    async fn deleting_a_room_cancels_and_refunds_its_stays_also_one_that_raced_the_deletion(app: TestApp) {
        let room = register_room(&app, 10_000).await;
        let first = book(&app, "kim", room, day(10), day(12)).await.id("bookingId");
        let second = book(&app, "lee", room, day(20), day(21)).await.id("bookingId");
        let delete = format!("/hotelRooms/{room}/delete");
        let by_another_host = app.as_user(Role::Host, "jun").post(&delete, Value::Null).await;
        assert_eq!((by_another_host.status, by_another_host.body["error"].as_str()), (StatusCode::FORBIDDEN, Some("not_room_host")));
        let deleted = app.as_user(Role::Host, HOST).post(&delete, Value::Null).await;
        assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.body);
        let twice = app.as_user(Role::Host, HOST).post(&delete, Value::Null).await;
        assert_eq!((twice.status, twice.body["error"].as_str()), (StatusCode::CONFLICT, Some("room_already_deleted")));
        let late = book(&app, "park", room, day(30), day(31)).await;
        assert_eq!((late.status, late.body["error"].as_str()), (StatusCode::CONFLICT, Some("room_deleted")));
        // A stay decided on the room before its deletion and committed after it, as a
        // racing command API would have.
        let (raced, raced_payment) = (Uuid::now_v7(), Uuid::now_v7());
        let payload = json!({"RoomBooked": {
            "roomId": room, "roomName": "Ocean", "hostId": HOST, "guestId": "park",
            "startDate": day(40), "endDate": day(41), "nights": 1, "amount": 10_000,
            "paymentId": raced_payment, "bookedAt": Utc::now(),
        }});
        app.append_raw_event("HotelBooking", raced, "RoomBooked", payload, json!({"correlationId": "race"})).await;
        let approved = json!({"PaymentApproved": {"bookingId": raced, "guestId": "park", "amount": 10_000, "payMethod": "BANK"}});
        app.append_raw_event("HotelPayment", raced_payment, "PaymentApproved", approved, json!({"correlationId": "race"})).await;
        app.settle().await;
        for stay in [first, second, raced] {
            let row = app.get(&format!("/hotelBookings/{stay}")).await;
            assert_eq!((row.body["bookingStatus"].as_str(), row.body["cancelledBy"].as_str(), row.body["paymentStatus"].as_str()),
                       (Some("CANCELLED"), Some("ROOM_DELETED"), Some("CANCELLED")), "{:?}", row.body);
            assert_eq!(app.event_types("HotelBooking", stay).await, ["RoomBooked", "RoomBookingCancelled"]);
        }
        let room_row = app.get(&format!("/hotelRooms/{room}")).await;
        assert_eq!((room_row.body["roomStatus"].as_str(), room_row.body["deletedOn"].as_str()),
                   (Some("DELETED"), Some(Utc::now().date_naive().to_string().as_str())));
        assert_eq!(notices(&app, "lee").await.len(), 3, "booked, cancelled, refunded");
        app.assert_views_equal_a_rebuild().await;
    }

    async fn free_room_search_and_a_rooms_booked_nights(app: TestApp) {
        let (taken, free) = (register_room(&app, 30_000).await, register_room(&app, 90_000).await);
        book(&app, "kim", taken, day(10), day(12)).await;
        app.settle().await;
        let ids = |reply: Reply| -> Vec<String> {
            reply.body["items"].as_array().expect("items").iter()
                .map(|room| room["roomId"].as_str().unwrap_or_default().to_string()).collect()
        };
        let customer = app.as_user(Role::Customer, "lee");
        let search = |from: NaiveDate, to: NaiveDate, extra: &str| {
            format!("/hotelRooms?freeFrom={from}&freeTo={to}{extra}")
        };
        assert_eq!(ids(customer.get(&search(day(11), day(13), "")).await), [free.to_string()]);
        assert_eq!(ids(customer.get(&search(day(12), day(13), "")).await), [taken.to_string(), free.to_string()]);
        assert_eq!(ids(customer.get(&search(day(8), day(10), "&maxPrice=50000")).await), [taken.to_string()]);
        let one = customer.get(&format!("/hotelRooms/{taken}")).await;
        assert_eq!(one.body["bookedRanges"], json!([{"startDate": day(10), "endDate": day(12)}]), "{:?}", one.body);
        assert!(one.body.get("guestId").is_none() && one.body["bookedRanges"][0].get("guestId").is_none());
        for (query, field) in [
            (format!("freeFrom={}&freeTo={}", day(12), day(12)), "freeTo"),
            (format!("freeFrom={}", day(12)), "freeTo"),
            (format!("freeTo={}", day(12)), "freeFrom"),
            ("freeFrom=tomorrow&freeTo=2027-01-01".to_string(), "freeFrom"),
            ("maxPrice=cheap".to_string(), "maxPrice"),
            (format!("freeFrom={}&freeTo=%2B10000-01-01", day(1)), "freeTo"),
        ] {
            let reply = customer.get(&format!("/hotelRooms?{query}")).await;
            assert_eq!((reply.status, reply.body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{query}");
        }
    }

    async fn with_the_notification_policy_down_stays_are_booked_and_each_notice_comes_once_when_it_starts(app: TestApp) {
        let room = register_room(&app, 1_000).await;
        let without_notices = app.backend.policies(&["hotel"], Arc::new(NotificationSink::log())).await;
        for (i, guest) in ["kim", "lee", "park"].into_iter().enumerate() {
            let first = day(10 + 2 * i as u64);
            assert_eq!(book(&app, guest, room, first, first + Days::new(1)).await.status, StatusCode::CREATED);
        }
        app.settle_with(&without_notices).await;
        assert!(notices(&app, HOST).await.is_empty());
        let notify = app.backend.policies(&["hotelNotify"], Arc::new(NotificationSink::log())).await;
        notify.catch_up_all().await.expect("notified");
        notify.catch_up_all().await.expect("caught up again");
        app.settle().await;
        assert_eq!(notices(&app, HOST).await.len(), 3);
        for guest in ["kim", "lee", "park"] {
            assert_eq!(notices(&app, guest).await.len(), 1, "{guest}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn across_two_command_apis_of_twenty_overlapping_stays_exactly_one_is_booked() {
    use crate::processes::{client_as, command_apis, post_json};
    use crate::support::Store;

    let app = TestApp::spawn(Store::Postgres).await;
    let (_processes, bases) = command_apis(&app.database_url().expect("PostgreSQL"), 2).await;
    let hana = client_as(Role::Host, HOST);
    let room = post_json(
        &hana,
        &format!("{}/hotelRooms", bases[0]),
        &json!({"name": "Ocean", "price": 1_000}),
    )
    .await;
    let room = room["roomId"].as_str().expect("a room").to_string();
    let replies = join_all((0..20u64).map(|i| {
        let (guest, base) = (format!("guest-{i}"), &bases[i as usize % 2]);
        let body = json!({"roomId": room, "guestId": guest, "startDate": day(29 + i % 2), "endDate": day(31), "payMethod": "CARD"});
        let client = client_as(Role::Customer, &guest);
        async move { client.post(format!("{base}/hotelBookings")).json(&body).send().await.expect("an answer").status() }
    }))
    .await;
    let booked = replies
        .iter()
        .filter(|status| **status == StatusCode::CREATED)
        .count();
    let taken = replies
        .iter()
        .filter(|status| **status == StatusCode::CONFLICT)
        .count();
    assert_eq!((booked, taken), (1, 19));
    assert_eq!(claimed_nights(&app, room.parse().unwrap()).await, 1);
}
