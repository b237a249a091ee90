//! Group commit on PostgreSQL: commits waiting together go to the database in one
//! statement, and each keeps its own outcome. To make commits wait together, a test
//! holds a lock on `events` while the writers are busy with a commit each, queues its
//! commits, then lets the lock go: the queued commits form one batch.

use std::time::Duration;

use command_api::store::{
    request_digest, Commit, EventLog, IdempotencyClaim, PostgresEventLog, StoreError,
};
use cqrs_es::persist::SerializedEvent;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::support::{Backend, Store, TestApp};

/// A commit of one `OrderPlaced` at `sequence` of the order `id`.
fn order_placed(id: &str, sequence: usize, payload: Value) -> Commit {
    let event = SerializedEvent::new(
        id.to_string(),
        sequence,
        "Order".to_string(),
        "OrderPlaced".to_string(),
        "1.0".to_string(),
        payload,
        json!({"eventId": Uuid::now_v7()}),
    );
    Commit {
        events: vec![event],
        ..Commit::default()
    }
}

fn placed_payload() -> Value {
    json!({"OrderPlaced": {"customerId": "c", "product": "p", "qty": 1, "price": 1, "payMethod": "CARD"}})
}

fn claimed(mut commit: Commit, scope_key: &str) -> Commit {
    commit.idempotency = Some(IdempotencyClaim {
        scope_key: scope_key.to_string(),
        request_digest: request_digest(&json!({"key": scope_key})),
        expires: true,
        status: 201,
        location: None,
        response: json!({}),
    });
    commit
}

fn log(app: &TestApp) -> &PostgresEventLog {
    match &app.backend {
        Backend::Postgres(app) => app.service().log(),
        Backend::Sqlite(_) => panic!("group commit is PostgreSQL's"),
    }
}

/// Holds `events` locked against inserts until [`Lock::release`].
struct Lock(PgConnection);

impl Lock {
    async fn take(app: &TestApp) -> Self {
        let url = app.database_url().expect("a PostgreSQL database");
        let mut connection = PgConnection::connect(&url).await.unwrap();
        sqlx::query("BEGIN").execute(&mut connection).await.unwrap();
        sqlx::query("LOCK TABLE events IN EXCLUSIVE MODE")
            .execute(&mut connection)
            .await
            .unwrap();
        Self(connection)
    }

    async fn release(mut self) {
        sqlx::query("COMMIT").execute(&mut self.0).await.unwrap();
    }
}

/// Holds every writer on a commit of its own while `commits` (and the `also` commits
/// `during` sends) queue behind them, then lets them go; answers their outcomes and
/// checks that they went to the database in one batch.
async fn in_one_batch<F: std::future::Future>(
    app: &TestApp,
    commits: Vec<Commit>,
    during: F,
    also: u64,
) -> (Vec<Result<i64, StoreError>>, F::Output) {
    let log = log(app);
    let lock = Lock::take(app).await;
    // One commit at a time, each taken before the next, so that every writer holds one.
    let mut holding = Vec::new();
    for _ in 0..command_api::store::COMMIT_WRITERS {
        let taken = log.batch_counts().batches();
        let writer = log.clone();
        let id = Uuid::now_v7().to_string();
        holding.push(tokio::spawn(async move {
            writer.append(order_placed(&id, 1, placed_payload())).await
        }));
        while log.batch_counts().batches() == taken {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let before = log.batch_counts().batches();
    let expected = commits.len() as u64 + also;
    let queued = join_all(commits.into_iter().map(|commit| log.append(commit)));
    let release = async {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while log.batch_counts().queued() < expected {
            assert!(
                std::time::Instant::now() < deadline,
                "the commits never queued"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        lock.release().await;
    };
    let (outcomes, during, ()) = tokio::join!(queued, during, release);
    for held in holding {
        held.await.unwrap().expect("a writer's own commit");
    }
    let batches = log.batch_counts().batches() - before;
    assert_eq!(batches, 1, "the queued commits went in one batch");
    (outcomes, during)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_that_wait_together_go_in_one_batch_and_each_gets_its_position() {
    let app = TestApp::spawn(Store::Postgres).await;
    let ids: Vec<String> = (0..10).map(|_| Uuid::now_v7().to_string()).collect();
    let commits = ids
        .iter()
        .map(|id| order_placed(id, 1, placed_payload()))
        .collect();
    let (outcomes, ()) = in_one_batch(&app, commits, async {}, 0).await;
    let positions: Vec<i64> = outcomes.into_iter().map(Result::unwrap).collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "{positions:?}"
    );
    for (id, position) in ids.iter().zip(&positions) {
        let stored = app
            .scalar(
                "SELECT global_position FROM events WHERE aggregate_id = $1",
                id,
            )
            .await;
        assert_eq!(stored, *position);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_optimistic_concurrency_loser_in_a_batch_fails_alone() {
    let app = TestApp::spawn(Store::Postgres).await;
    let taken = Uuid::now_v7().to_string();
    log(&app)
        .append(order_placed(&taken, 1, placed_payload()))
        .await
        .unwrap();
    let mut commits: Vec<Commit> = (0..6)
        .map(|_| order_placed(&Uuid::now_v7().to_string(), 1, placed_payload()))
        .collect();
    commits.insert(3, order_placed(&taken, 1, placed_payload()));
    let (outcomes, ()) = in_one_batch(&app, commits, async {}, 0).await;
    for (index, outcome) in outcomes.iter().enumerate() {
        match index {
            3 => assert!(matches!(outcome, Err(StoreError::Conflict)), "{outcome:?}"),
            _ => assert!(outcome.is_ok(), "{index}: {outcome:?}"),
        }
    }
    assert_eq!(
        app.count_events().await,
        1 + 6 + command_api::store::COMMIT_WRITERS as i64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_claimed_twice_in_a_batch_answers_the_second_as_a_duplicate() {
    let app = TestApp::spawn(Store::Postgres).await;
    let new = || order_placed(&Uuid::now_v7().to_string(), 1, placed_payload());
    let commits = vec![
        new(),
        claimed(new(), "POST /orders same-key"),
        new(),
        claimed(new(), "POST /orders same-key"),
        new(),
    ];
    let (outcomes, ()) = in_one_batch(&app, commits, async {}, 0).await;
    for (index, outcome) in outcomes.iter().enumerate() {
        match index {
            3 => assert!(
                matches!(outcome, Err(StoreError::DuplicateRequest)),
                "{outcome:?}"
            ),
            _ => assert!(outcome.is_ok(), "{index}: {outcome:?}"),
        }
    }
    let stored = log(&app)
        .idempotent_response("POST /orders same-key")
        .await
        .unwrap()
        .expect("the first claim is stored");
    assert_eq!(
        Ok(stored.position),
        outcomes[1].as_ref().map(|p| *p).map_err(drop)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_the_database_refuses_in_a_batch_fails_alone() {
    let app = TestApp::spawn(Store::Postgres).await;
    let new = |payload| order_placed(&Uuid::now_v7().to_string(), 1, payload);
    // jsonb stores no NUL character.
    let unstorable = json!({"OrderPlaced": {"product": "a\u{0}b"}});
    let commits = vec![
        new(placed_payload()),
        new(unstorable),
        new(placed_payload()),
    ];
    let (outcomes, ()) = in_one_batch(&app, commits, async {}, 0).await;
    assert!(outcomes[0].is_ok() && outcomes[2].is_ok(), "{outcomes:?}");
    assert!(
        matches!(outcomes[1], Err(StoreError::Internal(_))),
        "{outcomes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_guard_and_an_idempotent_retry_beside_a_batch_fail_only_themselves() {
    let app = TestApp::spawn(Store::Postgres).await;
    let (start, end) = ("2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z");
    assert_eq!(
        app.create_booking(9, start, end).await.status,
        StatusCode::CREATED
    );
    let first = app
        .post_with("/orders", order_body(), &[("Idempotency-Key", "retried")])
        .await;
    let commits = (0..4)
        .map(|_| order_placed(&Uuid::now_v7().to_string(), 1, placed_payload()))
        .collect();
    let beside = async {
        let overlapping = app.create_booking(9, start, end);
        let retry = app.post_with("/orders", order_body(), &[("Idempotency-Key", "retried")]);
        let orders = join_all((0..4).map(|_| app.post("/orders", order_body())));
        tokio::join!(overlapping, retry, orders)
    };
    let (outcomes, (overlapping, retry, orders)) = in_one_batch(&app, commits, beside, 4).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(overlapping.status, StatusCode::CONFLICT);
    assert_eq!(overlapping.body["error"], "room_unavailable");
    assert_eq!(
        (retry.status, &retry.body),
        (StatusCode::CREATED, &first.body)
    );
    assert!(
        orders
            .iter()
            .all(|order| order.status == StatusCode::CREATED),
        "{orders:?}"
    );
}

fn order_body() -> Value {
    json!({"customerId": "c", "product": "p", "qty": 1, "price": 10, "payMethod": "CARD"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_book_told_to_forty_members_goes_to_the_database_in_a_few_statements() {
    let app = TestApp::spawn(Store::Postgres).await;
    for n in 0..40 {
        let member = format!("m-{n}");
        let joined = app
            .post("/members", json!({"memberId": member, "name": member}))
            .await;
        assert_eq!(joined.status, StatusCode::CREATED);
    }
    app.settle().await;
    let before = log(&app).batch_counts().batches();
    let book = json!({"title": "싯다르타", "author": "Hesse", "price": 1, "stock": 1});
    assert_eq!(app.post("/books", book).await.status, StatusCode::CREATED);
    app.settle().await;
    let notices = app
        .scalar(
            "SELECT count(*) FROM events WHERE event_type = 'NotificationSent' AND $1 = $1",
            "",
        )
        .await;
    assert_eq!(notices, 40);
    let batches = log(&app).batch_counts().batches() - before;
    // One statement each would be 41.
    assert!(
        batches <= 20,
        "the book and its 40 notices took {batches} statements"
    );
}
