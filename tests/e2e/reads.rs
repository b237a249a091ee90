//! The read API (SPEC §3 Views, §4 Reads): orderList, bookingList, mypage and
//! notifications over HTTP, read once the projector has drained the log.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{on_both_stores, Reply, TestApp};

const POSITION: &str = "x-projection-position";

/// Applies every event appended so far to every view.
async fn drain(app: &TestApp) {
    app.projector()
        .await
        .catch_up_all()
        .await
        .expect("caught up");
}

async fn place(app: &TestApp, customer: &str) -> String {
    let reply = app.place_order(customer, 1, 100).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.id("orderId").to_string()
}

/// A booking of `room` by `user` for the hour starting at `hour` on 2026-12-01.
async fn book(app: &TestApp, room: i64, user: &str, hour: u32) -> Uuid {
    let at = |hour: u32| format!("2026-12-01T{hour:02}:00:00Z");
    let body = json!({"roomId": room, "useStartDtm": at(hour), "useEndDtm": at(hour + 1), "bookingUserId": user});
    let reply = app.post("/bookings", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.id("bookingId")
}

/// The `field` of every item of a page (or of a mypage list), in the order served.
fn column(items: &Value, field: &str) -> Vec<String> {
    items
        .as_array()
        .expect("a list")
        .iter()
        .map(|item| item[field].as_str().expect(field).to_string())
        .collect()
}

/// `ids` in key order, as a page serves them.
fn sorted<S: ToString>(ids: &[S]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    ids.sort();
    ids
}

/// The `key` of every row `path` lists (one page).
async fn listed(app: &TestApp, path: &str, key: &str) -> Vec<String> {
    let reply = app.get(path).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.body);
    column(&reply.body["items"], key)
}

/// Every page of `path` (which already has a query string) from the first, following
/// `next` until a page has none.
async fn pages(app: &TestApp, path: &str) -> Vec<Reply> {
    pages_after(app, path, None).await
}

/// Every page of `path` from the one after cursor `after` (or the first) to the last.
async fn pages_after(app: &TestApp, path: &str, mut after: Option<String>) -> Vec<Reply> {
    let mut pages = Vec::new();
    loop {
        let page = match &after {
            Some(cursor) => app.get(&format!("{path}&after={cursor}")).await,
            None => app.get(path).await,
        };
        assert_eq!(page.status, StatusCode::OK, "{path}: {:?}", page.body);
        after = page.body["next"].as_str().map(str::to_string);
        pages.push(page);
        if after.is_none() {
            return pages;
        }
        assert!(pages.len() < 100, "{path}: pages never end");
    }
}

fn sizes(pages: &[Reply]) -> Vec<usize> {
    pages
        .iter()
        .map(|page| page.body["items"].as_array().expect("items").len())
        .collect()
}

fn keys_of(pages: &[Reply], key: &str) -> Vec<String> {
    pages
        .iter()
        .flat_map(|page| column(&page.body["items"], key))
        .collect()
}

/// The names of an object's fields, sorted.
fn fields(object: &Value) -> Vec<String> {
    sorted(
        &object
            .as_object()
            .expect("an object")
            .keys()
            .collect::<Vec<_>>(),
    )
}

async fn assert_invalid(app: &TestApp, path: &str, field: &str) {
    let reply = app.get(path).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
    assert_eq!(reply.body["error"], "invalid_field", "{path}");
    assert_eq!(reply.body["field"], field, "{path}: {:?}", reply.body);
}

on_both_stores! {
    async fn a_cursor_that_decodes_to_a_nul_is_a_bad_after_not_a_500(app: TestApp) {
        for list in ["/orderLists", "/bookingLists", "/notifications", "/books", "/bookOrders", "/members"] {
            assert_invalid(&app, &format!("{list}?after=AA"), "after").await;
        }
    }

    async fn an_order_list_row_has_every_field_an_etag_and_answers_if_none_match(app: TestApp) {
        let placed = app.place_order("kim", 3, 700).await;
        let order_id = placed.id("orderId");
        drain(&app).await;
        let path = format!("/orderLists/{order_id}");
        let row = app.get(&path).await;
        assert_eq!(row.status, StatusCode::OK, "{:?}", row.body);
        let spec = ["orderId", "customerId", "product", "qty", "price", "payMethod", "orderStatus", "cancelledBy",
            "paymentId", "paymentStatus", "deliveryId", "deliveryStatus", "position", "updatedAt"];
        assert_eq!(fields(&row.body), sorted(&spec));
        let expected = json!({"orderId": order_id.to_string(), "customerId": "kim", "product": "keyboard", "qty": 3,
            "price": 700, "payMethod": "CARD", "orderStatus": "PLACED", "cancelledBy": null,
            "paymentId": placed.body["paymentId"], "paymentStatus": "PAID", "position": placed.position()});
        for (field, value) in expected.as_object().unwrap() {
            assert_eq!(&row.body[field], value, "{field}");
        }
        let updated_at = row.body["updatedAt"].as_str().expect("updatedAt");
        assert!(chrono::DateTime::parse_from_rfc3339(updated_at).is_ok(), "{updated_at}");
        assert!(row.header(POSITION).is_some());
        let etag = row.header("etag").expect("an ETag").to_string();

        let unchanged = app.get_with(&path, &[("If-None-Match", &etag)]).await;
        assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
        assert_eq!(unchanged.body, Value::Null);

        let cancel = app.post(&format!("/orders/{order_id}/cancel"), json!(null)).await;
        assert_eq!(cancel.status, StatusCode::OK);
        drain(&app).await;
        let changed = app.get_with(&path, &[("If-None-Match", &etag)]).await;
        assert_eq!(changed.status, StatusCode::OK);
        assert_eq!(changed.body["orderStatus"], "CANCELLED");
        assert_eq!(changed.body["cancelledBy"], "CUSTOMER");
        assert_ne!(changed.header("etag"), Some(etag.as_str()));
    }

    async fn an_unknown_id_answers_404_and_a_malformed_id_422(app: TestApp) {
        let order_id = place(&app, "kim").await;
        let booking_id = book(&app, 1, "ann", 9).await;
        drain(&app).await;
        let cases = [("orderLists", "order_not_found", booking_id.to_string()), ("bookingLists", "booking_not_found", order_id)];
        for (list, code, other_kind) in cases {
            for id in [Uuid::now_v7().to_string(), other_kind] {
                let unknown = app.get(&format!("/{list}/{id}")).await;
                assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{list}/{id}");
                assert_eq!(unknown.body["error"], code);
            }
            assert_invalid(&app, &format!("/{list}/not-a-uuid"), "id").await;
        }
    }

    async fn an_order_list_page_filters_by_customer_and_status(app: TestApp) {
        let (kim_1, kim_2, lee) = (place(&app, "kim").await, place(&app, "kim").await, place(&app, "lee").await);
        app.post(&format!("/orders/{kim_1}/cancel"), json!(null)).await;
        drain(&app).await;
        let cases = [
            ("", vec![&kim_1, &kim_2, &lee]),
            ("customerId=kim", vec![&kim_1, &kim_2]),
            ("customerId=lee", vec![&lee]),
            ("customerId=nobody", vec![]),
            ("status=PLACED", vec![&kim_2, &lee]),
            ("status=CANCELLED", vec![&kim_1]),
            ("customerId=kim&status=PLACED", vec![&kim_2]),
        ];
        for (query, expected) in cases {
            assert_eq!(listed(&app, &format!("/orderLists?{query}"), "orderId").await, sorted(&expected), "{query}");
        }
        for status in ["placed", "SHIPPED", ""] {
            assert_invalid(&app, &format!("/orderLists?status={status}"), "status").await;
        }
        assert_invalid(&app, &format!("/orderLists?customerId={}", "x".repeat(65)), "customerId").await;
    }

    async fn a_page_of_orders_ends_without_next_and_every_row_is_visited_once_in_key_order(app: TestApp) {
        let mut kims = Vec::new();
        for _ in 0..7 {
            kims.push(place(&app, "kim").await);
        }
        place(&app, "lee").await;
        drain(&app).await;
        let pages = pages(&app, "/orderLists?customerId=kim&limit=3").await;
        assert_eq!(sizes(&pages), [3, 3, 1]);
        for page in &pages[..2] {
            assert!(page.body["next"].is_string(), "{:?}", page.body);
        }
        assert!(!pages[2].body.as_object().unwrap().contains_key("next"), "{:?}", pages[2].body);
        assert_eq!(keys_of(&pages, "orderId"), sorted(&kims));
    }

    async fn a_page_has_50_rows_unless_a_limit_is_given(app: TestApp) {
        for _ in 0..55 {
            place(&app, "kim").await;
        }
        drain(&app).await;
        assert_eq!(sizes(&pages(&app, "/orderLists?customerId=kim").await), [50, 5]);
        assert_eq!(sizes(&pages(&app, "/orderLists?limit=500").await), [55]);
        assert_eq!(sizes(&pages(&app, "/orderLists?limit=1").await).len(), 55);
    }

    async fn a_limit_outside_1_to_500_or_a_foreign_cursor_answers_422(app: TestApp) {
        for list in ["/orderLists", "/bookingLists", "/notifications"] {
            for limit in ["0", "501", "-1", "abc", "", "2.5"] {
                assert_invalid(&app, &format!("{list}?limit={limit}"), "limit").await;
            }
            for after in ["%%%", "not-a-cursor!", ""] {
                assert_invalid(&app, &format!("{list}?after={after}"), "after").await;
            }
        }
    }

    async fn a_cursor_neither_repeats_nor_skips_rows_when_rows_are_inserted_between_pages(app: TestApp) {
        let mut before = Vec::new();
        for _ in 0..6 {
            before.push(place(&app, "kim").await);
        }
        drain(&app).await;
        let first = app.get("/orderLists?customerId=kim&limit=3").await;
        let next = first.body["next"].as_str().expect("a next page").to_string();
        // New rows both before the cursor (smaller keys) and after it.
        for low in 1..=2 {
            let payload = json!({"OrderPlaced": {"customerId": "kim", "product": "p", "qty": 1, "price": 1, "payMethod": "CARD"}});
            app.append_raw_event("Order", Uuid::from_u128(low), "OrderPlaced", payload, json!({})).await;
        }
        place(&app, "kim").await;
        drain(&app).await;
        assert_eq!(listed(&app, "/orderLists?customerId=kim", "orderId").await.len(), 9, "the new rows are in the view");
        let rest = pages_after(&app, "/orderLists?customerId=kim&limit=3", Some(next)).await;
        let mut seen = column(&first.body["items"], "orderId");
        seen.extend(keys_of(&rest, "orderId"));
        let mut in_key_order_once = sorted(&seen);
        in_key_order_once.dedup();
        assert_eq!(seen, in_key_order_once, "rows out of key order or repeated");
        for order_id in &before {
            assert_eq!(seen.iter().filter(|seen| *seen == order_id).count(), 1, "{order_id} in {seen:?}");
        }
    }

    async fn a_booking_list_page_filters_by_room_user_and_confirm_status(app: TestApp) {
        let requested = book(&app, 1, "ann", 9).await;
        let unconfirmed = book(&app, 1, "bob", 10).await;
        let confirmed = book(&app, 2, "ann", 9).await;
        app.request_confirm(requested).await;
        let confirm_id = app.request_confirm(confirmed).await;
        let complete = app.post(&format!("/confirms/{confirm_id}/complete"), json!({})).await;
        assert_eq!(complete.status, StatusCode::OK);
        drain(&app).await;
        let cases = [
            ("", vec![requested, unconfirmed, confirmed]),
            ("roomId=1", vec![requested, unconfirmed]),
            ("roomId=2", vec![confirmed]),
            ("userId=ann", vec![requested, confirmed]),
            ("roomId=1&userId=ann", vec![requested]),
            ("confirmStatus=BOOKED", vec![requested]),
            ("confirmStatus=CONFIRMED", vec![confirmed]),
            ("confirmStatus=DENIED", vec![]),
        ];
        for (query, expected) in cases {
            assert_eq!(listed(&app, &format!("/bookingLists?{query}"), "bookingId").await, sorted(&expected), "{query}");
        }
        let row = app.get(&format!("/bookingLists/{confirmed}")).await.body;
        let spec = ["bookingId", "roomId", "useStartDtm", "useEndDtm", "bookingUserId", "bookingDtm", "bookingStatus",
            "confirmId", "confirmStatus", "confirmDtm", "confirmUserId", "position", "updatedAt"];
        assert_eq!(fields(&row), sorted(&spec));
        assert_eq!((&row["roomId"], &row["bookingStatus"], &row["confirmUserId"]), (&json!(2), &json!("CREATED"), &json!("admin")));
        for room in ["0", "x", "-1", "1.5"] {
            assert_invalid(&app, &format!("/bookingLists?roomId={room}"), "roomId").await;
        }
        assert_invalid(&app, "/bookingLists?confirmStatus=NOPE", "confirmStatus").await;
        assert_invalid(&app, "/bookingLists?userId=", "userId").await;
    }

    async fn a_mypage_exists_empty_from_the_start_then_lists_the_users_own_rows(app: TestApp) {
        let empty = app.get("/mypages/ann").await;
        assert_eq!(empty.status, StatusCode::OK, "{:?}", empty.body);
        assert_eq!(empty.body["userId"], "ann");
        for list in ["orders", "bookings", "notifications"] {
            assert_eq!(empty.body[list], json!([]), "{list}");
        }
        let orders = [place(&app, "ann").await, place(&app, "ann").await];
        let booking = book(&app, 1, "ann", 9).await;
        place(&app, "bob").await;
        book(&app, 1, "bob", 10).await;
        let notification = app.send_notification("ann", "hello ann", "2026-12-01T09:00:00Z").await;
        app.send_notification("bob", "hello bob", "2026-12-01T09:00:00Z").await;
        drain(&app).await;
        let page = app.get("/mypages/ann").await;
        assert_eq!(page.status, StatusCode::OK);
        let mut latest_first = sorted(&orders);
        latest_first.reverse();
        assert_eq!(column(&page.body["orders"], "orderId"), latest_first);
        assert_eq!(column(&page.body["orders"], "customerId"), ["ann", "ann"]);
        assert_eq!(column(&page.body["bookings"], "bookingId"), [booking.to_string()]);
        assert_eq!(column(&page.body["notifications"], "notificationId"), [notification.to_string()]);
        assert_invalid(&app, &format!("/mypages/{}", "x".repeat(65)), "userId").await;
    }

    async fn a_mypage_etag_changes_when_a_lagging_section_catches_up(app: TestApp) {
        // The booking is older than the order, and its section applies it later.
        book(&app, 1, "ann", 9).await;
        place(&app, "ann").await;
        let projector = app.projector().await;
        projector.catch_up(&projections::shop::MYPAGE_ORDERS).await.expect("orders");
        let first = app.get("/mypages/ann").await;
        assert_eq!(first.body["bookings"], json!([]));
        let etag = first.header("etag").expect("an ETag").to_string();
        projector.catch_up(&projections::booking::MYPAGE_BOOKINGS).await.expect("bookings");
        let second = app.get_with("/mypages/ann", &[("If-None-Match", &etag)]).await;
        assert_eq!(second.status, StatusCode::OK, "not 304: the page changed");
        assert_eq!(second.body["bookings"].as_array().map(Vec::len), Some(1));
        assert_ne!(second.header("etag"), Some(etag.as_str()));
    }

    async fn a_mypage_list_holds_the_latest_100_and_links_to_the_rest(app: TestApp) {
        let mut orders = Vec::new();
        for _ in 0..101 {
            orders.push(place(&app, "many one").await);
        }
        drain(&app).await;
        let page = app.get("/mypages/many%20one").await;
        let shown = column(&page.body["orders"], "orderId");
        assert_eq!(shown.len(), 100);
        assert_eq!(shown[0], orders[100], "latest first");
        assert!(!shown.contains(&orders[0]), "the oldest is left to the list");
        assert_eq!(page.body["more"]["orders"], "/orderLists?customerId=many+one");
        assert!(page.body["more"]["bookings"].is_null(), "a list that holds everything links nothing");
        let rest = app.get("/orderLists?customerId=many+one&limit=500").await;
        assert_eq!(rest.body["items"].as_array().map(Vec::len), Some(101));
    }

    async fn a_mypage_keeps_the_20_latest_notifications_latest_first(app: TestApp) {
        // Sent out of order: the latest are not the last recorded.
        for minute in (0..22).map(|i| (i * 7) % 22) {
            let at = format!("2026-12-01T09:{minute:02}:00Z");
            app.send_notification("ann", &format!("minute {minute}"), &at).await;
        }
        drain(&app).await;
        let page = app.get("/mypages/ann").await;
        let expected: Vec<String> = (2..22).rev().map(|minute| format!("minute {minute}")).collect();
        assert_eq!(column(&page.body["notifications"], "contents"), expected);
    }

    async fn a_user_sees_only_their_own_notifications_page_by_page(app: TestApp) {
        let (mut ann, mut bob) = (Vec::new(), Vec::new());
        for i in 0..5 {
            ann.push(app.send_notification("ann", &format!("to ann {i}"), "2026-12-01T09:00:00Z").await);
            if i % 2 == 0 {
                bob.push(app.send_notification("bob", &format!("to bob {i}"), "2026-12-01T09:00:00Z").await);
            }
        }
        drain(&app).await;
        let pages_of_ann = pages(&app, "/notifications?userId=ann&limit=2").await;
        assert_eq!(sizes(&pages_of_ann), [2, 2, 1]);
        assert_eq!(keys_of(&pages_of_ann, "notificationId"), sorted(&ann));
        assert_eq!(keys_of(&pages_of_ann, "userId"), ["ann"; 5]);
        assert_eq!(listed(&app, "/notifications?userId=bob", "notificationId").await, sorted(&bob));
        let row = &pages_of_ann[0].body["items"][0];
        let spec = ["notificationId", "userId", "contents", "cause", "sendDtm", "correlationId", "position", "updatedAt"];
        assert_eq!(fields(row), sorted(&spec));
        assert_eq!(row["contents"], "to ann 0");
        assert_eq!(row["correlationId"], format!("flow-{}", ann[0]));
        assert_eq!(row["cause"], "BookingCreated");
    }

    async fn every_read_carries_the_position_its_view_has_applied(app: TestApp) {
        let order_id = place(&app, "ann").await;
        let booking_id = book(&app, 1, "ann", 9).await;
        app.send_notification("ann", "hello", "2026-12-01T09:00:00Z").await;
        let last = app.post(&format!("/orders/{order_id}/cancel"), json!(null)).await.position();
        let reads = [
            "/orderLists".to_string(), format!("/orderLists/{order_id}"), "/bookingLists".to_string(),
            format!("/bookingLists/{booking_id}"), "/mypages/ann".to_string(), "/notifications".to_string(),
        ];
        let behind = app.get("/orderLists").await;
        let behind: i64 = behind.header(POSITION).expect(POSITION).parse().expect("a number");
        assert!(behind < last, "{behind} before draining");
        drain(&app).await;
        for path in &reads {
            let reply = app.get(path).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            assert_eq!(reply.header(POSITION), Some(last.to_string().as_str()), "{path}");
        }
    }

    async fn a_read_of_an_unknown_id_carries_the_projection_position_too(app: TestApp) {
        let last = app.place_order("kim", 1, 1).await.position();
        drain(&app).await;
        for list in ["orderLists", "bookingLists"] {
            let unknown = app.get(&format!("/{list}/{}", Uuid::now_v7())).await;
            assert_eq!(unknown.status, StatusCode::NOT_FOUND);
            // "Not found" means "not in the view as of this position": a client that has
            // just written needs it to tell a lagging view from a wrong id.
            assert_eq!(unknown.header(POSITION), Some(last.to_string().as_str()), "{list}");
        }
    }
}
