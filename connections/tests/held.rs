//! Kept connections against a real PostgreSQL (`STRATA_TEST_DATABASE_URL`, default the
//! local server's `postgres` database); the statements touch no table.

use std::time::Duration;

use connections::{HeldConnections, TRUSTED_AFTER_USE};
use sqlx::postgres::{PgPool, PgPoolOptions};

async fn pool_of(size: u32) -> PgPool {
    let url = std::env::var("STRATA_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(2))
        .connect(&url)
        .await
        .expect("PostgreSQL for the tests")
}

async fn backend_pid(connections: &HeldConnections) -> i32 {
    let mut connection = connections.take().await.unwrap();
    let pid = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *connection)
        .await
        .unwrap();
    connections.give_back(connection);
    pid
}

#[tokio::test]
async fn a_connection_given_back_is_the_one_taken_next() {
    let pool = pool_of(4).await;
    let connections = HeldConnections::new(pool.clone(), 1);
    let first = backend_pid(&connections).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(pool.num_idle(), 0, "kept, not handed back to the pool");
    assert_eq!(backend_pid(&connections).await, first);
}

#[tokio::test]
async fn a_kept_connection_the_server_dropped_while_it_idled_is_replaced() {
    let pool = pool_of(4).await;
    let connections = HeldConnections::new(pool.clone(), 1);
    let kept = backend_pid(&connections).await;
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(kept)
        .execute(&pool)
        .await
        .unwrap();
    tokio::time::sleep(TRUSTED_AFTER_USE + Duration::from_millis(100)).await;
    let next = backend_pid(&connections).await;
    assert_ne!(next, kept, "a live connection, not the terminated one");
}

#[tokio::test]
async fn a_taker_waiting_for_the_pool_gets_the_connection_given_back() {
    let connections = HeldConnections::new(pool_of(1).await, 1);
    let only = connections.take().await.unwrap();
    let waiter = {
        let connections = connections.clone();
        tokio::spawn(async move { connections.take().await.map(drop) })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    connections.give_back(only);
    let waited = tokio::time::timeout(Duration::from_secs(1), waiter).await;
    assert!(
        matches!(waited, Ok(Ok(Ok(())))),
        "the waiter got the pool's only connection, not the pool's timeout"
    );
}

#[tokio::test]
async fn a_taker_that_gave_up_waiting_leaves_connections_kept_again() {
    let pool = pool_of(1).await;
    let connections = HeldConnections::new(pool.clone(), 1);
    let only = connections.take().await.unwrap();
    let gave_up = tokio::time::timeout(Duration::from_millis(100), connections.take()).await;
    assert!(gave_up.is_err(), "the pool's only connection was taken");
    connections.give_back(only);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(pool.num_idle(), 0, "kept, not handed back to the pool");
}
