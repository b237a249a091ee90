//! PostgreSQL connections a hot path keeps between its statements instead of handing
//! them back to the pool: sqlx's pool sends the server a round trip (a ping) for every
//! connection it takes back, which cost a command as much CPU as its own statement
//! (`docs/performance.md`, "Where the CPU goes").

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::PgPool;
use sqlx::{Connection, Postgres};

/// A connection unused for longer than this is pinged before it is used again, as the
/// pool does with its idle connections: the server may have restarted meanwhile.
pub const TRUSTED_AFTER_USE: Duration = Duration::from_millis(500);

/// Up to `keep` connections of a pool, taken from it once and kept; clones share them.
/// The rest of the pool stays free for whoever else uses it.
///
/// Kept connections skip the pool's queue, so while one of their own users waits in
/// that queue a connection given back goes to the pool instead, to be handed on in
/// turn.
#[derive(Clone)]
pub struct HeldConnections {
    pool: PgPool,
    keep: usize,
    idle: Arc<Mutex<Vec<Kept>>>,
    /// Takers waiting for a connection of the pool.
    waiting: Arc<AtomicUsize>,
}

/// A kept connection, and when it was last given back.
type Kept = (PoolConnection<Postgres>, Instant);

impl HeldConnections {
    pub fn new(pool: PgPool, keep: usize) -> Self {
        Self {
            pool,
            keep,
            idle: Arc::default(),
            waiting: Arc::default(),
        }
    }

    /// A kept connection (pinged first if it has idled), or one from the pool.
    pub async fn take(&self) -> Result<PoolConnection<Postgres>, sqlx::Error> {
        loop {
            let held = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let Some((mut connection, used)) = held else {
                self.waiting.fetch_add(1, Ordering::AcqRel);
                let acquired = self.pool.acquire().await;
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                return acquired;
            };
            if used.elapsed() <= TRUSTED_AFTER_USE || connection.ping().await.is_ok() {
                return Ok(connection);
            }
            connection.close_on_drop();
        }
    }

    /// Keeps `connection`, after a statement that succeeded on it, for the next
    /// [`HeldConnections::take`]; beyond `keep`, or while a taker waits for the pool,
    /// it goes back to the pool.
    pub fn give_back(&self, connection: PoolConnection<Postgres>) {
        if self.waiting.load(Ordering::Acquire) > 0 {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.keep {
            idle.push((connection, Instant::now()));
        }
    }
}
