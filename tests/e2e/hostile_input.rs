//! Bad input at scale: thousands of generated malformed or hostile bodies, paths, query
//! strings and headers sent to every endpoint. The server must answer each with a JSON
//! error or a success — never a 5xx, never a dropped connection.

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::support::{on_both_stores, with_token};

/// Requests per store.
const REQUESTS: usize = 10_000;

/// A small deterministic generator (xorshift64*): the same seed, the same requests
/// (but for the fresh UUIDs some of them carry).
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const NASTY_TEXT: &[&str] = &[
    "",
    " ",
    "null",
    "-1",
    "0",
    "9223372036854775808",
    "1e309",
    "NaN",
    "컴퓨터",
    "🦀🦀",
    "'; DROP TABLE events; --",
    "../../etc/passwd",
    "%00",
    "\u{0}",
    "\u{202e}abc",
    "CARD",
    "card",
    "2026-12-01T09:00:00Z",
    "2026-13-45T99:00:00Z",
    "true",
    "[]",
    "{}",
];

fn text(dice: &mut Dice) -> String {
    match dice.below(4) {
        0 => "x".repeat(dice.below(300)),
        1 => Uuid::now_v7().to_string(),
        _ => dice.pick(NASTY_TEXT).to_string(),
    }
}

/// Any JSON value, nested at most `depth` deep.
fn value(dice: &mut Dice, depth: usize) -> Value {
    match dice.below(if depth == 0 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(dice.below(2) == 0),
        2 => json!(dice.next() as i64),
        3 => json!(if dice.below(2) == 0 { 1.5e300 } else { -0.0 }),
        4 => json!(text(dice)),
        5 => Value::Array((0..dice.below(4)).map(|_| value(dice, depth - 1)).collect()),
        _ => Value::Object(
            (0..dice.below(5))
                .map(|_| (text(dice), value(dice, depth - 1)))
                .collect::<Map<_, _>>(),
        ),
    }
}

/// A body shaped like a real command with some fields replaced by anything.
fn almost_valid(dice: &mut Dice) -> Value {
    let mut body = match dice.below(3) {
        0 => json!({"customerId": "c", "product": "p", "qty": 1, "price": 10, "payMethod": "CARD"}),
        1 => {
            json!({"roomId": 5, "useStartDtm": "2026-12-01T09:00:00Z", "useEndDtm": "2026-12-01T10:00:00Z", "bookingUserId": "u"})
        }
        _ => json!({"managerId": "m", "reason": "r"}),
    };
    let fields: Vec<String> = body.as_object().unwrap().keys().cloned().collect();
    for _ in 0..=dice.below(2) {
        let field = dice.pick(&fields).clone();
        body[field] = value(dice, 2);
    }
    body
}

fn body(dice: &mut Dice) -> Vec<u8> {
    match dice.below(6) {
        0 => Vec::new(),
        1 => vec![0xff, 0xfe, b'{', 0x00, 0xc3],
        2 => b"{\"customerId\": \"c\", \"qty\": ".to_vec(),
        3 => format!("[{}]", "1,".repeat(40_000)).into_bytes(),
        4 => value(dice, 3).to_string().into_bytes(),
        _ => almost_valid(dice).to_string().into_bytes(),
    }
}

fn id(dice: &mut Dice) -> String {
    match dice.below(5) {
        0 => Uuid::now_v7().to_string(),
        1 => "%F0%9F%A6%80".to_string(),
        2 => "a".repeat(dice.below(3000)),
        3 => "%2e%2e%2f%00".to_string(),
        _ => urlencode(&text(dice)),
    }
}

fn urlencode(raw: &str) -> String {
    raw.bytes().map(|b| format!("%{b:02X}")).collect()
}

fn query(dice: &mut Dice) -> String {
    let keys = [
        "limit",
        "after",
        "customerId",
        "status",
        "roomId",
        "userId",
        "confirmStatus",
        "minPosition",
    ];
    let values = [
        "-1",
        "0",
        "501",
        "abc",
        "%FF",
        "99999999999999999999",
        "PLACED",
        "BOOKED",
        "",
        "==",
    ];
    // A position ahead of the views would only wait out its bound (a 503 by design):
    // minPosition gets values that are malformed or already applied.
    let positions = ["-1", "0", "abc", "%FF", "99999999999999999999", "", "=="];
    (0..dice.below(4))
        .map(|_| match *dice.pick(&keys[..]) {
            "minPosition" => format!("minPosition={}", dice.pick(&positions)),
            key => format!("{key}={}", dice.pick(&values)),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn request(dice: &mut Dice) -> (Method, String) {
    let id = id(dice);
    let (method, path) = match dice.below(17) {
        0 => (Method::POST, "/orders".to_string()),
        1 => (Method::POST, format!("/orders/{id}/cancel")),
        2 => (Method::POST, format!("/deliveries/{id}/cancel")),
        3 => (Method::POST, "/bookings".to_string()),
        4 => (Method::POST, format!("/bookings/{id}/cancel")),
        5 => (Method::POST, format!("/confirms/{id}/complete")),
        6 => (Method::POST, format!("/confirms/{id}/deny")),
        7 => (Method::GET, "/orderLists".to_string()),
        8 => (Method::GET, format!("/orderLists/{id}")),
        9 => (Method::GET, format!("/mypages/{id}")),
        10 => (Method::GET, "/bookingLists".to_string()),
        11 => (Method::GET, format!("/bookingLists/{id}")),
        12 => (Method::GET, "/notifications".to_string()),
        13 => (
            Method::GET,
            format!(
                "/admin/streams/{}/{id}",
                dice.pick(&["Order", "Nope", "%00"])
            ),
        ),
        14 => (Method::POST, format!("/admin/projections/{id}/rebuild")),
        15 => (
            dice.pick(&[Method::PUT, Method::DELETE, Method::PATCH])
                .clone(),
            "/orders".to_string(),
        ),
        _ => (Method::GET, format!("/{id}")),
    };
    (method, format!("{path}?{}", query(dice)))
}

fn headers(dice: &mut Dice) -> Vec<(HeaderName, HeaderValue)> {
    let names = [
        "idempotency-key",
        "x-correlation-id",
        "x-min-position",
        "if-none-match",
        "content-type",
        "authorization",
    ];
    let values: [&[u8]; 11] = [
        b"",
        b" ",
        b"\xff\xfe",
        b"application/json",
        b"text/plain",
        b"-5",
        b"\"1\"",
        b"0",
        b"Bearer ",
        b"Bearer a.b.c",
        b"Basic YWRtaW46YWRtaW4=",
    ];
    let long = "k".repeat(300);
    (0..dice.below(4))
        .map(|_| {
            let name = HeaderName::from_static(dice.pick::<&'static str>(&names));
            let value = match dice.below(5) {
                0 => HeaderValue::from_str(&long).unwrap(),
                _ => HeaderValue::from_bytes(dice.pick::<&[u8]>(&values)).unwrap(),
            };
            (name, value)
        })
        .collect()
}

on_both_stores! {
    async fn ten_thousand_hostile_requests_get_json_answers_and_never_a_5xx(app: TestApp) {
        let mut dice = Dice(0x5eed_cafe_f00d_beef);
        // A connection per request: an answer that leaves a body unread ends its
        // connection, and a reused one would fail the next request for that alone.
        let admin = app.token(auth::Role::Admin, "admin");
        let builder = reqwest::Client::builder().pool_max_idle_per_host(0);
        let client = with_token(builder, &admin).build().unwrap();
        for n in 0..REQUESTS {
            let (method, path) = request(&mut dice);
            let body = body(&mut dice);
            let mut request = client.request(method.clone(), format!("{}{path}", app.address)).body(body);
            if dice.below(2) == 0 {
                request = request.header("content-type", "application/json");
            }
            for (name, value) in headers(&mut dice) {
                request = request.header(name, value);
            }
            let response = request.send().await.unwrap_or_else(|error| panic!("request {n} {method}: {error:?}"));
            let status = response.status();
            let html = response
                .headers()
                .get("content-type")
                .is_some_and(|kind| kind.as_bytes().starts_with(b"text/html"));
            let bytes = response.bytes().await.expect("a whole body");
            if html {
                // Only the web page answers HTML, whatever the query.
                assert!(path.starts_with("/?") && status == StatusCode::OK, "request {n} {method} {path}: {status} in HTML");
                continue;
            }
            assert!(!status.is_server_error(), "request {n} {method} {path} answered {status}: {}", String::from_utf8_lossy(&bytes));
            if status.is_client_error() {
                let error: Value = serde_json::from_slice(&bytes)
                    .unwrap_or_else(|_| panic!("request {n} {method} {path}: {status} without JSON: {}", String::from_utf8_lossy(&bytes)));
                assert!(error["error"].is_string(), "request {n}: {error}");
            } else if status != StatusCode::NOT_MODIFIED && !bytes.is_empty() {
                serde_json::from_slice::<Value>(&bytes)
                    .unwrap_or_else(|_| panic!("request {n} {method} {path}: {status} without JSON"));
            }
        }
        let live = app.get("/health/live").await;
        assert_eq!(live.status, StatusCode::OK);
    }
}

on_both_stores! {
    async fn a_nul_anywhere_in_an_idempotent_command_is_refused_not_a_500(app: TestApp) {
        let body = json!({"customerId": "c", "product": "pen", "qty": 1, "price": 10,
                          "payMethod": "CARD", "note": "a\u{0}b"});
        let reply = app.post_with("/orders", body, &[("Idempotency-Key", "nul-1")]).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", reply.body);
        assert_eq!(reply.body["field"], "note");
        assert_eq!(app.count_events().await, 0);
    }
}
