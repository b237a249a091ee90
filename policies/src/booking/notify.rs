//! The notify policy: the booking user hears of each step of their booking —
//! requested, confirmed, denied, cancelled.
//!
//! A notification's id follows from the event that caused it, and its text names the
//! room, e.g. `conference room[556677] reservation is complete`.

use chrono::Utc;
use command_api::store::EventLog;
use domain::booking::booking::{Booking, BookingEvent};
use domain::booking::confirm::ConfirmEvent;
use domain::notifications::notification::{Notification, NotificationCommand};
use futures::future::BoxFuture;
use projections::booking::BookingContextEvent;
use projections::table::ContextEvent;
use projections::LogEvent;
use uuid::Uuid;

use crate::issue::{derived_id, PolicyError, Reaction};
use crate::policy::{Issue, Policy};

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

/// The notify policy.
pub(super) struct NotifyPolicy;

impl<L: EventLog> Policy<L> for NotifyPolicy {
    fn name(&self) -> &'static str {
        "notify"
    }

    fn reads(&self) -> &[&'static str] {
        BookingContextEvent::AGGREGATE_TYPES
    }

    fn key_of(&self, event: &LogEvent) -> Result<String, serde_json::Error> {
        super::booking_key(event)
    }

    fn react<'a>(
        &'a self,
        reaction: &'a Reaction<'a, L>,
    ) -> BoxFuture<'a, Result<Vec<Issue<L>>, PolicyError>> {
        Box::pin(async move {
            let Some(event) = reaction.decode::<BookingContextEvent>()? else {
                return Ok(Vec::new());
            };
            let booking_id = match event {
                BookingContextEvent::Booking(
                    BookingEvent::BookingCreated { .. } | BookingEvent::BookingCancelled { .. },
                ) => reaction.aggregate_id()?,
                BookingContextEvent::Confirm(
                    ConfirmEvent::ConfirmCompleted { booking_id, .. }
                    | ConfirmEvent::ConfirmDenied { booking_id, .. },
                ) => booking_id,
                _ => return Ok(Vec::new()),
            };
            let booking = reaction.load::<Booking>(booking_id).await?;
            let (Some(room_id), Some(user_id)) = (booking.room_id(), booking.booking_user_id())
            else {
                tracing::warn!(%booking_id, "no such booking; nobody to notify");
                return Ok(Vec::new());
            };
            let step = reaction.event.event_type.clone();
            let command = NotificationCommand::SendNotification {
                user_id: user_id.to_string(),
                contents: contents(&step, room_id),
                cause: step,
                sent_at: Utc::now(),
            };
            let notification_id = notification_id(&reaction.event_id());
            Ok(vec![Issue::command::<Notification>(
                notification_id,
                command,
            )])
        })
    }
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
