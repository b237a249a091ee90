//! A guard that a stream still stands where a command read it: for a commit that
//! decided on a stream without appending to it (an order refused for want of stock,
//! decided on the stock as it was read), so that it is decided again should the stream
//! move first (another process's restock, say).

use futures::future::BoxFuture;
use sqlx::{PgConnection, SqliteConnection};

use super::sql::{self, stream_lock_key};
use super::{Guard, StoreError};

/// The stream `aggregate_type`/`aggregate_id` must still end at `sequence` when the
/// commit lands; otherwise the commit is refused with [`StoreError::Conflict`].
#[derive(Debug, Clone)]
pub struct StreamAt {
    pub aggregate_type: &'static str,
    pub aggregate_id: String,
    pub sequence: usize,
}

/// Every append takes this lock for its streams first, so that while the commit holds
/// it, the stream stands still. Only tried: a stream another transaction is appending
/// to is moving, and waiting here, out of the order appends take their locks in, could
/// deadlock.
const TRY_LOCK_STREAM: &str = concat!(
    "SELECT pg_try_advisory_xact_lock(",
    stream_lock_key!("$1", "$2"),
    ")"
);

/// Whether the stream of `$guard` still ends at its sequence, read on `$connection`.
macro_rules! stands {
    ($guard:expr, $connection:expr) => {{
        let last: i64 = sqlx::query_scalar(sql::LAST_SEQUENCE)
            .bind($guard.aggregate_type)
            .bind(&$guard.aggregate_id)
            .fetch_one(&mut *$connection)
            .await
            .map_err(StoreError::from_sqlx)?;
        match last as usize == $guard.sequence {
            true => Ok(()),
            false => Err(StoreError::Conflict),
        }
    }};
}

impl Guard for StreamAt {
    fn on_postgres<'c>(
        &'c self,
        connection: &'c mut PgConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async move {
            let locked: bool = sqlx::query_scalar(TRY_LOCK_STREAM)
                .bind(self.aggregate_type)
                .bind(&self.aggregate_id)
                .fetch_one(&mut *connection)
                .await
                .map_err(StoreError::from_sqlx)?;
            if !locked {
                return Err(StoreError::Conflict);
            }
            // A statement of its own, after the lock: it sees what committed before.
            stands!(self, connection)
        })
    }

    fn on_sqlite<'c>(
        &'c self,
        connection: &'c mut SqliteConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async move {
            // The commit holds SQLite's one write lock already.
            stands!(self, connection)
        })
    }
}
