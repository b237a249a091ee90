//! The time-slot guard: of the active holders of one resource (a meeting room's
//! bookings, a hotel room's stays, a car's orders), no two hold overlapping half-open
//! intervals `[start, end)`, also when requests race. A holder claims its interval in
//! the commit of the event that creates it and releases it in the commit of the event
//! that cancels it.
//!
//! Each context names its own slots table (created by its migration) and the code an
//! overlap is refused with. The table has one row per active holder:
//! - PostgreSQL: `holder_id uuid PRIMARY KEY, resource_id <bigint|uuid>, period
//!   tstzrange`, with `EXCLUDE USING gist (resource_id WITH =, period WITH &&)`
//!   (`btree_gist`): the database refuses the overlap (23P01), whichever commit comes
//!   second, and a commit waiting on the first's uncommitted claim wins if it aborts.
//!   Claims on one resource take turns on a transaction-scoped advisory lock first: two
//!   overlapping inserts that each wait for the other's would otherwise deadlock
//!   (40P01) instead of one being refused as taken.
//! - SQLite: `holder_id TEXT PRIMARY KEY, resource_id INTEGER|TEXT, start_us INTEGER,
//!   end_us INTEGER` (microseconds since the epoch) with an index on
//!   `(resource_id, start_us)`: the single writer serialises the check and the insert.

use std::fmt;

use chrono::{DateTime, Utc};
use domain::{Rejection, RejectionKind};
use futures::future::BoxFuture;
use sqlx::{PgConnection, SqliteConnection};
use uuid::Uuid;

use super::{Guard, StoreError};

/// PostgreSQL's code for an exclusion-constraint violation (an overlapping claim).
const EXCLUSION_VIOLATION: &str = "23P01";

/// A context's time slots: its table, and how an overlap is refused.
#[derive(Debug)]
pub struct TimeSlots {
    table: &'static str,
    /// The 409's code, e.g. `room_unavailable`.
    code: &'static str,
    /// The 409's message.
    message: &'static str,
}

/// What holds slots: a meeting room is numbered, hotel rooms and cars have UUIDs.
#[derive(Debug, Clone, Copy)]
pub enum Resource {
    Number(i64),
    Id(Uuid),
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(number) => number.fmt(f),
            Self::Id(id) => id.fmt(f),
        }
    }
}

impl From<i64> for Resource {
    fn from(number: i64) -> Self {
        Self::Number(number)
    }
}

impl From<Uuid> for Resource {
    fn from(id: Uuid) -> Self {
        Self::Id(id)
    }
}

impl TimeSlots {
    pub const fn new(table: &'static str, code: &'static str, message: &'static str) -> Self {
        Self {
            table,
            code,
            message,
        }
    }

    /// `holder` claims `[start, end)` of `resource`; the commit is refused with this
    /// table's code if an active holder's interval overlaps it.
    pub fn claim(
        &'static self,
        holder: Uuid,
        resource: impl Into<Resource>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Box<dyn Guard> {
        Box::new(SlotChange::Claim {
            slots: self,
            holder,
            resource: resource.into(),
            start,
            end,
        })
    }

    /// `holder` gives its interval back.
    pub fn release(&'static self, holder: Uuid) -> Box<dyn Guard> {
        Box::new(SlotChange::Release {
            slots: self,
            holder,
        })
    }

    fn taken(&self) -> StoreError {
        StoreError::Refused(Box::new(SlotTaken {
            code: self.code,
            message: self.message,
        }))
    }
}

/// A claim or a release, run in its commit's transaction.
#[derive(Debug)]
enum SlotChange {
    Claim {
        slots: &'static TimeSlots,
        holder: Uuid,
        resource: Resource,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    Release {
        slots: &'static TimeSlots,
        holder: Uuid,
    },
}

/// An active holder of the resource overlaps the interval.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct SlotTaken {
    code: &'static str,
    message: &'static str,
}

impl Rejection for SlotTaken {
    fn kind(&self) -> RejectionKind {
        RejectionKind::Conflict
    }

    fn code(&self) -> &'static str {
        self.code
    }
}

impl Guard for SlotChange {
    fn on_postgres<'c>(
        &'c self,
        connection: &'c mut PgConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async move {
            let (slots, result) = match self {
                Self::Claim {
                    slots,
                    holder,
                    resource,
                    start,
                    end,
                } => {
                    sqlx::query(
                        "SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))",
                    )
                    .bind(slots.table)
                    .bind(resource.to_string())
                    .execute(&mut *connection)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    let sql = format!(
                        "INSERT INTO {} (holder_id, resource_id, period)
                         VALUES ($1, $2, tstzrange($3, $4, '[)'))",
                        slots.table
                    );
                    let query = sqlx::query(&sql).bind(holder);
                    let query = match resource {
                        Resource::Number(number) => query.bind(number),
                        Resource::Id(id) => query.bind(id),
                    };
                    let result = query.bind(start).bind(end).execute(&mut *connection).await;
                    (slots, result)
                }
                Self::Release { slots, holder } => {
                    let sql = format!("DELETE FROM {} WHERE holder_id = $1", slots.table);
                    let result = sqlx::query(&sql)
                        .bind(holder)
                        .execute(&mut *connection)
                        .await;
                    (slots, result)
                }
            };
            match result {
                Ok(_) => Ok(()),
                Err(sqlx::Error::Database(db))
                    if db.code().as_deref() == Some(EXCLUSION_VIOLATION) =>
                {
                    Err(slots.taken())
                }
                Err(error) => Err(StoreError::from_sqlx(error)),
            }
        })
    }

    fn on_sqlite<'c>(
        &'c self,
        connection: &'c mut SqliteConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async move {
            match self {
                Self::Claim {
                    slots,
                    holder,
                    resource,
                    start,
                    end,
                } => {
                    let (start_us, end_us) = (start.timestamp_micros(), end.timestamp_micros());
                    let overlapping = format!(
                        "SELECT EXISTS (SELECT 1 FROM {} WHERE resource_id = ?
                                           AND start_us < ? AND end_us > ?)",
                        slots.table
                    );
                    let query = sqlx::query_scalar(&overlapping);
                    let query = match resource {
                        Resource::Number(number) => query.bind(*number),
                        Resource::Id(_) => query.bind(resource.to_string()),
                    };
                    let overlapping: bool = query
                        .bind(end_us)
                        .bind(start_us)
                        .fetch_one(&mut *connection)
                        .await
                        .map_err(StoreError::from_sqlx)?;
                    if overlapping {
                        return Err(slots.taken());
                    }
                    let insert = format!(
                        "INSERT INTO {} (holder_id, resource_id, start_us, end_us)
                         VALUES (?, ?, ?, ?)",
                        slots.table
                    );
                    let query = sqlx::query(&insert).bind(holder.to_string());
                    let query = match resource {
                        Resource::Number(number) => query.bind(*number),
                        Resource::Id(_) => query.bind(resource.to_string()),
                    };
                    query
                        .bind(start_us)
                        .bind(end_us)
                        .execute(&mut *connection)
                        .await
                }
                Self::Release { slots, holder } => {
                    let delete = format!("DELETE FROM {} WHERE holder_id = ?", slots.table);
                    sqlx::query(&delete)
                        .bind(holder.to_string())
                        .execute(&mut *connection)
                        .await
                }
            }
            .map_err(StoreError::from_sqlx)?;
            Ok(())
        })
    }
}
