//! The write path under faults: a lock another connection holds, requests that run out
//! of time, concurrent duplicates, two command APIs on one database. Every answer is
//! the truth: a 2xx is in the log, an error wrote nothing (or says the outcome is
//! unknown), and nothing is written after its request was answered.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use command_api::http::overload::Limits;
use command_api::store::{Commit, CommitBounds, EventLog, PostgresEventLog, StoreError};
use cqrs_es::persist::SerializedEvent;
use futures::future::join_all;
use futures::stream::{self, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::processes::{admin_client, free_port, start, Processes};
use crate::support::{Reply, Store, TestApp};

/// Another connection's open transaction that has written, and not committed, the
/// event at `sequence` of a stream, holding the stream's lock as every append does:
/// what an instance cut off from the network mid-commit leaves behind until TCP
/// notices.
async fn hold_event_row(
    app: &TestApp,
    aggregate_type: &str,
    id: Uuid,
    sequence: i64,
) -> PgConnection {
    let url = app.database_url().expect("a PostgreSQL database");
    let mut holder = PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))")
        .bind(aggregate_type)
        .bind(id.to_string())
        .execute(&mut holder)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO events
            (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ($1, $2, $3, 'Held', '1.0', '{}', '{}')",
    )
    .bind(aggregate_type)
    .bind(id.to_string())
    .bind(sequence)
    .execute(&mut holder)
    .await
    .unwrap();
    holder
}

fn order_body(customer: &str) -> Value {
    json!({"customerId": customer, "product": "pen", "qty": 1, "price": 10, "payMethod": "CARD"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_blocked_on_held_streams_fail_alone_while_commands_on_other_streams_go_on() {
    let app = TestApp::spawn(Store::Postgres).await;
    // More held streams than the process has writers.
    let mut orders = Vec::new();
    let mut holders = Vec::new();
    for n in 0..8 {
        let order = app
            .place_order(&format!("held-{n}"), 1, 10)
            .await
            .id("orderId");
        holders.push(hold_event_row(&app, "Order", order, 2).await);
        orders.push(order);
    }
    let app = &app;

    let cancels = join_all(orders.iter().map(|order| async move {
        let asked = Instant::now();
        let reply = app
            .post(&format!("/orders/{order}/cancel"), Value::Null)
            .await;
        (reply, asked.elapsed())
    }));
    let others = async {
        let ready = app.get("/health/ready").await;
        let timed = stream::iter(0..200)
            .map(|n| async move {
                let asked = Instant::now();
                let reply = app.post("/orders", order_body(&format!("c-{n}"))).await;
                (reply, asked.elapsed())
            })
            .buffer_unordered(16)
            .collect::<Vec<_>>()
            .await;
        (ready, timed)
    };
    let (cancels, (ready, placed)) = tokio::join!(cancels, others);

    assert_eq!(
        ready.status,
        StatusCode::OK,
        "the writers move: still ready"
    );
    for (reply, took) in &placed {
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        // The lock timeout is 1 s: none of them waited for a lock, not even those that
        // were batched with a cancel.
        assert!(*took < Duration::from_secs(1), "an order took {took:?}");
    }
    for (cancelled, took) in &cancels {
        assert_eq!(
            (cancelled.status, cancelled.body["error"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("timed_out")),
            "{:?}",
            cancelled.body
        );
        assert!(
            *took < Duration::from_secs(5),
            "a blocked cancel was answered within its bound, not the request's: {took:?}"
        );
    }
    for holder in holders {
        holder.close().await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for order in orders {
        assert_eq!(
            app.event_types("Order", order).await,
            ["OrderPlaced"],
            "a refused cancel was never written"
        );
    }
}

/// 30 clients join members for 5 s while every insert into `events` waits on a lock for
/// 3 s, through a server that takes 20 requests at once and answers each within 1 s;
/// and what `/health/ready` and `/metrics` said between 1.5 s and 2.9 s into the stall
/// (a status other than 200 if any probe got one; stalled if any scrape said so).
async fn join_members_through_a_stall(app: &TestApp) -> (Vec<String>, Vec<Reply>, Probed) {
    let url = app.database_url().expect("a PostgreSQL database");
    let mut locker = PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut locker).await.unwrap();
    sqlx::query("LOCK TABLE events IN EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .unwrap();
    let release = async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        sqlx::query("COMMIT").execute(&mut locker).await.unwrap();
    };
    let until = Instant::now() + Duration::from_secs(5);
    let clients = join_all((0..30).map(|client| async move {
        let mut replies = Vec::new();
        while Instant::now() < until {
            let member = format!("m-{client}-{}", replies.len());
            let body = json!({"memberId": member, "name": member});
            replies.push((member, app.post("/members", body).await));
        }
        replies
    }));
    // Probed again and again while the lock holds (from 1.5 s, once the stall is
    // older than a statement may run, to 2.9 s): one instant would depend on how busy
    // the machine is at that instant.
    let probe = async {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let mut probed = Probed {
            ready: StatusCode::OK,
            stalled: false,
        };
        while Instant::now() + Duration::from_millis(2_100) < until {
            let ready = app.get("/health/ready").await.status;
            if ready != StatusCode::OK {
                probed.ready = ready;
            }
            probed.stalled |= app
                .metrics()
                .await
                .contains("strata_commit_writers_stalled 1");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        probed
    };
    let ((), replies, probed) = tokio::join!(release, clients, probe);
    let replies: Vec<(String, Reply)> = replies.into_iter().flatten().collect();
    let joined = replies
        .iter()
        .filter(|(_, reply)| reply.status == StatusCode::CREATED)
        .map(|(member, _)| member.clone())
        .collect();
    let replies = replies.into_iter().map(|(_, reply)| reply).collect();
    (joined, replies, probed)
}

/// What the probes said.
struct Probed {
    ready: StatusCode,
    stalled: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_answered_503_never_has_its_commit_written_later_and_stuck_writers_make_it_unready(
) {
    let limits = Limits {
        max_in_flight: 20,
        request_timeout: Duration::from_millis(1000),
    };
    let app = TestApp::spawn_limited(Store::Postgres, limits).await;
    let (joined, replies, during) = join_members_through_a_stall(&app).await;
    assert_eq!(
        during.ready,
        StatusCode::SERVICE_UNAVAILABLE,
        "writers that get no decision from the database make the process unready"
    );
    assert!(during.stalled, "and /metrics says so");
    // Ready again once the writers get decisions again (the queued commits, at once).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while app.get("/health/ready").await.status != StatusCode::OK {
        assert!(
            tokio::time::Instant::now() < deadline,
            "ready again after the stall"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    for reply in &replies {
        let refused = reply.status == StatusCode::SERVICE_UNAVAILABLE
            && ["timed_out", "overloaded"].contains(&reply.body["error"].as_str().unwrap_or(""));
        assert!(reply.status == StatusCode::CREATED || refused, "{reply:?}");
    }
    assert!(
        replies.iter().any(|r| r.status != StatusCode::CREATED),
        "the stall refused some requests"
    );
    assert!(!joined.is_empty(), "members joined once the lock went");
    // Whatever was still queued when its request was answered has had time to land.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let url = app.database_url().unwrap();
    let mut database = PgConnection::connect(&url).await.unwrap();
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT aggregate_id FROM events WHERE aggregate_type = 'Member'")
            .fetch_all(&mut database)
            .await
            .unwrap();
    let stored: BTreeSet<String> = stored.into_iter().collect();
    let acknowledged: BTreeSet<String> = joined
        .iter()
        .map(|member| domain::bookstore::member::member_stream(member).to_string())
        .collect();
    assert_eq!(
        stored.len(),
        acknowledged.len(),
        "members in the log = 201 answers"
    );
    assert_eq!(stored, acknowledged);
}

mod every_concurrent_duplicate_of_a_key_gets_the_first_answer {
    use super::*;

    async fn duplicates(store: Store) {
        let app = TestApp::spawn(store).await;
        let join = json!({"memberId": "kim", "name": "Kim"});
        let joins = join_all((0..6).map(|_| {
            app.post_with(
                "/members",
                join.clone(),
                &[("Idempotency-Key", "join-once")],
            )
        }))
        .await;
        for reply in &joins {
            assert_eq!(
                (reply.status, &reply.body),
                (joins[0].status, &joins[0].body)
            );
        }
        assert_eq!(joins[0].status, StatusCode::CREATED, "{:?}", joins[0].body);

        let order = app.place_order("c-1", 1, 10).await.id("orderId");
        let path = format!("/orders/{order}/cancel");
        let cancels = join_all(
            (0..6)
                .map(|_| app.post_with(&path, Value::Null, &[("Idempotency-Key", "cancel-once")])),
        )
        .await;
        for reply in &cancels {
            assert_eq!(
                (reply.status, &reply.body),
                (cancels[0].status, &cancels[0].body)
            );
        }
        assert!(cancels[0].status.is_success(), "{:?}", cancels[0].body);
        assert_eq!(
            app.event_types("Order", order).await,
            ["OrderPlaced", "OrderCancelled"]
        );

        let booking = app
            .create_booking(3, "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z")
            .await
            .id("bookingId");
        let confirm = app.request_confirm(booking).await;
        let path = format!("/confirms/{confirm}/complete");
        let decisions = join_all(
            (0..6).map(|_| app.post_with(&path, json!({}), &[("Idempotency-Key", "decide-once")])),
        )
        .await;
        for reply in &decisions {
            assert_eq!(
                (reply.status, &reply.body),
                (decisions[0].status, &decisions[0].body)
            );
        }
        assert!(decisions[0].status.is_success(), "{:?}", decisions[0].body);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        duplicates(Store::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        duplicates(Store::Sqlite).await;
    }
}

/// `pg_stat_database.deadlocks` of the test's database.
async fn deadlocks(database: &mut PgConnection) -> i64 {
    sqlx::query_scalar("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        .fetch_one(database)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_command_apis_ordering_hot_books_never_deadlock_conflict_or_oversell() {
    const BOOKS: usize = 8;
    const STOCK: i64 = 1_000;
    const ORDERS_PER_BOOK: usize = 1_250;
    let app = TestApp::spawn(Store::Postgres).await;
    let url = app.database_url().expect("a PostgreSQL database");
    let ports = [free_port().await, free_port().await];
    let _processes = Processes(
        ports
            .iter()
            .map(|port| start(&url, "command-api", *port))
            .collect(),
    );
    let client = admin_client();
    let bases: Vec<String> = ports
        .iter()
        .map(|port| format!("http://127.0.0.1:{port}"))
        .collect();
    for base in &bases {
        crate::processes::eventually(&client, &format!("{base}/health/ready"), |s, _| {
            s == StatusCode::OK
        })
        .await;
    }
    let mut books = Vec::new();
    for n in 0..BOOKS {
        let body =
            json!({"title": format!("hot {n}"), "author": "Hesse", "price": 100, "stock": STOCK});
        let reply =
            crate::processes::post_json(&client, &format!("{}/books", bases[0]), &body).await;
        books.push(reply["bookId"].as_str().expect("a book").to_string());
    }
    let members = ["kim", "lee"];
    for member in members {
        let body = json!({"memberId": member, "name": member});
        crate::processes::post_json(&client, &format!("{}/members", bases[1]), &body).await;
    }
    let mut database = PgConnection::connect(&url).await.unwrap();
    let deadlocks_before = deadlocks(&mut database).await;

    let orders = (0..ORDERS_PER_BOOK * books.len()).map(|n| {
        let (client, base) = (client.clone(), bases[n % 2].clone());
        let body =
            json!({"memberId": members[n / 2 % 2], "bookId": books[n % books.len()], "qty": 1});
        async move {
            let response = client
                .post(format!("{base}/bookOrders"))
                .json(&body)
                .send()
                .await
                .expect("an answer");
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    });
    let answers: Vec<(StatusCode, Value)> =
        stream::iter(orders).buffer_unordered(64).collect().await;

    let taken = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .count() as i64;
    let refused = answers
        .iter()
        .filter(|(status, body)| *status == StatusCode::CONFLICT && body["error"] == "out_of_stock")
        .count();
    let other: Vec<_> = answers
        .iter()
        .filter(|(status, body)| {
            *status != StatusCode::CREATED
                && !(*status == StatusCode::CONFLICT && body["error"] == "out_of_stock")
        })
        .collect();
    assert!(
        other.is_empty(),
        "neither taken nor out of stock: {other:?}"
    );
    assert_eq!(
        taken,
        STOCK * books.len() as i64,
        "every copy sold, none twice"
    );
    assert_eq!(refused, answers.len() - taken as usize);
    assert_eq!(
        deadlocks(&mut database).await,
        deadlocks_before,
        "no two commits waited on each other"
    );
}

/// One commit of `OrderPlaced` at sequence 1 of each stream in `ids`, in that order.
fn placed_in(ids: &[String]) -> Commit {
    let events = ids
        .iter()
        .map(|id| {
            SerializedEvent::new(
                id.clone(),
                1,
                "Order".to_string(),
                "OrderPlaced".to_string(),
                "1.0".to_string(),
                json!({}),
                json!({"eventId": Uuid::now_v7()}),
            )
        })
        .collect();
    Commit {
        events,
        ..Commit::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_writing_the_same_streams_in_opposite_orders_never_deadlock() {
    let app = TestApp::spawn(Store::Postgres).await;
    let url = app.database_url().expect("a PostgreSQL database");
    let connect =
        || PostgresEventLog::connect(&url, 4, Duration::from_secs(5), CommitBounds::default());
    let (first, second) = (connect().await.unwrap(), connect().await.unwrap());
    let mut database = PgConnection::connect(&url).await.unwrap();
    let deadlocks_before = deadlocks(&mut database).await;

    // Both commits write streams A and B, one A first and the other B first, with many
    // rows between, so that each would hold its first before it reaches its last.
    let (a, b) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());
    let fresh = |n: usize| {
        (0..n)
            .map(|_| Uuid::now_v7().to_string())
            .collect::<Vec<_>>()
    };
    let forward = [vec![a.clone()], fresh(2_000), vec![b.clone()]].concat();
    let backward = [vec![b.clone()], fresh(2_000), vec![a.clone()]].concat();
    sqlx::query("BEGIN").execute(&mut database).await.unwrap();
    sqlx::query("LOCK TABLE events IN EXCLUSIVE MODE")
        .execute(&mut database)
        .await
        .unwrap();
    let release = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        sqlx::query("COMMIT").execute(&mut database).await.unwrap();
    };
    let (one, other, ()) = tokio::join!(
        first.append(placed_in(&forward)),
        second.append(placed_in(&backward)),
        release
    );

    let outcomes = [one, other];
    assert_eq!(
        outcomes.iter().filter(|outcome| outcome.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .any(|outcome| matches!(outcome, Err(StoreError::Conflict))),
        "the loser lost the race for the streams, not to a deadlock: {outcomes:?}"
    );
    assert_eq!(deadlocks(&mut database).await, deadlocks_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_refused_for_want_of_stock_is_decided_again_on_a_restock_that_committed_first() {
    let app = TestApp::spawn(Store::Postgres).await;
    let registered = app
        .post(
            "/books",
            json!({"title": "데미안", "author": "Hesse", "price": 100, "stock": 1}),
        )
        .await;
    let book = registered.id("bookId");
    app.post("/members", json!({"memberId": "kim", "name": "Kim"}))
        .await;
    // Another process restocks the book: its commit holds the stream while it lands.
    let url = app.database_url().expect("a PostgreSQL database");
    let mut restock = PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut restock).await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('Book' || '/' || $1, 0))")
        .bind(book.to_string())
        .execute(&mut restock)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO events
            (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('Book', $1, 2, 'StockAdded', '1.0', $2, '{}')",
    )
    .bind(book.to_string())
    .bind(json!({"StockAdded": {"qty": 5, "addedAt": "2026-12-05T00:00:00Z"}}))
    .execute(&mut restock)
    .await
    .unwrap();
    let commit_restock = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        sqlx::query("COMMIT").execute(&mut restock).await.unwrap();
    };
    // Read before the restock commits, the stock is 1: too few for 2.
    let order = app.post(
        "/bookOrders",
        json!({"memberId": "kim", "bookId": book, "qty": 2}),
    );
    let (ordered, ()) = tokio::join!(order, commit_restock);
    assert_eq!(ordered.status, StatusCode::CREATED, "{:?}", ordered.body);
    assert_eq!(ordered.body["orderStatus"], "ORDERED");
}
