//! The notify policy: the booking user hears of each step of their booking —
//! requested, confirmed, denied, cancelled.
//!
//! A notification's id follows from the event that caused it, and its text names the
//! room, e.g. `conference room[556677] reservation is complete`.

use chrono::Utc;
use command_api::store::EventLog;
use domain::booking::booking::{Booking, BookingEvent};
use domain::booking::confirm::ConfirmEvent;
use domain::notifications::notification::NotificationCommand;
use projections::BusinessEvent;
use uuid::Uuid;

use crate::issue::{derived_id, PolicyCommand, PolicyError, Reaction};

/// The notification an event causes: one per event.
pub fn notification_id(event_id: &str) -> Uuid {
    derived_id("notification for event", event_id)
}

/// What the booking user is told, by the step the booking took.
pub fn contents(step: &str, room_id: i64) -> String {
    let news = match step {
        "BookingCreated" => "reservation is requested",
        "ConfirmCompleted" => "reservation is complete",
        "ConfirmDenied" => "reservation has been denied",
        _ => "reservation has been canceled",
    };
    format!("conference room[{room_id}] {news}")
}

pub(crate) async fn react<L: EventLog>(
    reaction: &Reaction<'_, L>,
    event: BusinessEvent,
) -> Result<(), PolicyError> {
    let booking_id = match event {
        BusinessEvent::Booking(BookingEvent::BookingCreated { .. })
        | BusinessEvent::Booking(BookingEvent::BookingCancelled { .. }) => {
            reaction.aggregate_id()?
        }
        BusinessEvent::Confirm(ConfirmEvent::ConfirmCompleted { booking_id, .. })
        | BusinessEvent::Confirm(ConfirmEvent::ConfirmDenied { booking_id, .. }) => booking_id,
        _ => return Ok(()),
    };
    let booking = reaction.load::<Booking>(booking_id).await?;
    let (Some(room_id), Some(user_id)) = (booking.room_id(), booking.booking_user_id()) else {
        tracing::warn!(%booking_id, "no such booking; nobody to notify");
        return Ok(());
    };
    let step = reaction.event.event_type.clone();
    let command = PolicyCommand::SendNotification {
        notification_id: notification_id(&reaction.event_id()),
        command: NotificationCommand::SendNotification {
            user_id: user_id.to_string(),
            contents: contents(&step, room_id),
            cause: step,
            sent_at: Utc::now(),
        },
    };
    reaction.issue(command).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_has_its_text_naming_the_room() {
        assert_eq!(
            contents("ConfirmCompleted", 556677),
            "conference room[556677] reservation is complete"
        );
        assert_eq!(
            contents("BookingCancelled", 7),
            "conference room[7] reservation has been canceled"
        );
        assert_eq!(
            contents("BookingCreated", 7),
            "conference room[7] reservation is requested"
        );
        assert_eq!(
            contents("ConfirmDenied", 7),
            "conference room[7] reservation has been denied"
        );
    }

    #[test]
    fn one_event_names_one_notification() {
        assert_eq!(notification_id("e-1"), notification_id("e-1"));
        assert_ne!(notification_id("e-1"), notification_id("e-2"));
    }
}
