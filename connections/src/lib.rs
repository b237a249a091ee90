//! PostgreSQL connections a hot path keeps between its statements instead of handing
//! them back to the pool: sqlx's pool sends the server a round trip (a ping) for every
//! connection it takes back, which cost a command as much CPU as its own statement
//! (`docs/performance.md`, "Where a request's CPU goes").

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::PgPool;
use sqlx::{PgConnection, Postgres};

/// A kept connection unused for longer than this goes back to the pool, which tests it
/// before handing it out again (the server may have restarted meanwhile) and closes it
/// once it has idled or lived too long.
pub const TRUSTED_AFTER_USE: Duration = Duration::from_millis(500);

/// Up to `keep` connections of a pool, kept between statements while they are in use;
/// clones share them. The rest of the pool stays free for whoever else uses it.
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

/// A connection of [`HeldConnections`], to give back after a statement that succeeded
/// on it; dropped instead, it goes back to the pool.
pub struct Held {
    connection: PoolConnection<Postgres>,
    /// When it was taken from the pool.
    since: Instant,
}

impl Held {
    /// Closes the connection when it is dropped: it failed, and is no use to anyone.
    pub fn close_on_drop(&mut self) {
        self.connection.close_on_drop();
    }
}

impl Deref for Held {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.connection
    }
}

impl DerefMut for Held {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.connection
    }
}

/// A kept connection, and when it was last given back.
struct Kept {
    held: Held,
    used: Instant,
}

impl HeldConnections {
    pub fn new(pool: PgPool, keep: usize) -> Self {
        Self {
            pool,
            keep,
            idle: Arc::default(),
            waiting: Arc::default(),
        }
    }

    /// A kept connection used a moment ago, or one from the pool. Kept connections
    /// that idled, or were taken from the pool longer ago than it lets a connection
    /// live, go back to it on the way.
    pub async fn take(&self) -> Result<Held, sqlx::Error> {
        let lifetime = self.pool.options().get_max_lifetime();
        loop {
            let kept = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let Some(kept) = kept else {
                let _waiting = Waiting::on(&self.waiting);
                let connection = self.pool.acquire().await?;
                return Ok(Held {
                    connection,
                    since: Instant::now(),
                });
            };
            let lived_out = lifetime.is_some_and(|lifetime| kept.held.since.elapsed() > lifetime);
            if kept.used.elapsed() <= TRUSTED_AFTER_USE && !lived_out {
                return Ok(kept.held);
            }
        }
    }

    /// Keeps `held`, after a statement that succeeded on it, for the next
    /// [`HeldConnections::take`]; beyond `keep`, or while a taker waits for the pool,
    /// it goes back to the pool.
    pub fn give_back(&self, held: Held) {
        if self.waiting.load(Ordering::Acquire) > 0 {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.keep {
            let used = Instant::now();
            idle.push(Kept { held, used });
        }
    }
}

/// Counts a taker waiting for the pool for as long as it waits, however its wait ends.
struct Waiting<'c>(&'c AtomicUsize);

impl<'c> Waiting<'c> {
    fn on(waiting: &'c AtomicUsize) -> Self {
        waiting.fetch_add(1, Ordering::AcqRel);
        Self(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}
