//! SQL text both stores run as it is (`$1, $2, …` placeholders, standard upserts), and
//! the mapping of their rows, so the two adapters differ only where the stores do.

/// The key of a stream's advisory lock (PostgreSQL), from the SQL expressions of its
/// type and id: every statement that appends takes it for each stream it writes, in
/// ascending order, before its first row (see `group_commit`), and so does a guard that
/// needs a stream to stand still.
macro_rules! stream_lock_key {
    ($aggregate_type:literal, $aggregate_id:literal) => {
        concat!(
            "hashtextextended(",
            $aggregate_type,
            " || '/' || ",
            $aggregate_id,
            ", 0)"
        )
    };
}
pub(super) use stream_lock_key;

/// The last sequence of a stream (0 for an empty one).
pub(super) const LAST_SEQUENCE: &str = "
    SELECT COALESCE(MAX(sequence), 0) FROM events WHERE aggregate_type = $1 AND aggregate_id = $2";

/// The stored response of an idempotent command.
pub(super) const SELECT_IDEMPOTENT_RESPONSE: &str = "
    SELECT request_digest, status, location, response, position
      FROM idempotency_keys WHERE scope_key = $1";

/// Records a response under its key, unless a concurrent request did first.
pub(super) const CLAIM_IDEMPOTENCY_KEY: &str = "
    INSERT INTO idempotency_keys
           (scope_key, request_digest, expires, status, location, response, position)
    VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (scope_key) DO NOTHING";

/// How many expired keys one statement removes, so that a long backlog (the first sweep
/// after a pause) never holds one long transaction.
pub(super) const EXPIRY_BATCH: i64 = 1000;

/// A stream's snapshot (kind 0) and the events after it (kind 1), in order.
pub(super) const LOAD_STREAM: &str = "
    SELECT CAST(0 AS BIGINT) AS kind, last_sequence AS sequence, payload
      FROM snapshots WHERE aggregate_type = $1 AND aggregate_id = $2
    UNION ALL
    SELECT CAST(1 AS BIGINT), sequence, payload
      FROM events
     WHERE aggregate_type = $1 AND aggregate_id = $2
       AND sequence > COALESCE((SELECT last_sequence FROM snapshots
                                 WHERE aggregate_type = $1 AND aggregate_id = $2), 0)
     ORDER BY kind, sequence";

/// One stream's events in order.
pub(super) const SELECT_STREAM: &str = "
    SELECT global_position, aggregate_type, aggregate_id, sequence, event_type,
           event_version, payload, metadata, recorded_at
      FROM events WHERE aggregate_type = $1 AND aggregate_id = $2
     ORDER BY sequence";

/// Stores a snapshot unless a newer one is already there.
pub(super) const UPSERT_SNAPSHOT: &str = "
    INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, current_snapshot, payload)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE
       SET last_sequence = excluded.last_sequence,
           current_snapshot = excluded.current_snapshot,
           payload = excluded.payload
     WHERE snapshots.last_sequence < excluded.last_sequence";

/// How many migrations the database has applied.
pub(super) const APPLIED_MIGRATIONS: &str = "SELECT count(*) FROM _sqlx_migrations WHERE success";

/// A [`super::RecordedEvent`] from a row of [`SELECT_STREAM`], on either store.
macro_rules! recorded_event {
    ($row:expr) => {
        super::RecordedEvent {
            global_position: $row.get("global_position"),
            aggregate_type: $row.get("aggregate_type"),
            aggregate_id: $row.get("aggregate_id"),
            sequence: $row.get("sequence"),
            event_type: $row.get("event_type"),
            event_version: $row.get("event_version"),
            payload: $row.get::<serde_json::Value, _>("payload"),
            metadata: $row.get::<serde_json::Value, _>("metadata"),
            recorded_at: $row.get::<chrono::DateTime<chrono::Utc>, _>("recorded_at"),
        }
    };
}

/// A [`super::LoadedStream`] from the rows of [`LOAD_STREAM`], on either store.
macro_rules! loaded_stream {
    ($rows:expr) => {{
        let mut loaded = super::LoadedStream::default();
        for row in $rows {
            let sequence = row.get::<i64, _>("sequence") as usize;
            let payload = row.get::<serde_json::Value, _>("payload");
            match row.get::<i64, _>("kind") {
                0 => loaded.snapshot = Some((sequence, payload)),
                _ => loaded.events.push((sequence, payload)),
            }
        }
        loaded
    }};
}

/// Runs `$expire` (which removes up to `$2` keys older than `$1` seconds) on `$pool`
/// until a run removes fewer than [`EXPIRY_BATCH`]; answers how many it removed.
macro_rules! expire_in_batches {
    ($expire:expr, $ttl:expr, $pool:expr) => {{
        let mut removed = 0;
        loop {
            let batch = sqlx::query($expire)
                .bind($ttl.as_secs_f64())
                .bind(sql::EXPIRY_BATCH)
                .execute($pool)
                .await
                .map_err(StoreError::from_sqlx)?
                .rows_affected();
            removed += batch;
            if batch < sql::EXPIRY_BATCH as u64 {
                break Ok(removed);
            }
        }
    }};
}

/// A [`super::StoredResponse`] from a row of [`SELECT_IDEMPOTENT_RESPONSE`]; the status
/// column is a smallint on PostgreSQL and an integer on SQLite, hence `$status`.
macro_rules! stored_response {
    ($row:expr, $status:ty) => {
        super::StoredResponse {
            request_digest: $row.get("request_digest"),
            status: $row.get::<$status, _>("status") as u16,
            location: $row.get("location"),
            response: $row.get("response"),
            position: $row.get("position"),
        }
    };
}

pub(super) use {expire_in_batches, loaded_stream, recorded_event, stored_response};
