//! Whether a view has applied a position: what a worker asks before it rests, and what
//! a read with `minPosition` waits for.
//!
//! On SQLite one writer commits positions in order, so the checkpoint's position says
//! it. On PostgreSQL positions commit out of order and views read the log in
//! `(transaction_id, global_position)` order, so the checkpoint's position alone does
//! not tell: position N is applied once the log has reached it and no event up to N
//! still follows the checkpoint in that order.

use sqlx::{PgConnection, SqliteConnection};

// The checkpoint and the head of the log, in one round trip.
const PG_CHECKPOINT_AND_HEAD: &str = "
    SELECT transaction_id, position, (SELECT coalesce(max(global_position), 0) FROM events)
      FROM projection_checkpoints WHERE name = $1";
// Whether any event up to `$3` follows the checkpoint `($1, $2)` in reading order. The
// checkpoint comes as binds and the ORDER BY … LIMIT keeps the planner on the index,
// which starts right at the checkpoint (a checkpoint read in the same statement makes
// PostgreSQL scan the whole log).
const PG_ANY_PENDING: &str = "
    SELECT count(*) > 0 FROM (
        SELECT 1 FROM events
         WHERE (transaction_id, global_position) > ($1::text::xid8, $2) AND global_position <= $3
         ORDER BY transaction_id, global_position LIMIT 1) pending";
const SQLITE_CHECKPOINT: &str = "SELECT position FROM projection_checkpoints WHERE name = $1";
/// The position of the last event in the log, on either store.
pub const HEAD: &str = "SELECT coalesce(max(global_position), 0) FROM events";
/// Whether the log holds an event at a position, on either store.
pub const HOLDS: &str = "SELECT EXISTS (SELECT 1 FROM events WHERE global_position = $1)";

/// Whether `view` has applied every committed event up to `position` (PostgreSQL).
pub async fn on_postgres(
    connection: &mut PgConnection,
    view: &str,
    position: i64,
) -> Result<bool, sqlx::Error> {
    if position <= 0 {
        return Ok(true);
    }
    let checkpoint: Option<(i64, i64, i64)> = sqlx::query_as(PG_CHECKPOINT_AND_HEAD)
        .bind(view)
        .fetch_optional(&mut *connection)
        .await?;
    let Some((transaction_id, checkpoint, head)) = checkpoint else {
        return Ok(false);
    };
    if head < position {
        return Ok(false);
    }
    let pending: bool = sqlx::query_scalar(PG_ANY_PENDING)
        .bind(transaction_id)
        .bind(checkpoint)
        .bind(position)
        .fetch_one(&mut *connection)
        .await?;
    Ok(!pending)
}

/// Whether `view` has applied every event up to `position` (SQLite).
pub async fn on_sqlite(
    connection: &mut SqliteConnection,
    view: &str,
    position: i64,
) -> Result<bool, sqlx::Error> {
    if position <= 0 {
        return Ok(true);
    }
    let checkpoint: Option<i64> = sqlx::query_scalar(SQLITE_CHECKPOINT)
        .bind(view)
        .fetch_optional(connection)
        .await?;
    Ok(checkpoint.is_some_and(|checkpoint| checkpoint >= position))
}
