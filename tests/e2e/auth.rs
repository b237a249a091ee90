//! Auth as SPEC §4 gives it: bearer JWTs, roles, and customers confined to their own
//! resources. The matrix sends every endpoint a request from every kind of caller.

use std::time::{Duration, SystemTime};

use auth::{Role, Tokens};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::support::{on_both_stores, TestApp};

/// Who sends a request.
#[derive(Debug, Clone, Copy)]
enum Caller {
    NoToken,
    Expired,
    WrongSignature,
    /// Alice, a customer, who owns the resources the requests name.
    Owner,
    /// Bob, another customer.
    OtherCustomer,
    Manager,
    /// Hana, a host, whose room Alice stays in: outside the hotel, a customer with
    /// nothing of her own.
    Host,
    Admin,
}

const CALLERS: [Caller; 8] = [
    Caller::NoToken,
    Caller::Expired,
    Caller::WrongSignature,
    Caller::Owner,
    Caller::OtherCustomer,
    Caller::Manager,
    Caller::Host,
    Caller::Admin,
];

const OWNER: &str = "alice";
const OTHER: &str = "bob";
const HOST: &str = "hana";

impl Caller {
    fn token(self, app: &TestApp) -> Option<String> {
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        match self {
            Self::NoToken => None,
            Self::Expired => Some(app.tokens.issue_until(OWNER, Role::Customer, hour_ago)),
            Self::WrongSignature => {
                let forged = Tokens::generated();
                Some(forged.issue("admin", Role::Admin, Duration::from_secs(3600)))
            }
            Self::Owner => Some(app.token(Role::Customer, OWNER)),
            Self::OtherCustomer => Some(app.token(Role::Customer, OTHER)),
            Self::Manager => Some(app.token(Role::Manager, "manager-1")),
            Self::Host => Some(app.token(Role::Host, HOST)),
            Self::Admin => Some(app.token(Role::Admin, "admin")),
        }
    }
}

/// Resources of Alice's, fresh for each request of the matrix (made by an admin).
struct Fixture {
    order: Uuid,
    delivery: Uuid,
    booking: Uuid,
    confirm: Uuid,
    room: i64,
    book: Uuid,
    book_order: Uuid,
    hotel_room: Uuid,
    stay: Uuid,
    car: Uuid,
    car_order: Uuid,
    mission: Uuid,
    reward: Uuid,
}

async fn fixture(app: &TestApp, room: i64) -> Fixture {
    let order = app.place_order(OWNER, 1, 10).await.id("orderId");
    let delivery = app.start_delivery(order).await;
    let booking = app
        .post(
            "/bookings",
            booking_body(room, "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z"),
        )
        .await
        .id("bookingId");
    let confirm = app.request_confirm(booking).await;
    let book = app
        .post(
            "/books",
            json!({"title": "t", "author": "a", "price": 10, "stock": 10}),
        )
        .await
        .id("bookId");
    // Alice joins once; her later fixtures find her a member.
    app.post("/members", json!({"memberId": OWNER, "name": "Alice"}))
        .await;
    let book_order = app
        .post("/bookOrders", book_order_body(book))
        .await
        .id("orderId");
    let hotel_room = app
        .post(
            "/hotelRooms",
            json!({"name": "Ocean", "price": 100, "hostId": HOST}),
        )
        .await
        .id("roomId");
    let stay = app
        .post("/hotelBookings", stay_body(hotel_room, 10))
        .await
        .id("bookingId");
    let car = app
        .post("/cars", json!({"name": "Ioniq", "pricePerHour": 100}))
        .await
        .id("carId");
    let car_order = app
        .post("/carOrders", car_order_body(car, 10))
        .await
        .id("orderId");
    let mission = app
        .post(
            "/missions",
            json!({"customerId": OWNER, "missionCode": order.to_string()}),
        )
        .await
        .id("missionId");
    Fixture {
        order,
        delivery,
        booking,
        confirm,
        room,
        book,
        book_order,
        hotel_room,
        stay,
        car,
        car_order,
        mission,
        reward: domain::game::reward::reward_id(mission),
    }
}

/// Alice's stay in `room` of the two nights from `days_ahead` days ahead.
fn stay_body(room: Uuid, days_ahead: u64) -> Value {
    let first_night = chrono::Utc::now().date_naive() + chrono::Days::new(days_ahead);
    let check_out = first_night + chrono::Days::new(2);
    json!({"roomId": room, "guestId": OWNER, "startDate": first_night, "endDate": check_out, "payMethod": "CARD"})
}

/// Alice's use of `car` for two hours, `days_ahead` days ahead.
fn car_order_body(car: Uuid, days_ahead: i64) -> Value {
    let start = chrono::Utc::now() + chrono::TimeDelta::days(days_ahead);
    let end = start + chrono::TimeDelta::hours(2);
    json!({"carId": car, "userId": OWNER, "startDtm": start, "endDtm": end, "payMethod": "CARD"})
}

fn book_order_body(book: Uuid) -> Value {
    json!({"memberId": OWNER, "bookId": book, "qty": 1})
}

fn booking_body(room: i64, start: &str, end: &str) -> Value {
    json!({"roomId": room, "useStartDtm": start, "useEndDtm": end, "bookingUserId": OWNER})
}

/// An endpoint and the status each caller gets, in the order of [`CALLERS`].
struct Endpoint {
    method: Method,
    path: fn(&Fixture) -> String,
    body: fn(&Fixture) -> Value,
    expected: [u16; 8],
}

fn no_body(_: &Fixture) -> Value {
    Value::Null
}

/// The statuses of callers without a valid token (401) before the others'.
const fn after_401s(owner: u16, other: u16, manager: u16, host: u16, admin: u16) -> [u16; 8] {
    [401, 401, 401, owner, other, manager, host, admin]
}

/// Outside the hotel a host is a customer with nothing of their own: answered as the
/// other customer is.
const fn as_customers(owner: u16, other: u16, manager: u16, admin: u16) -> [u16; 8] {
    after_401s(owner, other, manager, other, admin)
}

fn endpoints() -> Vec<Endpoint> {
    let get = |path: fn(&Fixture) -> String, expected| Endpoint {
        method: Method::GET,
        path,
        body: no_body,
        expected,
    };
    let post = |path: fn(&Fixture) -> String, body: fn(&Fixture) -> Value, expected| Endpoint {
        method: Method::POST,
        path,
        body,
        expected,
    };
    let open = [200; 8];
    vec![
        post(
            |_| "/orders".into(),
            |_| json!({"customerId": OWNER, "product": "pen", "qty": 1, "price": 5, "payMethod": "CARD"}),
            as_customers(201, 403, 403, 201),
        ),
        post(
            |f| format!("/orders/{}/cancel", f.order),
            no_body,
            as_customers(200, 404, 403, 200),
        ),
        post(
            |f| format!("/deliveries/{}/cancel", f.delivery),
            no_body,
            as_customers(403, 403, 200, 200),
        ),
        post(
            |_| "/bookings".into(),
            |f| booking_body(f.room, "2026-12-02T09:00:00Z", "2026-12-02T10:00:00Z"),
            as_customers(201, 403, 403, 201),
        ),
        post(
            |f| format!("/bookings/{}/cancel", f.booking),
            no_body,
            as_customers(200, 404, 403, 200),
        ),
        post(
            |f| format!("/confirms/{}/complete", f.confirm),
            no_body,
            as_customers(403, 403, 200, 200),
        ),
        post(
            |f| format!("/confirms/{}/deny", f.confirm),
            no_body,
            as_customers(403, 403, 200, 200),
        ),
        get(|_| "/orderLists".into(), as_customers(200, 200, 200, 200)),
        get(
            |f| format!("/orderLists/{}", f.order),
            as_customers(200, 404, 200, 200),
        ),
        get(|_| "/bookingLists".into(), as_customers(200, 200, 200, 200)),
        get(
            |f| format!("/bookingLists/{}", f.booking),
            as_customers(200, 404, 200, 200),
        ),
        get(
            |_| format!("/mypages/{OWNER}"),
            as_customers(200, 404, 200, 200),
        ),
        get(
            |_| format!("/mypages/{OWNER}/changes"),
            as_customers(200, 404, 200, 200),
        ),
        get(
            |_| format!("/notifications?userId={OWNER}"),
            as_customers(200, 200, 200, 200),
        ),
        post(
            |_| "/books".into(),
            |_| json!({"title": "t", "author": "a", "price": 10, "stock": 1}),
            as_customers(403, 403, 201, 201),
        ),
        post(
            |f| format!("/books/{}/stock", f.book),
            |_| json!({"qty": 1}),
            as_customers(403, 403, 200, 200),
        ),
        // Alice is a member already: she and an admin are told so; Bob may not join as her.
        post(
            |_| "/members".into(),
            |_| json!({"memberId": OWNER, "name": "Alice"}),
            as_customers(409, 403, 403, 409),
        ),
        post(
            |_| "/bookOrders".into(),
            |f| book_order_body(f.book),
            as_customers(201, 403, 403, 201),
        ),
        post(
            |f| format!("/bookOrders/{}/cancel", f.book_order),
            no_body,
            as_customers(200, 404, 403, 200),
        ),
        get(|_| "/books".into(), as_customers(200, 200, 200, 200)),
        get(
            |f| format!("/books/{}", f.book),
            as_customers(200, 200, 200, 200),
        ),
        get(|_| "/bookOrders".into(), as_customers(200, 200, 200, 200)),
        get(
            |f| format!("/bookOrders/{}", f.book_order),
            as_customers(200, 404, 200, 200),
        ),
        get(|_| "/members".into(), as_customers(200, 200, 200, 200)),
        get(
            |_| format!("/members/{OWNER}"),
            as_customers(200, 404, 200, 200),
        ),
        get(
            |f| format!("/admin/streams/Book/{}", f.book),
            as_customers(403, 403, 403, 200),
        ),
        get(
            |_| "/admin/projections".into(),
            as_customers(403, 403, 403, 200),
        ),
        get(
            |_| "/admin/projections/changes".into(),
            as_customers(403, 403, 403, 200),
        ),
        post(
            |_| "/admin/projections/orderList/rebuild".into(),
            no_body,
            as_customers(403, 403, 403, 202),
        ),
        get(
            |f| format!("/admin/streams/Order/{}", f.order),
            as_customers(403, 403, 403, 200),
        ),
        post(
            |_| "/hotelRooms".into(),
            |_| json!({"name": "Garden", "price": 100, "hostId": HOST}),
            after_401s(403, 403, 403, 201, 201),
        ),
        post(
            |f| format!("/hotelRooms/{}/delete", f.hotel_room),
            no_body,
            after_401s(403, 403, 403, 200, 200),
        ),
        post(
            |_| "/hotelBookings".into(),
            |f| stay_body(f.hotel_room, 20),
            after_401s(201, 403, 403, 403, 201),
        ),
        post(
            |f| format!("/hotelBookings/{}/cancel", f.stay),
            no_body,
            after_401s(200, 404, 403, 200, 200),
        ),
        get(
            |_| "/hotelRooms".into(),
            after_401s(200, 200, 200, 200, 200),
        ),
        get(
            |f| format!("/hotelRooms/{}", f.hotel_room),
            after_401s(200, 200, 200, 200, 200),
        ),
        get(
            |_| "/hotelBookings".into(),
            after_401s(200, 200, 200, 200, 200),
        ),
        get(
            |f| format!("/hotelBookings/{}", f.stay),
            after_401s(200, 404, 200, 200, 200),
        ),
        get(
            |_| format!("/mypages/{HOST}"),
            after_401s(404, 404, 200, 200, 200),
        ),
        post(
            |_| "/cars".into(),
            |_| json!({"name": "Kona", "pricePerHour": 100}),
            as_customers(403, 403, 201, 201),
        ),
        post(
            |_| "/carOrders".into(),
            |f| car_order_body(f.car, 20),
            as_customers(201, 403, 403, 201),
        ),
        post(
            |f| format!("/carOrders/{}/cancel", f.car_order),
            no_body,
            as_customers(200, 404, 403, 200),
        ),
        get(|_| "/cars".into(), as_customers(200, 200, 200, 200)),
        get(
            |f| format!("/cars/{}", f.car),
            as_customers(200, 200, 200, 200),
        ),
        get(|_| "/carOrders".into(), as_customers(200, 200, 200, 200)),
        get(
            |f| format!("/carOrders/{}", f.car_order),
            as_customers(200, 404, 200, 200),
        ),
        get(
            |f| format!("/admin/streams/HotelRoom/{}", f.hotel_room),
            as_customers(403, 403, 403, 200),
        ),
        post(
            |_| "/missions".into(),
            |f| json!({"customerId": OWNER, "missionCode": format!("{}-again", f.order)}),
            as_customers(201, 403, 201, 201),
        ),
        // No gift service is configured here: the reward's own may get as far as the call.
        post(
            |f| format!("/rewards/{}/exchange", f.reward),
            |_| json!({"productCode": "COFFEE-1"}),
            as_customers(503, 404, 403, 503),
        ),
        get(|_| "/missions".into(), as_customers(200, 200, 200, 200)),
        get(
            |f| format!("/missions/{}", f.mission),
            as_customers(200, 404, 200, 200),
        ),
        get(|_| "/rewards".into(), as_customers(200, 200, 200, 200)),
        get(
            |f| format!("/rewards/{}", f.reward),
            as_customers(200, 404, 200, 200),
        ),
        get(
            |_| "/admin/outbound".into(),
            as_customers(403, 403, 403, 200),
        ),
        get(|_| "/health/live".into(), open),
        get(|_| "/health/ready".into(), open),
        get(|_| "/metrics".into(), open),
        get(|_| "/openapi.json".into(), open),
    ]
}

/// Sends one request with `token` (and no other credentials); the status and body.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Value,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", app.address));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if !body.is_null() {
        request = request.json(&body);
    }
    let response = request.send().await.expect("an answer");
    let status = response.status();
    if crate::support::is_event_stream(&response) {
        // A live stream never ends: its status is the answer.
        return (status, Value::Null);
    }
    let text = response.text().await.expect("a body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

on_both_stores! {
    async fn every_endpoint_answers_each_kind_of_caller_as_the_spec_says(app: TestApp) {
        let endpoints = endpoints();
        let mut fixtures = Vec::new();
        for room in 0..(endpoints.len() * CALLERS.len()) as i64 {
            fixtures.push(fixture(&app, 1000 + room).await);
        }
        // Each mission's reward lands in Alice's wallet.
        let rewards = app.backend.policies(&["game"], std::sync::Arc::new(policies::NotificationSink::log())).await;
        rewards.catch_up_all().await.expect("rewards issued");
        app.projector().await.catch_up_all().await.expect("views caught up");
        let mut fixtures = fixtures.iter();
        let mut wrong = Vec::new();
        for endpoint in &endpoints {
            for (caller, expected) in CALLERS.iter().zip(endpoint.expected) {
                let fixture = fixtures.next().expect("a fixture per request");
                let path = (endpoint.path)(fixture);
                let token = caller.token(&app);
                let (status, body) = send(&app, endpoint.method.clone(), &path, (endpoint.body)(fixture), token.as_deref()).await;
                if status.as_u16() != expected {
                    wrong.push(format!("{} {path} as {caller:?}: {status}, expected {expected}: {body}", endpoint.method));
                }
                if status.is_client_error() {
                    assert!(body["error"].is_string() && body["message"].is_string(), "{path} as {caller:?}: {body}");
                }
            }
        }
        assert!(wrong.is_empty(), "{} answers differ from the spec:\n{}", wrong.len(), wrong.join("\n"));
    }

    async fn a_refused_token_gets_401_with_a_code_and_a_bearer_challenge(app: TestApp) {
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        let cases = [
            (None, "unauthorized", "Bearer"),
            (Some(app.tokens.issue_until(OWNER, Role::Customer, hour_ago)), "token_expired", "Bearer error=\"invalid_token\""),
            (Some(Tokens::generated().issue(OWNER, Role::Customer, Duration::from_secs(60))), "invalid_token", "Bearer error=\"invalid_token\""),
            (Some("not-a-jwt".to_string()), "invalid_token", "Bearer error=\"invalid_token\""),
        ];
        for (token, code, challenge) in cases {
            let mut request = reqwest::Client::new().get(format!("{}/orderLists", app.address));
            if let Some(token) = &token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.expect("an answer");
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            let header = response.headers()["www-authenticate"].to_str().unwrap().to_string();
            assert_eq!(header, challenge);
            let body: Value = response.json().await.expect("JSON");
            assert_eq!(body["error"], code, "{body}");
        }
        let basic = reqwest::Client::new().get(format!("{}/orderLists", app.address))
            .basic_auth("admin", Some("admin")).send().await.expect("an answer");
        assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    }

    async fn a_customers_lists_hold_only_their_own_rows_whatever_the_filters(app: TestApp) {
        let alices = app.place_order(OWNER, 1, 10).await.id("orderId");
        let bobs = app.place_order(OTHER, 1, 10).await.id("orderId");
        let alices_booking = app.post("/bookings", booking_body(1, "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z")).await.id("bookingId");
        app.send_notification(OWNER, "for alice", "2026-12-01T09:00:00Z").await;
        app.send_notification(OTHER, "for bob", "2026-12-01T09:00:00Z").await;
        app.projector().await.catch_up_all().await.expect("views caught up");
        let (alice, bob) = (app.token(Role::Customer, OWNER), app.token(Role::Customer, OTHER));
        let manager = app.token(Role::Manager, "manager-1");
        let count = |body: &Value| body["items"].as_array().expect("items").len();
        for (path, alice_sees, bob_sees, manager_sees) in [
            ("/orderLists".to_string(), 1, 1, 2),
            (format!("/orderLists?customerId={OWNER}"), 1, 0, 1),
            ("/bookingLists".to_string(), 1, 0, 1),
            (format!("/bookingLists?userId={OWNER}"), 1, 0, 1),
            ("/notifications".to_string(), 1, 1, 2),
            (format!("/notifications?userId={OTHER}"), 0, 1, 1),
        ] {
            for (token, expected) in [(&alice, alice_sees), (&bob, bob_sees), (&manager, manager_sees)] {
                let (status, body) = send(&app, Method::GET, &path, Value::Null, Some(token)).await;
                assert_eq!(status, StatusCode::OK, "{path}: {body}");
                assert_eq!(count(&body), expected, "{path}: {body}");
            }
        }
        let (_, alices_list) = send(&app, Method::GET, "/orderLists", Value::Null, Some(&alice)).await;
        assert_eq!(alices_list["items"][0]["orderId"], alices.to_string());
        let (_, bobs_list) = send(&app, Method::GET, "/orderLists", Value::Null, Some(&bob)).await;
        assert_eq!(bobs_list["items"][0]["orderId"], bobs.to_string());
        let (_, page) = send(&app, Method::GET, &format!("/mypages/{OWNER}"), Value::Null, Some(&alice)).await;
        assert_eq!(page["bookings"][0]["bookingId"], alices_booking.to_string(), "{page}");
    }

    async fn an_idempotency_key_answers_only_the_caller_who_used_it(app: TestApp) {
        let order = app.place_order(OWNER, 1, 10).await.id("orderId");
        let (alice, bob) = (app.token(Role::Customer, OWNER), app.token(Role::Customer, OTHER));
        let path = format!("/orders/{order}/cancel");
        let cancel = |token: String| {
            let request = reqwest::Client::new().post(format!("{}{path}", app.address));
            async move { request.bearer_auth(token).header("Idempotency-Key", "same-key").send().await.expect("an answer").status() }
        };
        assert_eq!(cancel(alice.clone()).await, StatusCode::OK);
        assert_eq!(cancel(bob).await, StatusCode::NOT_FOUND, "Bob is not answered with Alice's result");
        assert_eq!(cancel(alice).await, StatusCode::OK, "Alice's retry is");
        assert_eq!(app.event_types("Order", order).await, ["OrderPlaced", "OrderCancelled"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_without_a_secret_prints_a_working_token_per_role_and_is_never_open() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    use crate::processes::{command, eventually, free_port, Processes};
    use crate::support::{with_token, Store};

    let app = TestApp::spawn(Store::Postgres).await;
    let port = free_port().await;
    let mut serve = command(&app.database_url().expect("PostgreSQL"), "serve", port)
        .env_remove("STRATA_JWT_SECRET")
        .stdout(Stdio::piped())
        .spawn()
        .expect("strata started");
    let printed = BufReader::new(serve.stdout.take().expect("stdout"));
    let _processes = Processes(vec![serve]);
    let tokens: Vec<(String, String)> = printed
        .lines()
        .map(|line| line.expect("a line"))
        .filter_map(|line| {
            let (role, token) = line.trim().split_once(" (sub ")?;
            let token = token.split_once("): ")?.1;
            Some((role.trim().to_string(), token.to_string()))
        })
        .take(4)
        .collect();
    let roles: Vec<_> = tokens.iter().map(|(role, _)| role.as_str()).collect();
    assert_eq!(roles, ["customer", "manager", "host", "admin"]);
    let base = format!("http://127.0.0.1:{port}");
    let anonymous = reqwest::Client::new();
    eventually(&anonymous, &format!("{base}/health/ready"), |s, _| {
        s == StatusCode::OK
    })
    .await;
    let status = |client: reqwest::Client, path: &'static str| {
        let url = format!("{base}{path}");
        async move { client.get(url).send().await.expect("an answer").status() }
    };
    let as_role = |n: usize| {
        with_token(reqwest::Client::builder(), &tokens[n].1)
            .build()
            .unwrap()
    };
    assert_eq!(
        status(anonymous.clone(), "/orderLists").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(as_role(0), "/mypages/customer-1").await,
        StatusCode::OK
    );
    assert_eq!(
        status(as_role(1), "/admin/projections").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(status(as_role(2), "/mypages/host-1").await, StatusCode::OK);
    assert_eq!(
        status(as_role(3), "/admin/projections").await,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_mode_apis_refuse_to_start_without_a_long_enough_secret_and_never_echo_it() {
    use crate::processes::{command, free_port};
    use crate::support::Store;

    let app = TestApp::spawn(Store::Postgres).await;
    let url = app.database_url().expect("PostgreSQL");
    let short = "a-short-secret-value";
    for role in ["command-api", "read-api"] {
        for secret in [None, Some(short)] {
            let mut process = command(&url, role, free_port().await);
            match secret {
                Some(secret) => process.env("STRATA_JWT_SECRET", secret),
                None => process.env_remove("STRATA_JWT_SECRET"),
            };
            let output = process
                .stderr(std::process::Stdio::piped())
                .output()
                .expect("strata ran");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{role} started with {secret:?}");
            assert!(stderr.contains("STRATA_JWT_SECRET"), "{stderr}");
            assert!(
                !stderr.contains(short),
                "the secret is never echoed: {stderr}"
            );
        }
    }
}
