//! The room guard: of the active bookings of one room, no two hold overlapping
//! intervals, also when requests race. It claims a booking's interval in
//! `room_reservations` in the booking's own commit and gives it back on cancellation;
//! on PostgreSQL an exclusion constraint refuses the overlap, on SQLite the single
//! writer serialises the check and the insert.

use chrono::{DateTime, Utc};
use domain::{Rejection, RejectionKind};
use futures::future::BoxFuture;
use sqlx::{PgConnection, SqliteConnection};
use uuid::Uuid;

use crate::store::{Guard, StoreError};

/// PostgreSQL's code for an exclusion-constraint violation (an overlapping reservation).
const EXCLUSION_VIOLATION: &str = "23P01";

/// The interval a booking holds in its room, or its release on cancellation.
#[derive(Debug, Clone)]
pub(super) enum RoomReservation {
    Reserve {
        booking_id: Uuid,
        room_id: i64,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    Release {
        booking_id: Uuid,
    },
}

/// The room already has an active booking overlapping the interval.
#[derive(Debug, thiserror::Error)]
#[error("the room is already booked for an overlapping period")]
struct RoomUnavailable;

impl Rejection for RoomUnavailable {
    fn kind(&self) -> RejectionKind {
        RejectionKind::Conflict
    }

    fn code(&self) -> &'static str {
        "room_unavailable"
    }
}

fn unavailable() -> StoreError {
    StoreError::Refused(Box::new(RoomUnavailable))
}

impl Guard for RoomReservation {
    fn on_postgres<'c>(
        &'c self,
        connection: &'c mut PgConnection,
    ) -> BoxFuture<'c, Result<(), StoreError>> {
        Box::pin(async move {
            let result = match self {
                Self::Reserve {
                    booking_id,
                    room_id,
                    start,
                    end,
                } => {
                    sqlx::query(
                        "INSERT INTO room_reservations (booking_id, room_id, period)
                         VALUES ($1, $2, tstzrange($3, $4, '[)'))",
                    )
                    .bind(booking_id)
                    .bind(room_id)
                    .bind(start)
                    .bind(end)
                    .execute(&mut *connection)
                    .await
                }
                Self::Release { booking_id } => {
                    sqlx::query("DELETE FROM room_reservations WHERE booking_id = $1")
                        .bind(booking_id)
                        .execute(&mut *connection)
                        .await
                }
            };
            match result {
                Ok(_) => Ok(()),
                Err(sqlx::Error::Database(db))
                    if db.code().as_deref() == Some(EXCLUSION_VIOLATION) =>
                {
                    Err(unavailable())
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
                Self::Reserve {
                    booking_id,
                    room_id,
                    start,
                    end,
                } => {
                    let (start_us, end_us) = (start.timestamp_micros(), end.timestamp_micros());
                    let overlapping: bool = sqlx::query_scalar(
                        "SELECT EXISTS (SELECT 1 FROM room_reservations
                                         WHERE room_id = ? AND start_us < ? AND end_us > ?)",
                    )
                    .bind(room_id)
                    .bind(end_us)
                    .bind(start_us)
                    .fetch_one(&mut *connection)
                    .await
                    .map_err(StoreError::from_sqlx)?;
                    if overlapping {
                        return Err(unavailable());
                    }
                    sqlx::query(
                        "INSERT INTO room_reservations (booking_id, room_id, start_us, end_us)
                         VALUES (?, ?, ?, ?)",
                    )
                    .bind(booking_id.to_string())
                    .bind(room_id)
                    .bind(start_us)
                    .bind(end_us)
                    .execute(&mut *connection)
                    .await
                }
                Self::Release { booking_id } => {
                    sqlx::query("DELETE FROM room_reservations WHERE booking_id = ?")
                        .bind(booking_id.to_string())
                        .execute(&mut *connection)
                        .await
                }
            }
            .map_err(StoreError::from_sqlx)?;
            Ok(())
        })
    }
}
