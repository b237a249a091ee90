//! The hotel policy: a deleted room's stays from its deletion day on are cancelled
//! (`ROOM_DELETED`), and a cancelled stay's payment is refunded.
//!
//! A stay may race the deletion of its room: booked on the room as it stood, committed
//! after `RoomDeleted`. The policy follows each room's events in one sequence (its key
//! is the room), and remembers every stay and every deleted room in its own tables, each
//! row written once: whichever of the two it reads first, the other finds it, so the
//! stay is cancelled either way.

use command_api::store::EventLog;
use cqrs_es::Aggregate;
use domain::hotel::hotel_booking::{
    Canceller, HotelBooking, HotelBookingCommand, HotelBookingEvent,
};
use domain::hotel::hotel_payment::{HotelPayment, HotelPaymentCommand};
use domain::hotel::hotel_room::{HotelRoom, HotelRoomEvent};
use futures::future::BoxFuture;
use projections::hotel::HotelEvent;
use projections::sql::Arg;
use projections::LogEvent;
use uuid::Uuid;

use crate::issue::{PolicyError, Reaction};
use crate::policy::{Issue, Policy};

const REMEMBER_STAY: &str = "
    INSERT INTO policy_hotel_stays (booking_id, room_id, start_date) VALUES ($1, $2, $3)
    ON CONFLICT (booking_id) DO NOTHING";
const REMEMBER_DELETION: &str = "
    INSERT INTO policy_hotel_deleted_rooms (room_id, deleted_on) VALUES ($1, $2)
    ON CONFLICT (room_id) DO NOTHING";
/// The day room `$1` was deleted, if it was.
const DELETED_ON: &str = "SELECT deleted_on FROM policy_hotel_deleted_rooms WHERE room_id = $1";
/// The stays of room `$1` from the day `$2` on.
const STAYS_FROM: &str = "
    SELECT booking_id FROM policy_hotel_stays WHERE room_id = $1 AND start_date >= $2
     ORDER BY booking_id";

pub(super) struct RoomsPolicy;

/// What the policy does, as the "then" column of its table names it.
#[derive(Debug, Clone, PartialEq)]
enum Then {
    CancelRoomBooking { booking_id: Uuid },
    CancelHotelPayment { payment_id: Uuid },
}

impl<L: EventLog> Policy<L> for RoomsPolicy {
    fn name(&self) -> &'static str {
        "hotel"
    }

    fn reads(&self) -> &[&'static str] {
        &[HotelRoom::TYPE, HotelBooking::TYPE]
    }

    /// A room's events and its stays' bookings share the room's key; a cancellation
    /// (which names no room) is keyed by its stay.
    fn key_of(&self, event: &LogEvent) -> Result<String, serde_json::Error> {
        if event.aggregate_type == HotelBooking::TYPE {
            if let HotelBookingEvent::RoomBooked { room_id, .. } = event.payload_as()? {
                return Ok(room_id.to_string());
            }
        }
        Ok(event.aggregate_id.clone())
    }

    fn react<'a>(
        &'a self,
        reaction: &'a Reaction<'a, L>,
    ) -> BoxFuture<'a, Result<Vec<Issue<L>>, PolicyError>> {
        Box::pin(async move {
            let thens = match reaction.decode::<HotelEvent>()? {
                Some(HotelEvent::Room(HotelRoomEvent::RoomDeleted { deleted_on })) => {
                    let room = &reaction.event.aggregate_id;
                    let day = deleted_on.to_string();
                    let store = reaction.store();
                    store
                        .execute(REMEMBER_DELETION, &[Arg::Text(room), Arg::Text(&day)])
                        .await?;
                    let stays = store
                        .fetch_texts(STAYS_FROM, &[Arg::Text(room), Arg::Text(&day)])
                        .await?;
                    cancel_active(reaction, stays).await?
                }
                Some(HotelEvent::Booking(HotelBookingEvent::RoomBooked {
                    room_id,
                    start_date,
                    ..
                })) => {
                    let (booking, room) = (&reaction.event.aggregate_id, room_id.to_string());
                    let first_night = start_date.to_string();
                    let store = reaction.store();
                    let args = [
                        Arg::Text(booking),
                        Arg::Text(&room),
                        Arg::Text(&first_night),
                    ];
                    store.execute(REMEMBER_STAY, &args).await?;
                    let deleted_on = store.fetch_text(DELETED_ON, &[Arg::Text(&room)]).await?;
                    // Dates as YYYY-MM-DD compare as text.
                    match deleted_on {
                        Some(day) if first_night >= day => {
                            cancel_active(reaction, vec![booking.clone()]).await?
                        }
                        _ => Vec::new(),
                    }
                }
                Some(HotelEvent::Booking(HotelBookingEvent::RoomBookingCancelled { .. })) => {
                    let booking = reaction
                        .load::<HotelBooking>(reaction.aggregate_id()?)
                        .await?;
                    booking
                        .payment_id()
                        .map(|payment_id| Then::CancelHotelPayment { payment_id })
                        .into_iter()
                        .collect()
                }
                _ => Vec::new(),
            };
            Ok(thens.into_iter().map(issue).collect())
        })
    }
}

/// Cancels those of `stays` that still stand (a stay its guest cancelled meanwhile is
/// left alone).
async fn cancel_active<L: EventLog>(
    reaction: &Reaction<'_, L>,
    stays: Vec<String>,
) -> Result<Vec<Then>, PolicyError> {
    let mut thens = Vec::new();
    for stay in stays {
        let booking_id: Uuid = stay.parse().map_err(|error| PolicyError::Poison {
            policy: "hotel",
            position: reaction.event.position,
            reason: format!("stay id {stay} is not a UUID: {error}"),
        })?;
        if reaction.load::<HotelBooking>(booking_id).await?.is_active() {
            thens.push(Then::CancelRoomBooking { booking_id });
        }
    }
    Ok(thens)
}

fn issue<L: EventLog>(then: Then) -> Issue<L> {
    match then {
        Then::CancelRoomBooking { booking_id } => Issue::command::<HotelBooking>(
            booking_id,
            HotelBookingCommand::CancelRoomBooking {
                by: Canceller::RoomDeleted,
            },
        )
        .one_of_many(booking_id.to_string()),
        Then::CancelHotelPayment { payment_id } => {
            Issue::command::<HotelPayment>(payment_id, HotelPaymentCommand::CancelHotelPayment)
        }
    }
}
