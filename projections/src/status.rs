//! Where each subscription stands, for `GET /admin/projections`.

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::subscription::ProjectionStore;

/// One view's (or policy's) progress over the log.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
    /// Events in the log not yet applied.
    pub lag_events: i64,
    /// Age of the oldest event not yet applied, in milliseconds (0 when caught up).
    pub lag_ms: i64,
    /// `running` or `failed` (`/admin/projections` also shows `rebuilding`).
    pub state: String,
    /// The poison event's position and error, while failed.
    pub failed_position: Option<i64>,
    pub last_error: Option<String>,
}

/// Unapplied events are those after the checkpoint in the store's reading order.
const PG_STATUS: &str = "
    SELECT c.name, c.kind, c.position, c.state, c.failed_position, c.last_error,
           (SELECT coalesce(max(global_position), 0) FROM events) AS head,
           pending.events AS lag_events,
           coalesce((extract(epoch FROM now() - pending.oldest) * 1000)::bigint, 0) AS lag_ms
      FROM projection_checkpoints c
      CROSS JOIN LATERAL (
            SELECT count(*) AS events, min(recorded_at) AS oldest FROM events e
             WHERE (e.transaction_id, e.global_position) > (c.transaction_id::text::xid8, c.position)
      ) pending
     ORDER BY c.kind DESC, c.name";
const SQLITE_STATUS: &str = "
    SELECT c.name, c.kind, c.position, c.state, c.failed_position, c.last_error,
           (SELECT coalesce(max(global_position), 0) FROM events) AS head,
           (SELECT count(*) FROM events e WHERE e.global_position > c.position) AS lag_events,
           coalesce((SELECT CAST((julianday('now') - julianday(min(e.recorded_at))) * 86400000 AS INTEGER)
                       FROM events e WHERE e.global_position > c.position), 0) AS lag_ms
      FROM projection_checkpoints c
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
        }
    };
}

impl ProjectionStore {
    /// Every registered subscription's checkpoint, head, lag and state.
    pub async fn statuses(&self) -> Result<Vec<ProjectionStatus>, sqlx::Error> {
        Ok(match self {
            Self::Postgres(pool) => sqlx::query(PG_STATUS)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| status!(row))
                .collect(),
            Self::Sqlite(pool) => sqlx::query(SQLITE_STATUS)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| status!(row))
                .collect(),
        })
    }
}
