//! The bookstore (SPEC §2 Bookstore context, §3, §4): the catalogue, membership, book
//! orders whose stock is taken in the order's own commit, mileage and grades, and the
//! announcements of new books and restocks.

use domain::bookstore::member::member_stream;
use futures::future::join_all;
use futures::{stream, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{on_both_stores, with_token, Reply, TestApp};

async fn join(app: &TestApp, member: &str) {
    let reply = app
        .post("/members", json!({"memberId": member, "name": member}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
}

async fn register(app: &TestApp, title: &str, price: i64, stock: i64) -> Uuid {
    let body = json!({"title": title, "author": "Hesse", "price": price, "stock": stock});
    let reply = app.post("/books", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.id("bookId")
}

async fn order(app: &TestApp, member: &str, book: Uuid, qty: i64) -> Reply {
    app.post(
        "/bookOrders",
        json!({"memberId": member, "bookId": book, "qty": qty}),
    )
    .await
}

async fn stock(app: &TestApp, book: Uuid) -> i64 {
    app.settle().await;
    let row = app.get(&format!("/books/{book}")).await;
    row.body["stock"].as_i64().expect("a stock")
}

/// The users told `contents`, as the notifications view lists them, sorted.
async fn told(app: &TestApp, contents: &str) -> Vec<String> {
    app.settle().await;
    let page = app.get("/notifications?limit=500").await;
    let mut users: Vec<String> = page.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|item| item["contents"] == contents)
        .map(|item| item["userId"].as_str().expect("a user").to_string())
        .collect();
    users.sort();
    users
}

/// Kim's memberList row once the policies and views have settled.
async fn member_row(app: &TestApp) -> Value {
    app.settle().await;
    app.get("/members/kim").await.body
}

on_both_stores! {
    async fn a_manager_registers_books_and_adds_stock_and_every_role_reads_the_catalogue(app: TestApp) {
        let book = register(&app, "데미안", 12_000, 3).await;
        let manager = with_token(reqwest::Client::builder(), &app.token(auth::Role::Manager, "lee")).build().unwrap();
        let added = manager.post(format!("{}/books/{book}/stock", app.address)).json(&json!({"qty": 7})).send().await.unwrap();
        assert_eq!(added.status(), StatusCode::OK);
        let added: Value = added.json().await.unwrap();
        assert_eq!((added["bookId"].as_str(), added["stock"].as_i64()), (Some(book.to_string().as_str()), Some(10)));
        assert_eq!(stock(&app, book).await, 10);
        let customer = with_token(reqwest::Client::builder(), &app.token(auth::Role::Customer, "kim")).build().unwrap();
        let catalogue: Value = customer.get(format!("{}/books", app.address)).send().await.unwrap().json().await.unwrap();
        assert_eq!(catalogue["items"][0]["title"], "데미안");
        assert_eq!(catalogue["items"][0]["price"], 12_000);
        let refused = customer.post(format!("{}/books", app.address))
            .json(&json!({"title": "t", "author": "a", "price": 1, "stock": 1})).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        for (field, body) in [
            ("title", json!({"title": "", "author": "a", "price": 1, "stock": 1})),
            ("price", json!({"title": "t", "author": "a", "price": 1_000_001, "stock": 1})),
            ("stock", json!({"title": "t", "author": "a", "price": 1, "stock": -1})),
            ("author", json!({"title": "t", "price": 1, "stock": 1})),
        ] {
            let reply = app.post("/books", body).await;
            assert_eq!((reply.status, reply.body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{:?}", reply.body);
        }
        let too_many = app.post(&format!("/books/{book}/stock"), json!({"qty": 10_001})).await;
        assert_eq!(too_many.body["field"], "qty");
        let unknown = app.post(&format!("/books/{}/stock", Uuid::now_v7()), json!({"qty": 1})).await;
        assert_eq!((unknown.status, unknown.body["error"].as_str()), (StatusCode::NOT_FOUND, Some("book_not_found")));
    }

    async fn a_book_order_takes_stock_and_its_cancel_gives_it_back(app: TestApp) {
        join(&app, "kim").await;
        let book = register(&app, "데미안", 12_000, 3).await;
        let placed = order(&app, "kim", book, 2).await;
        assert_eq!(placed.status, StatusCode::CREATED, "{:?}", placed.body);
        assert_eq!((placed.body["orderStatus"].as_str(), placed.body["amount"].as_i64()), (Some("ORDERED"), Some(24_000)));
        let order_id = placed.id("orderId");
        assert_eq!(placed.header("location"), Some(format!("/bookOrders/{order_id}").as_str()));
        assert_eq!(app.event_types("BookOrder", order_id).await, ["BookOrdered"]);
        assert_eq!(app.event_types("Book", book).await, ["BookRegistered", "StockTaken"]);
        assert_eq!(stock(&app, book).await, 1);
        let row = app.get(&format!("/bookOrders/{order_id}")).await;
        assert_eq!((row.body["orderStatus"].as_str(), row.body["title"].as_str(), row.body["shipmentStatus"].as_str()), (Some("ORDERED"), Some("데미안"), Some("STARTED")));

        let cancelled = app.post(&format!("/bookOrders/{order_id}/cancel"), Value::Null).await;
        assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.body);
        assert_eq!(app.event_types("Book", book).await, ["BookRegistered", "StockTaken", "StockReturned"]);
        assert_eq!(stock(&app, book).await, 3);
        let row = app.get(&format!("/bookOrders/{order_id}")).await;
        assert_eq!((row.body["orderStatus"].as_str(), row.body["shipmentStatus"].as_str()), (Some("CANCELLED"), Some("CANCELLED")));
        let again = app.post(&format!("/bookOrders/{order_id}/cancel"), Value::Null).await;
        assert_eq!((again.status, again.body["error"].as_str()), (StatusCode::CONFLICT, Some("book_order_already_cancelled")));
    }

    async fn an_order_the_stock_cannot_serve_is_recorded_and_answered_409_with_its_order_id(app: TestApp) {
        join(&app, "kim").await;
        let book = register(&app, "데미안", 12_000, 1).await;
        let refused = order(&app, "kim", book, 2).await;
        assert_eq!((refused.status, refused.body["error"].as_str()), (StatusCode::CONFLICT, Some("out_of_stock")), "{:?}", refused.body);
        let order_id = refused.id("orderId");
        assert_eq!(app.event_types("BookOrder", order_id).await, ["OutOfStocked"]);
        assert_eq!(app.event_types("Book", book).await, ["BookRegistered"]);
        app.settle().await;
        let row = app.get(&format!("/bookOrders/{order_id}")).await;
        assert_eq!(row.body["orderStatus"], "OUT_OF_STOCK");
        let cancel = app.post(&format!("/bookOrders/{order_id}/cancel"), Value::Null).await;
        assert_eq!((cancel.status, cancel.body["error"].as_str()), (StatusCode::CONFLICT, Some("book_order_out_of_stock")));
        // Another customer cannot tell a refused order from none.
        let lee = with_token(reqwest::Client::builder(), &app.token(auth::Role::Customer, "lee")).build().unwrap();
        let probe = lee.post(format!("{}/bookOrders/{order_id}/cancel", app.address)).send().await.unwrap();
        assert_eq!(probe.status(), StatusCode::NOT_FOUND);
    }

    async fn only_a_member_orders_and_only_a_book_of_the_catalogue(app: TestApp) {
        let book = register(&app, "데미안", 12_000, 5).await;
        let stranger = order(&app, "nobody", book, 1).await;
        assert_eq!((stranger.status, stranger.body["error"].as_str(), stranger.body["field"].as_str()),
                   (StatusCode::UNPROCESSABLE_ENTITY, Some("member_not_found"), Some("memberId")));
        join(&app, "kim").await;
        let twice = app.post("/members", json!({"memberId": "kim", "name": "Kim"})).await;
        assert_eq!((twice.status, twice.body["error"].as_str()), (StatusCode::CONFLICT, Some("member_already_joined")));
        let unknown = order(&app, "kim", Uuid::now_v7(), 1).await;
        assert_eq!((unknown.body["error"].as_str(), unknown.body["field"].as_str()), (Some("book_not_found"), Some("bookId")));
        for qty in [0, 101] {
            let reply = order(&app, "kim", book, qty).await;
            assert_eq!((reply.status, reply.body["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("qty")));
        }
        assert_eq!(app.count_events().await, 2, "nothing refused was stored");
    }

    async fn of_twenty_members_racing_for_five_copies_five_succeed_and_a_restock_tells_the_fifteen(app: TestApp) {
        let members: Vec<String> = (0..20).map(|i| format!("m{i:02}")).collect();
        for member in &members {
            join(&app, member).await;
        }
        let book = register(&app, "데미안", 100, 5).await;
        let app = &app;
        let replies = join_all(members.iter().map(|member| order(app, member, book, 1))).await;
        let codes: Vec<StatusCode> = replies.iter().map(|reply| reply.status).collect();
        assert_eq!(codes.iter().filter(|s| **s == StatusCode::CREATED).count(), 5, "{codes:?}");
        let refused: Vec<String> = members.iter().zip(&replies)
            .filter(|(_, reply)| reply.body["error"] == "out_of_stock")
            .map(|(member, _)| member.clone())
            .collect();
        assert_eq!(refused.len(), 15);
        assert_eq!(stock(app, book).await, 0);
        let added = app.post(&format!("/books/{book}/stock"), json!({"qty": 10})).await;
        assert_eq!(added.status, StatusCode::OK);
        assert_eq!(told(app, "데미안 is back in stock").await, refused);
        // Redelivered, the restock tells nobody again; a second restock tells nobody new.
        app.settle().await;
        app.post(&format!("/books/{book}/stock"), json!({"qty": 1})).await;
        assert_eq!(told(app, "데미안 is back in stock").await, refused);
    }

    async fn a_new_book_is_announced_once_to_each_member_who_joined_before_it(app: TestApp) {
        for member in ["ann", "bob", "cid"] {
            join(&app, member).await;
        }
        app.settle().await;
        register(&app, "싯다르타", 9_000, 1).await;
        join(&app, "dan").await;
        assert_eq!(told(&app, "new book: 싯다르타").await, ["ann", "bob", "cid"]);
        // Settling again, or rebuilding every view from the log, sends nothing again.
        app.settle().await;
        app.assert_views_equal_a_rebuild().await;
        assert_eq!(told(&app, "new book: 싯다르타").await, ["ann", "bob", "cid"]);
    }

    async fn mileage_and_grade_follow_orders_and_cancels(app: TestApp) {
        join(&app, "kim").await;
        let big = register(&app, "big", 49_999, 10).await;
        let one = register(&app, "one", 1, 10).await;
        let gold = register(&app, "gold", 150_000, 10).await;
        order(&app, "kim", big, 1).await;
        let row = member_row(&app).await;
        assert_eq!((row["grade"].as_str(), row["mileage"].as_i64(), row["totalAmount"].as_i64()), (Some("BRONZE"), Some(2_499), Some(49_999)));
        order(&app, "kim", one, 1).await;
        assert_eq!(member_row(&app).await["grade"], "SILVER");
        let gold_order = order(&app, "kim", gold, 1).await.id("orderId");
        let row = member_row(&app).await;
        assert_eq!((row["grade"].as_str(), row["totalAmount"].as_i64()), (Some("GOLD"), Some(200_000)));
        app.post(&format!("/bookOrders/{gold_order}/cancel"), Value::Null).await;
        let row = member_row(&app).await;
        assert_eq!((row["grade"].as_str(), row["mileage"].as_i64()), (Some("SILVER"), Some(2_499)));
        let stream = app.event_types("Member", member_stream("kim")).await;
        let grades = stream.iter().filter(|event| *event == "GradeChanged").count();
        assert_eq!(grades, 3, "only moves are recorded: {stream:?}");
        app.assert_views_equal_a_rebuild().await;
    }

    async fn a_customer_orders_and_reads_only_as_themself(app: TestApp) {
        let book = register(&app, "데미안", 100, 5).await;
        let kim = with_token(reqwest::Client::builder(), &app.token(auth::Role::Customer, "kim")).build().unwrap();
        let lee = with_token(reqwest::Client::builder(), &app.token(auth::Role::Customer, "lee")).build().unwrap();
        let url = |path: &str| format!("{}{path}", app.address);
        let page: Value = kim.get(url("/mypages/kim")).send().await.unwrap().json().await.unwrap();
        assert_eq!((page["bookOrders"].clone(), page["membership"].clone()), (json!([]), Value::Null));
        let as_other = lee.post(url("/members")).json(&json!({"memberId": "kim", "name": "K"})).send().await.unwrap();
        assert_eq!(as_other.status(), StatusCode::FORBIDDEN);
        let joined = kim.post(url("/members")).json(&json!({"memberId": "kim", "name": "Kim"})).send().await.unwrap();
        assert_eq!(joined.status(), StatusCode::CREATED);
        let placed: Value = kim.post(url("/bookOrders")).json(&json!({"memberId": "kim", "bookId": book, "qty": 1}))
            .send().await.unwrap().json().await.unwrap();
        let order_id = placed["orderId"].as_str().expect("an order").to_string();
        app.settle().await;
        for path in [format!("/bookOrders/{order_id}"), "/members/kim".to_string(), "/mypages/kim".to_string()] {
            assert_eq!(lee.get(url(&path)).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{path}");
            assert_eq!(kim.get(url(&path)).send().await.unwrap().status(), StatusCode::OK, "{path}");
        }
        let cancel = lee.post(url(&format!("/bookOrders/{order_id}/cancel"))).send().await.unwrap();
        assert_eq!(cancel.status(), StatusCode::NOT_FOUND);
        let theirs: Value = lee.get(url("/bookOrders?memberId=kim")).send().await.unwrap().json().await.unwrap();
        assert_eq!(theirs["items"], json!([]));
        let page: Value = kim.get(url("/mypages/kim")).send().await.unwrap().json().await.unwrap();
        assert_eq!(page["bookOrders"][0]["orderId"], order_id.as_str());
        assert_eq!((page["membership"]["memberId"].as_str(), page["membership"]["grade"].as_str()), (Some("kim"), Some("BRONZE")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_worker_stopped_in_the_middle_of_a_fan_out_tells_each_member_once() {
    let app = TestApp::spawn(crate::support::Store::Postgres).await;
    let app = &app;
    stream::iter(0..500)
        .for_each_concurrent(
            32,
            |i| async move { join(app, &format!("member-{i:03}")).await },
        )
        .await;
    app.settle().await;
    register(app, "수레바퀴 아래서", 10_000, 1).await;
    let sent = "SELECT count(*) FROM events WHERE event_type = 'NotificationSent' AND $1 = $1";
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(app.policies().await.run(stopped));
    while app.scalar(sent, "").await < 50 {
        tokio::task::yield_now().await;
    }
    worker.abort();
    let _ = worker.await;
    drop(stop);
    let told = app.scalar(sent, "").await;
    assert!(
        told < 500,
        "the worker was stopped in the middle: {told} sent"
    );
    let everyone = told_everyone(app).await;
    assert_eq!(everyone.len(), 500);
    assert!(
        everyone.iter().all(|(_, times)| *times == 1),
        "each member once"
    );
}

/// How often each member was told of the new book, by the events themselves.
async fn told_everyone(app: &TestApp) -> Vec<(String, i64)> {
    app.settle().await;
    let mut counts = std::collections::BTreeMap::<String, i64>::new();
    let page = app.get("/notifications?limit=500").await;
    let mut items: Vec<Value> = page.body["items"].as_array().expect("items").clone();
    let mut next = page.body["next"].as_str().map(str::to_owned);
    while let Some(cursor) = next {
        let more = app
            .get(&format!("/notifications?limit=500&after={cursor}"))
            .await;
        items.extend(
            more.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .cloned(),
        );
        next = more.body["next"].as_str().map(str::to_owned);
    }
    for item in items {
        *counts
            .entry(item["userId"].as_str().expect("a user").to_string())
            .or_default() += 1;
    }
    counts.into_iter().collect()
}

/// "Before" is the order the policy reads the log in: a member whose join began before
/// a book's registration, and committed after it at a higher position, is read first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_whose_join_is_read_before_a_new_book_is_told_of_it_whatever_its_position() {
    use sqlx::Connection;

    let app = TestApp::spawn(crate::support::Store::Postgres).await;
    let url = app.database_url().expect("a PostgreSQL database");
    let mut joining = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut joining).await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut joining)
        .await
        .unwrap();
    register(&app, "싯다르타", 9_000, 1).await;
    let joined = json!({"MemberJoined": {"memberId": "late", "name": "Late", "joinedAt": "2026-12-05T00:00:00Z"}});
    sqlx::query(
        "INSERT INTO events
            (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('Member', $1, 1, 'MemberJoined', '1.0', $2, '{}')",
    )
    .bind(member_stream("late").to_string())
    .bind(joined)
    .execute(&mut joining)
    .await
    .unwrap();
    sqlx::query("COMMIT").execute(&mut joining).await.unwrap();
    assert_eq!(told(&app, "new book: 싯다르타").await, ["late"]);
}
