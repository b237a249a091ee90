//! **bookingList**: one row per booking in `booking_list` — the room and period booked,
//! by whom, and where the booking and its manager's confirm stand.
//!
//! - `BookingCreated` inserts the row (bookingStatus CREATED).
//! - `BookingCancelled` sets bookingStatus CANCELLED.
//! - `ConfirmRequested` sets confirmId (the confirm's aggregate id) and confirmStatus
//!   BOOKED on the row of the payload's bookingId.
//! - `ConfirmCompleted` / `ConfirmDenied` set confirmStatus CONFIRMED / DENIED,
//!   confirmDtm and confirmUserId (the deciding manager).
//! - `ConfirmDeleted` sets confirmStatus DELETED (the decision, if any, stays shown).
//!
//! An update whose booking row does not exist changes nothing. The mypage view keeps the
//! same rows per user in `mypage_bookings` through [`BookingTable`] and [`apply_to`].

use domain::booking::BookingEvent;
use domain::confirm::{ConfirmEvent, ConfirmStatus};

use super::order_list::{update, wire_name};
use crate::event::{timestamp, BusinessEvent, LogEvent};
use crate::sql::{Arg, ViewTx};

/// bookingStatus of a booking that holds its room.
const CREATED: &str = "CREATED";
/// bookingStatus once cancelled.
const CANCELLED: &str = "CANCELLED";

/// The statements that keep one table of booking rows (`booking_list`,
/// `mypage_bookings`); the updates are [`update_sql`](super::order_list::update_sql)s
/// keyed by booking_id.
pub(super) struct BookingTable {
    /// `$1` booking_id, `$2` room_id, `$3` use_start_dtm, `$4` use_end_dtm,
    /// `$5` booking_user_id, `$6` booking_dtm, `$7` booking_status, `$8` position,
    /// `$9` updated_at.
    pub create: &'static str,
    /// Sets booking_status.
    pub cancel: &'static str,
    /// Sets confirm_id and confirm_status.
    pub confirm: &'static str,
    /// Sets confirm_id, confirm_status, confirm_dtm and confirm_user_id.
    pub decide: &'static str,
}

/// The [`BookingTable`] of the table `$table`, optionally with an owner column filled
/// from one of the insert's parameters (mypage: `"user_id" = "$5"`, the booking user).
macro_rules! booking_table {
    ($table:literal $(, $owner:literal = $owner_value:literal)?) => {{
        use $crate::views::order_list::update_sql;
        $crate::views::booking_list::BookingTable {
            create: concat!(
                "INSERT INTO ", $table, " (booking_id, room_id, use_start_dtm, use_end_dtm, \
                 booking_user_id, booking_dtm, booking_status, position, updated_at",
                $(", ", $owner,)? ") \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9", $(", ", $owner_value,)? ") \
                 ON CONFLICT (booking_id) DO UPDATE SET room_id = excluded.room_id, \
                 use_start_dtm = excluded.use_start_dtm, use_end_dtm = excluded.use_end_dtm, \
                 booking_user_id = excluded.booking_user_id, \
                 booking_dtm = excluded.booking_dtm, booking_status = excluded.booking_status, \
                 position = excluded.position, updated_at = excluded.updated_at",
                $(", ", $owner, " = excluded.", $owner,)?
                " WHERE ", $table, ".position < $8"
            ),
            cancel: update_sql!(
                $table,
                "booking_status = $1, position = $2, updated_at = $3",
                "booking_id = $4",
                "$2"
            ),
            confirm: update_sql!(
                $table,
                "confirm_id = $1, confirm_status = $2, position = $3, updated_at = $4",
                "booking_id = $5",
                "$3"
            ),
            decide: update_sql!(
                $table,
                "confirm_id = $1, confirm_status = $2, confirm_dtm = $3, confirm_user_id = $4, \
                 position = $5, updated_at = $6",
                "booking_id = $7",
                "$5"
            ),
        }
    }};
}
pub(super) use booking_table;

/// The bookingList view's table.
const BOOKING_LIST: BookingTable = booking_table!("booking_list");

pub(super) async fn apply(
    tx: &mut ViewTx<'_>,
    event: &LogEvent,
    business: &BusinessEvent,
) -> Result<(), sqlx::Error> {
    apply_to(&BOOKING_LIST, tx, event, business).await
}

/// Applies a booking or confirm event to one table of booking rows; other events change
/// nothing.
pub(super) async fn apply_to(
    table: &BookingTable,
    tx: &mut ViewTx<'_>,
    event: &LogEvent,
    business: &BusinessEvent,
) -> Result<(), sqlx::Error> {
    let aggregate_id = event.aggregate_id.as_str();
    match business {
        BusinessEvent::Booking(BookingEvent::BookingCreated {
            room_id,
            use_start_dtm,
            use_end_dtm,
            booking_user_id,
            booking_dtm,
        }) => {
            let (start, end) = (timestamp(use_start_dtm), timestamp(use_end_dtm));
            let booking_dtm = timestamp(booking_dtm);
            let updated_at = event.recorded_at_text();
            let args = [
                Arg::Text(aggregate_id),
                Arg::Int(*room_id),
                Arg::Text(&start),
                Arg::Text(&end),
                Arg::Text(booking_user_id),
                Arg::Text(&booking_dtm),
                Arg::Text(CREATED),
                Arg::Int(event.position),
                Arg::Text(&updated_at),
            ];
            tx.execute(table.create, &args).await?;
        }
        BusinessEvent::Booking(BookingEvent::BookingCancelled { .. }) => {
            update(
                tx,
                table.cancel,
                &[Arg::Text(CANCELLED)],
                event,
                aggregate_id,
            )
            .await?;
        }
        BusinessEvent::Confirm(confirm) => {
            let (booking_id, status, decision) = match confirm {
                ConfirmEvent::ConfirmRequested { booking_id, .. } => {
                    (booking_id, ConfirmStatus::Booked, None)
                }
                ConfirmEvent::ConfirmCompleted {
                    booking_id,
                    manager_id,
                    confirm_dtm,
                } => (
                    booking_id,
                    ConfirmStatus::Confirmed,
                    Some((manager_id, confirm_dtm)),
                ),
                ConfirmEvent::ConfirmDenied {
                    booking_id,
                    manager_id,
                    confirm_dtm,
                } => (
                    booking_id,
                    ConfirmStatus::Denied,
                    Some((manager_id, confirm_dtm)),
                ),
                ConfirmEvent::ConfirmDeleted { booking_id } => {
                    (booking_id, ConfirmStatus::Deleted, None)
                }
            };
            let status = wire_name(&status)?;
            let booking_id = booking_id.to_string();
            match decision {
                None => {
                    let values = [Arg::Text(aggregate_id), Arg::Text(&status)];
                    update(tx, table.confirm, &values, event, &booking_id).await?;
                }
                Some((manager_id, confirm_dtm)) => {
                    let confirm_dtm = timestamp(confirm_dtm);
                    let values = [
                        Arg::Text(aggregate_id),
                        Arg::Text(&status),
                        Arg::Text(&confirm_dtm),
                        Arg::Text(manager_id),
                    ];
                    update(tx, table.decide, &values, event, &booking_id).await?;
                }
            }
        }
        BusinessEvent::Order(_)
        | BusinessEvent::Payment(_)
        | BusinessEvent::Delivery(_)
        | BusinessEvent::Notification(_) => {}
    }
    Ok(())
}
