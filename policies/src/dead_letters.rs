//! Dead letters: what a policy could not do and skipped, recorded once in
//! `policy_rejections` — a command the domain refused, a notification the webhook
//! refused (a 3xx or 4xx, which sending again as it is would not cure). An operator sees
//! them (`GET /admin/deadLetters`, `strata_dead_letters`) and sends a refused
//! notification again once the receiver is fixed (`POST /admin/deadLetters/resend`,
//! [`NotificationSink::resend`](crate::NotificationSink::resend)).

use chrono::{DateTime, Utc};
use projections::ProjectionStore;
use serde::Serialize;
use utoipa::ToSchema;

/// How many dead letters one listing shows, oldest first.
pub const LISTED: i64 = 500;

/// The code of a notification the webhook refused: the one kind that can be sent again.
pub const WEBHOOK_REFUSED: &str = "webhook_refused";

/// Something a policy could not do for one event.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    /// Names it: the policy, what it did and the causing event.
    #[schema(example = "policy notificationSink deliver 01938f2e-…")]
    pub key: String,
    #[schema(example = "notificationSink")]
    pub policy: String,
    /// The global position of the event it reacted to.
    pub position: i64,
    /// Why: the domain's code for a refused command, `webhook_refused` for a
    /// notification the webhook refused.
    #[schema(example = "webhook_refused")]
    pub code: String,
    pub message: String,
    pub recorded_at: DateTime<Utc>,
    /// Whether `POST /admin/deadLetters/resend` can send it again.
    pub resendable: bool,
}

type Row = (String, String, i64, String, String, DateTime<Utc>);

const LIST: &str = "
    SELECT scope_key, policy, event_position, code, message, recorded_at
      FROM policy_rejections ORDER BY recorded_at, scope_key LIMIT $1";
const ONE: &str = "
    SELECT scope_key, policy, event_position, code, message, recorded_at
      FROM policy_rejections WHERE scope_key = $1";
const COUNTS: &str = "SELECT policy, count(*) FROM policy_rejections GROUP BY policy";
const FORGET: &str = "DELETE FROM policy_rejections WHERE scope_key = $1";
const REFUSED_AGAIN: &str = "UPDATE policy_rejections SET message = $2 WHERE scope_key = $1";

fn dead_letter((key, policy, position, code, message, recorded_at): Row) -> DeadLetter {
    DeadLetter {
        resendable: code == WEBHOOK_REFUSED,
        key,
        policy,
        position,
        code,
        message,
        recorded_at,
    }
}

/// The oldest [`LISTED`] dead letters.
pub async fn list(store: &ProjectionStore) -> Result<Vec<DeadLetter>, sqlx::Error> {
    let rows: Vec<Row> = match store {
        ProjectionStore::Postgres(pool) => {
            sqlx::query_as(LIST).bind(LISTED).fetch_all(pool).await?
        }
        ProjectionStore::Sqlite(pool) => sqlx::query_as(LIST).bind(LISTED).fetch_all(pool).await?,
    };
    Ok(rows.into_iter().map(dead_letter).collect())
}

/// The dead letter `key`, if there is one.
pub async fn find(store: &ProjectionStore, key: &str) -> Result<Option<DeadLetter>, sqlx::Error> {
    let row: Option<Row> = match store {
        ProjectionStore::Postgres(pool) => {
            sqlx::query_as(ONE).bind(key).fetch_optional(pool).await?
        }
        ProjectionStore::Sqlite(pool) => sqlx::query_as(ONE).bind(key).fetch_optional(pool).await?,
    };
    Ok(row.map(dead_letter))
}

/// How many dead letters each policy has.
pub async fn counts(store: &ProjectionStore) -> Result<Vec<(String, i64)>, sqlx::Error> {
    Ok(match store {
        ProjectionStore::Postgres(pool) => sqlx::query_as(COUNTS).fetch_all(pool).await?,
        ProjectionStore::Sqlite(pool) => sqlx::query_as(COUNTS).fetch_all(pool).await?,
    })
}

/// Forgets the dead letter `key` (it was sent again).
pub(crate) async fn forget(store: &ProjectionStore, key: &str) -> Result<(), sqlx::Error> {
    execute(store, FORGET, &[key]).await
}

/// Records why sending the dead letter `key` again failed.
pub(crate) async fn refused_again(
    store: &ProjectionStore,
    key: &str,
    message: &str,
) -> Result<(), sqlx::Error> {
    execute(store, REFUSED_AGAIN, &[key, message]).await
}

async fn execute(store: &ProjectionStore, sql: &str, texts: &[&str]) -> Result<(), sqlx::Error> {
    match store {
        ProjectionStore::Postgres(pool) => {
            let query = texts
                .iter()
                .fold(sqlx::query(sql), |query, text| query.bind(*text));
            query.execute(pool).await?;
        }
        ProjectionStore::Sqlite(pool) => {
            let query = texts
                .iter()
                .fold(sqlx::query(sql), |query, text| query.bind(*text));
            query.execute(pool).await?;
        }
    }
    Ok(())
}
