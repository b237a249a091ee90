//! The hotelNotify policy: the guest and the room's host hear of every stay booked and
//! cancelled, and the guest of every refund, through the shared notifications context.
//! Each notification's id follows from the event, the party told (guest or host) and
//! its recipient: a host who books their own room hears as both.

use chrono::{NaiveDate, Utc};
use command_api::store::EventLog;
use cqrs_es::Aggregate;
use domain::hotel::hotel_booking::{HotelBooking, HotelBookingEvent};
use domain::hotel::hotel_payment::{HotelPayment, HotelPaymentEvent};
use domain::notifications::notification::{Notification, NotificationCommand};
use futures::future::BoxFuture;
use projections::hotel::HotelEvent;
use projections::LogEvent;

use crate::issue::{derived_id, PolicyError, Reaction};
use crate::policy::{Issue, Policy};

pub(super) struct NotifyPolicy;

/// A notification the policy sends.
#[derive(Debug, Clone, PartialEq)]
struct Notify {
    /// `guest` or `host`.
    party: &'static str,
    user_id: String,
    contents: String,
}

/// What the stay's guest and host are told when it is booked.
fn booked(
    guest: &str,
    host: &str,
    room: &str,
    nights: (NaiveDate, NaiveDate),
    amount: i64,
) -> Vec<Notify> {
    let (start, end) = nights;
    vec![
        Notify {
            party: "guest",
            user_id: guest.to_string(),
            contents: format!("room {room} booked {start}~{end}, {amount} paid"),
        },
        Notify {
            party: "host",
            user_id: host.to_string(),
            contents: format!("new booking of room {room} {start}~{end}"),
        },
    ]
}

/// What the stay's guest and host are told when it is cancelled.
fn cancelled(guest: &str, host: &str, room: &str, nights: (NaiveDate, NaiveDate)) -> Vec<Notify> {
    let (start, end) = nights;
    let contents = format!("booking of room {room} {start}~{end} cancelled");
    [("guest", guest), ("host", host)]
        .into_iter()
        .map(|(party, user_id)| Notify {
            party,
            user_id: user_id.to_string(),
            contents: contents.clone(),
        })
        .collect()
}

/// What the guest is told of a refund.
fn refunded(guest: &str, amount: i64) -> Vec<Notify> {
    vec![Notify {
        party: "guest",
        user_id: guest.to_string(),
        contents: format!("payment of {amount} refunded"),
    }]
}

impl<L: EventLog> Policy<L> for NotifyPolicy {
    fn name(&self) -> &'static str {
        "hotelNotify"
    }

    fn reads(&self) -> &[&'static str] {
        &[HotelBooking::TYPE, HotelPayment::TYPE]
    }

    fn key_of(&self, event: &LogEvent) -> Result<String, serde_json::Error> {
        Ok(event.aggregate_id.clone())
    }

    fn react<'a>(
        &'a self,
        reaction: &'a Reaction<'a, L>,
    ) -> BoxFuture<'a, Result<Vec<Issue<L>>, PolicyError>> {
        Box::pin(async move {
            let notices = match reaction.decode::<HotelEvent>()? {
                Some(HotelEvent::Booking(HotelBookingEvent::RoomBooked {
                    room_name,
                    host_id,
                    guest_id,
                    start_date,
                    end_date,
                    amount,
                    ..
                })) => booked(
                    &guest_id,
                    &host_id,
                    &room_name,
                    (start_date, end_date),
                    amount,
                ),
                Some(HotelEvent::Booking(HotelBookingEvent::RoomBookingCancelled { .. })) => {
                    let stay = reaction
                        .load::<HotelBooking>(reaction.aggregate_id()?)
                        .await?;
                    match (
                        stay.guest_id(),
                        stay.host_id(),
                        stay.room_name(),
                        stay.dates(),
                    ) {
                        (Some(guest), Some(host), Some(room), Some(nights)) => {
                            cancelled(guest, host, room, nights)
                        }
                        _ => Vec::new(),
                    }
                }
                Some(HotelEvent::Payment(HotelPaymentEvent::PaymentCancelled {
                    amount, ..
                })) => {
                    let payment = reaction
                        .load::<HotelPayment>(reaction.aggregate_id()?)
                        .await?;
                    payment
                        .guest_id()
                        .map(|guest| refunded(guest, amount))
                        .unwrap_or_default()
                }
                _ => Vec::new(),
            };
            let event_id = reaction.event_id();
            let cause = &reaction.event.event_type;
            Ok(notices
                .into_iter()
                .map(|notice| send(&event_id, cause, notice))
                .collect())
        })
    }
}

/// The notification of `notice`, one per event, party and recipient.
fn send<L: EventLog>(event_id: &str, cause: &str, notice: Notify) -> Issue<L> {
    let recipient = format!("{} {}", notice.party, notice.user_id);
    let id = derived_id("hotel notification", format!("{event_id} {recipient}"));
    let command = NotificationCommand::SendNotification {
        user_id: notice.user_id,
        contents: notice.contents,
        cause: cause.to_string(),
        sent_at: Utc::now(),
    };
    Issue::on_new_stream::<Notification>(id, command).one_of_many(recipient)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nights() -> (NaiveDate, NaiveDate) {
        let day = |text: &str| text.parse().unwrap();
        (day("2027-01-10"), day("2027-01-12"))
    }

    #[test]
    fn a_stay_is_announced_to_its_guest_with_the_amount_and_to_the_host() {
        assert_eq!(
            booked("kim", "hana", "Ocean", nights(), 240_000),
            [
                Notify {
                    party: "guest",
                    user_id: "kim".into(),
                    contents: "room Ocean booked 2027-01-10~2027-01-12, 240000 paid".into(),
                },
                Notify {
                    party: "host",
                    user_id: "hana".into(),
                    contents: "new booking of room Ocean 2027-01-10~2027-01-12".into(),
                },
            ]
        );
    }

    #[test]
    fn a_cancelled_stay_is_told_to_both_and_a_refund_to_the_guest() {
        let told = cancelled("kim", "hana", "Ocean", nights());
        assert_eq!(told.len(), 2);
        assert!(told.iter().all(
            |notice| notice.contents == "booking of room Ocean 2027-01-10~2027-01-12 cancelled"
        ));
        assert_eq!(
            refunded("kim", 240_000),
            [Notify {
                party: "guest",
                user_id: "kim".into(),
                contents: "payment of 240000 refunded".into(),
            }]
        );
    }
}
