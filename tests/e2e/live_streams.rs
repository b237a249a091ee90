//! The live streams (Server-Sent Events): `GET /mypages/{id}/changes` tells a user which
//! sections of their page changed, resumes after `Last-Event-ID`, and keeps to the
//! reads' ownership; `GET /admin/projections/changes` follows where each view stands.
//! Across processes: the bound (`STRATA_MAX_STREAMS`), SIGTERM, and a read API whose
//! streams follow the views a projector process writes.

use std::time::Duration;

use auth::Role;
use read_api::live;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::processes::{
    admin_client, client_as, eventually, free_port, start, start_with, terminate, Processes,
};
use crate::support::{on_both_stores, with_token, Store, TestApp};

/// One event of a stream: its name, id and data (comments and `retry` are skipped).
#[derive(Debug)]
struct StreamEvent {
    event: String,
    id: Option<String>,
    data: Value,
}

/// A stream being read, block by block.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// Opens `url` and reads up to the stream's `: ready`.
    async fn open(client: &reqwest::Client, url: &str, last_event_id: Option<&str>) -> Self {
        let mut request = client.get(url);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.expect("an answer");
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        assert!(
            crate::support::is_event_stream(&response),
            "{url} is a live stream"
        );
        let mut stream = Self {
            response,
            buffer: String::new(),
        };
        let first = stream.block(Duration::from_secs(5)).await;
        assert!(first.is_some_and(|block| block.contains(": ready")));
        stream
    }

    /// Opens `url` resuming after the event `id`.
    async fn open_after(client: &reqwest::Client, url: &str, id: &str) -> Self {
        Self::open(client, url, Some(id)).await
    }

    /// The next block (up to a blank line) within `within`; `None` when none came or
    /// the stream ended.
    async fn block(&mut self, within: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block = self.buffer[..end].to_string();
                self.buffer.drain(..end + 2);
                return Some(block);
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// The next event within `within`.
    async fn next(&mut self, within: Duration) -> Option<StreamEvent> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let block = self.block(left).await?;
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|line| line.strip_prefix(&format!("{name}: ")))
                    .map(str::to_string)
            };
            if let Some(event) = field("event") {
                let data = field("data").map_or(Value::Null, |data| {
                    serde_json::from_str(&data).expect("JSON data")
                });
                let id = field("id");
                return Some(StreamEvent { event, id, data });
            }
        }
    }

    /// Whether the stream ended (the server closed it) within `within`.
    async fn ends_within(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(None)) | Ok(Err(_)) => return true,
                Ok(Ok(Some(_))) => continue,
                Err(_) => return false,
            }
        }
    }
}

const WAIT: Duration = Duration::from_secs(5);
/// How long a stream that should stay quiet is watched.
const QUIET: Duration = Duration::from_millis(700);

fn customer(app: &TestApp, subject: &str) -> reqwest::Client {
    with_token(
        reqwest::Client::builder(),
        &app.token(Role::Customer, subject),
    )
    .build()
    .expect("client")
}

fn changes_of(app: &TestApp, user: &str) -> String {
    format!("{}/mypages/{user}/changes", app.address)
}

on_both_stores! {
    async fn a_users_stream_names_the_section_that_changed_and_another_users_stays_quiet(
        app: TestApp
    ) {
        let mut kims = EventStream::open(&customer(&app, "kim"), &changes_of(&app, "kim"), None).await;
        let mut lees = EventStream::open(&customer(&app, "lee"), &changes_of(&app, "lee"), None).await;

        assert_eq!(app.place_order("kim", 1, 1000).await.status, 201);
        app.projector().await.catch_up_all().await.expect("caught up");

        let change = kims.next(WAIT).await.expect("kim is told");
        assert_eq!(change.event, "change");
        assert_eq!(change.data["sections"], json!(["orders"]));
        assert!(change.id.is_some(), "an id to resume from");
        assert!(lees.next(QUIET).await.is_none(), "lee's page did not change");
    }

    async fn a_stream_resumed_after_its_last_event_id_reports_what_changed_since(app: TestApp) {
        let kim = customer(&app, "kim");
        let mut first = EventStream::open(&kim, &changes_of(&app, "kim"), None).await;
        assert_eq!(app.place_order("kim", 1, 1000).await.status, 201);
        app.projector().await.catch_up_all().await.expect("caught up");
        let seen = first.next(WAIT).await.expect("the first order is told");
        drop(first);

        // While no stream is open: a second order, and a notification.
        assert_eq!(app.place_order("kim", 2, 1000).await.status, 201);
        app.send_notification("kim", "hello", "2026-12-06T10:00:00Z").await;
        app.projector().await.catch_up_all().await.expect("caught up");

        let id = seen.id.expect("an id");
        let mut resumed = EventStream::open_after(&kim, &changes_of(&app, "kim"), &id).await;
        let missed = resumed.next(WAIT).await.expect("what changed since is reported");
        assert_eq!(missed.event, "change");
        let sections = missed.data["sections"].as_array().unwrap();
        assert!(sections.contains(&json!("orders")), "{sections:?}");
        assert!(sections.contains(&json!("notifications")), "{sections:?}");

        // Resumed from the latest id, nothing is repeated.
        let latest = missed.id.expect("an id");
        let mut current = EventStream::open_after(&kim, &changes_of(&app, "kim"), &latest).await;
        assert!(current.next(QUIET).await.is_none(), "nothing changed after {latest}");
    }

    async fn one_user_keeps_at_most_eight_streams_open_and_others_still_get_theirs(app: TestApp) {
        let kim = customer(&app, "kim");
        let mut open = Vec::new();
        for _ in 0..live::STREAMS_PER_SUBJECT {
            open.push(EventStream::open(&kim, &changes_of(&app, "kim"), None).await);
        }
        let refused = kim.get(changes_of(&app, "kim")).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "too_many_streams");
        EventStream::open(&customer(&app, "lee"), &changes_of(&app, "lee"), None).await;
    }

    async fn another_customers_stream_is_not_found_and_a_bad_last_event_id_is_refused(
        app: TestApp
    ) {
        let kim = customer(&app, "kim");
        let others = kim.get(changes_of(&app, "lee")).send().await.unwrap();
        assert_eq!(others.status(), StatusCode::NOT_FOUND);
        let body: Value = others.json().await.unwrap();
        assert_eq!(body["error"], "mypage_not_found");

        let bad = kim
            .get(changes_of(&app, "kim"))
            .header("Last-Event-ID", "yesterday")
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = bad.json().await.unwrap();
        assert_eq!(body["field"], "Last-Event-ID");

        let anonymous = reqwest::get(changes_of(&app, "kim")).await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    }

    async fn the_operations_stream_sends_where_each_view_stands_and_again_when_it_moves(
        app: TestApp
    ) {
        let url = format!("{}/admin/projections/changes", app.address);
        let refused = customer(&app, "kim").get(&url).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);

        let mut stream = EventStream::open(&app.client, &url, None).await;
        // orderList as the event shows it, once its projector has started.
        let order_list = |event: &StreamEvent| {
            event.data["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|item| item["name"] == "orderList")
                .cloned()
        };
        let first = stream.next(WAIT).await.expect("where each stands, at once");
        assert_eq!(first.event, "projections");
        assert!(order_list(&first).is_none_or(|view| view["checkpoint"] == 0));

        assert_eq!(app.place_order("kim", 1, 1000).await.status, 201);
        app.projector().await.catch_up_all().await.expect("caught up");
        loop {
            let event = stream.next(WAIT).await.expect("the move is sent");
            let Some(view) = order_list(&event) else {
                continue;
            };
            if view["checkpoint"].as_i64().unwrap() > 0 {
                assert_eq!(view["lagEvents"], 0);
                break;
            }
        }
    }
}

/// `strata serve` on a fresh PostgreSQL database, ready, with `env`.
async fn serve(app: &TestApp, env: &[(&str, &str)]) -> (Processes, String) {
    let url = app.database_url().expect("a PostgreSQL database");
    let port = free_port().await;
    let processes = Processes(vec![start_with(&url, "serve", port, env)]);
    let base = format!("http://127.0.0.1:{port}");
    eventually(&admin_client(), &format!("{base}/health/ready"), |s, _| {
        s == StatusCode::OK
    })
    .await;
    (processes, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_bound_on_open_streams_a_new_one_is_refused_503_until_one_closes() {
    let app = TestApp::spawn(Store::Postgres).await;
    let (_processes, base) = serve(&app, &[("STRATA_MAX_STREAMS", "2")]).await;
    let kim = client_as(Role::Customer, "kim");
    let url = format!("{base}/mypages/kim/changes");
    let first = EventStream::open(&kim, &url, None).await;
    let _second = EventStream::open(
        &admin_client(),
        &format!("{base}/admin/projections/changes"),
        None,
    )
    .await;

    let refused = kim.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "too_many_streams");

    drop(first);
    eventually(&kim, &format!("{base}/mypages/kim"), |s, _| {
        s == StatusCode::OK
    })
    .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let again = kim.get(&url).send().await.unwrap();
        if again.status() == StatusCode::OK {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the closed stream's place was not freed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_sigterm_open_streams_end_and_the_process_exits_long_before_the_grace() {
    let app = TestApp::spawn(Store::Postgres).await;
    let (mut processes, base) = serve(&app, &[("STRATA_SHUTDOWN_GRACE_MS", "60000")]).await;
    let kim = client_as(Role::Customer, "kim");
    let mut mypage = EventStream::open(&kim, &format!("{base}/mypages/kim/changes"), None).await;
    let mut operations = EventStream::open(
        &admin_client(),
        &format!("{base}/admin/projections/changes"),
        None,
    )
    .await;

    // Streams that outlived SIGTERM would hold the process for the whole 60 s grace.
    let exit = terminate(&mut processes, Duration::from_secs(20)).await;
    assert!(mypage.ends_within(WAIT).await, "the mypage stream ended");
    assert!(
        operations.ends_within(WAIT).await,
        "the operations stream ended"
    );
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_apis_streams_follow_the_views_a_projector_process_writes() {
    let app = TestApp::spawn(Store::Postgres).await;
    let url = app.database_url().expect("a PostgreSQL database");
    let (commands, reads, worker) = (free_port().await, free_port().await, free_port().await);
    let _processes = Processes(vec![
        start(&url, "command-api", commands),
        start(&url, "read-api", reads),
        start(&url, "projector", worker),
    ]);
    for port in [commands, reads, worker] {
        eventually(
            &admin_client(),
            &format!("http://127.0.0.1:{port}/health/ready"),
            |s, _| s == StatusCode::OK,
        )
        .await;
    }
    let kim = client_as(Role::Customer, "kim");
    let mut stream = EventStream::open(
        &kim,
        &format!("http://127.0.0.1:{reads}/mypages/kim/changes"),
        None,
    )
    .await;
    let order = json!({"customerId": "kim", "product": "lamp", "qty": 1, "price": 1000,
                       "payMethod": "CARD"});
    let placed = kim
        .post(format!("http://127.0.0.1:{commands}/orders"))
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(placed.status(), StatusCode::CREATED);
    let change = stream
        .next(WAIT)
        .await
        .expect("the read API's stream is told");
    assert!(change.data["sections"]
        .as_array()
        .unwrap()
        .contains(&json!("orders")));
}
