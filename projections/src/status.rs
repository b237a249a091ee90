//! Where each subscription stands, for `GET /admin/projections`.

use std::time::Duration;

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::subscription::ProjectionStore;

/// One view's (or policy's) progress over the log.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectionStatus {
    #[schema(example = "orderList")]
    pub name: String,
    /// `view` or `policy`.
    #[schema(example = "view")]
    pub kind: String,
    /// The position of the last event applied.
    pub checkpoint: i64,
    /// The position of the last event in the log.
    pub head: i64,
    /// Events in the log not yet applied: the positions between the checkpoint and the
    /// head (a position a rolled-back commit used up counts too).
    pub lag_events: i64,
    /// Age of the oldest event not yet applied, in milliseconds (0 when caught up).
    pub lag_ms: i64,
    /// `running` or `failed` (`/admin/projections` also shows `rebuilding`).
    pub state: String,
    /// The poison event's position and error, while failed.
    pub failed_position: Option<i64>,
    pub last_error: Option<String>,
    /// The open transaction that keeps committed events from this subscription, when
    /// there is one and it has been open long enough to matter (PostgreSQL).
    pub held_back_by: Option<OpenTransaction>,
}

/// The oldest open PostgreSQL transaction that has an id: no subscriber reads past it
/// (ADR 3), so until it ends, events committed after it started stay unread. Who holds
/// it shows in `pg_stat_activity` under its `pid`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenTransaction {
    pub pid: i32,
    /// When the transaction began (RFC 3339).
    pub transaction_start: String,
    /// How long it has been open, in milliseconds.
    pub age_ms: i64,
}

/// Lag from indexes alone, so that it costs the same however far behind a subscription
/// is: `lag_events` is the positions between the checkpoint and the head (the events
/// not applied, plus any positions a rolled-back commit used up), `lag_ms` the age of
/// the first event after the checkpoint in the store's reading order; whether the
/// read watermark holds the subscription back, from the last event.
const PG_STATUS: &str = "
    SELECT c.name, c.kind, c.position, c.state, c.failed_position, c.last_error,
           head.position AS head,
           greatest(head.position - c.position, 0) AS lag_events,
           coalesce((extract(epoch FROM now() - (
               SELECT e.recorded_at FROM events e
                WHERE (e.transaction_id, e.global_position) > (c.transaction_id::text::xid8, c.position)
                ORDER BY e.transaction_id, e.global_position LIMIT 1)) * 1000)::bigint, 0) AS lag_ms,
           coalesce(last.transaction_id >= pg_snapshot_xmin(pg_current_snapshot())
                    AND (last.transaction_id, last.global_position)
                        > (c.transaction_id::text::xid8, c.position), false) AS blocked
      FROM projection_checkpoints c
      CROSS JOIN (SELECT coalesce(max(global_position), 0) AS position FROM events) head
      -- The last event in reading order: if any event after the checkpoint is at or past
      -- the read watermark, this one is.
      LEFT JOIN (SELECT transaction_id, global_position FROM events
                  ORDER BY transaction_id DESC, global_position DESC LIMIT 1) last ON true
     ORDER BY c.kind DESC, c.name";
const SQLITE_STATUS: &str = "
    SELECT c.name, c.kind, c.position, c.state, c.failed_position, c.last_error,
           head.position AS head,
           max(head.position - c.position, 0) AS lag_events,
           coalesce((SELECT CAST((julianday('now') - julianday(e.recorded_at)) * 86400000 AS INTEGER)
                       FROM events e WHERE e.global_position > c.position
                      ORDER BY e.global_position LIMIT 1), 0) AS lag_ms
      FROM projection_checkpoints c
      CROSS JOIN (SELECT coalesce(max(global_position), 0) AS position FROM events) head
     ORDER BY c.kind DESC, c.name";

macro_rules! status {
    ($row:expr) => {
        ProjectionStatus {
            name: $row.get("name"),
            kind: $row.get("kind"),
            checkpoint: $row.get("position"),
            head: $row.get("head"),
            lag_events: $row.get("lag_events"),
            lag_ms: $row.get("lag_ms"),
            state: $row.get("state"),
            failed_position: $row.get("failed_position"),
            last_error: $row.get("last_error"),
            held_back_by: None,
        }
    };
}

/// The oldest running transaction that has an id (the one at the read watermark).
const PG_OLDEST_TRANSACTION: &str = "
    SELECT pid, to_char(xact_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
           (extract(epoch FROM now() - xact_start) * 1000)::bigint
      FROM pg_stat_activity WHERE backend_xid IS NOT NULL
     ORDER BY age(backend_xid) DESC LIMIT 1";

/// Every registered subscription's status, and on PostgreSQL the oldest open
/// transaction (whether or not it holds anyone back).
#[derive(Debug, Clone)]
pub struct Statuses {
    pub items: Vec<ProjectionStatus>,
    pub oldest_transaction: Option<OpenTransaction>,
}

impl ProjectionStore {
    /// Every registered subscription's checkpoint, head, lag and state; on PostgreSQL,
    /// for each one that committed events wait behind the oldest open transaction, that
    /// transaction, once it has been open `held_back_after` or longer.
    pub async fn statuses(&self, held_back_after: Duration) -> Result<Statuses, sqlx::Error> {
        Ok(match self {
            Self::Postgres(pool) => {
                let rows = sqlx::query(PG_STATUS).fetch_all(pool).await?;
                let oldest_transaction = sqlx::query_as(PG_OLDEST_TRANSACTION)
                    .fetch_optional(pool)
                    .await?
                    .map(|(pid, transaction_start, age_ms)| OpenTransaction {
                        pid,
                        transaction_start,
                        age_ms,
                    });
                let holder = oldest_transaction
                    .clone()
                    .filter(|open| open.age_ms >= held_back_after.as_millis() as i64);
                let items = rows
                    .iter()
                    .map(|row| ProjectionStatus {
                        held_back_by: holder.clone().filter(|_| row.get::<bool, _>("blocked")),
                        ..status!(row)
                    })
                    .collect();
                Statuses {
                    items,
                    oldest_transaction,
                }
            }
            Self::Sqlite(pool) => Statuses {
                items: sqlx::query(SQLITE_STATUS)
                    .fetch_all(pool)
                    .await?
                    .iter()
                    .map(|row| status!(row))
                    .collect(),
                oldest_transaction: None,
            },
        })
    }
}
