//! The `Notification` aggregate: one message sent to a user.
//!
//! A notification is recorded once, with the event that caused it (`cause`) and the time
//! it was sent (from the command: the crate reads no clock). Delivering it to a log or a
//! webhook happens downstream of the event, never here.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::rules::{identifier, text_length, InvalidField};
use crate::{Rejection, RejectionKind};

/// Most characters in a user id.
pub const MAX_USER_ID_CHARS: usize = 64;
/// Most characters in a notification's contents.
pub const MAX_CONTENTS_CHARS: usize = 1000;

/// A notification's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Notification {
    sent: Option<SentNotification>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SentNotification {
    user_id: String,
    contents: String,
    cause: String,
    send_dtm: DateTime<Utc>,
}

impl Notification {
    /// Whether the notification has been sent.
    pub fn is_sent(&self) -> bool {
        self.sent.is_some()
    }

    /// The user notified, once sent.
    pub fn user_id(&self) -> Option<&str> {
        self.sent.as_ref().map(|n| n.user_id.as_str())
    }
}

/// What can be asked of a notification.
#[derive(Debug, Clone, PartialEq)]
pub enum NotificationCommand {
    SendNotification {
        user_id: String,
        contents: String,
        cause: String,
        sent_at: DateTime<Utc>,
    },
}

/// What happened to a notification. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum NotificationEvent {
    #[serde(rename = "NotificationSent", rename_all = "camelCase")]
    NotificationSent {
        user_id: String,
        contents: String,
        cause: String,
        send_dtm: DateTime<Utc>,
    },
}

/// The stored type names of [`NotificationEvent`].
pub const EVENT_TYPES: &[&str] = &["NotificationSent"];

impl NotificationEvent {
    /// The stored type names of every variant (same as [`EVENT_TYPES`]).
    pub const EVENT_TYPES: &'static [&'static str] = EVENT_TYPES;
}

impl DomainEvent for NotificationEvent {
    fn event_type(&self) -> String {
        match self {
            NotificationEvent::NotificationSent { .. } => "NotificationSent",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a notification command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NotificationError {
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("notification already sent")]
    AlreadySent,
}

impl From<InvalidField> for NotificationError {
    fn from(invalid: InvalidField) -> Self {
        NotificationError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for NotificationError {
    fn kind(&self) -> RejectionKind {
        match self {
            NotificationError::Invalid { .. } => RejectionKind::Invalid,
            NotificationError::AlreadySent => RejectionKind::Conflict,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            NotificationError::Invalid { .. } => "invalid_field",
            NotificationError::AlreadySent => "notification_already_sent",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            NotificationError::Invalid { field, .. } => Some(field),
            NotificationError::AlreadySent => None,
        }
    }
}

impl Notification {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(
        &self,
        command: NotificationCommand,
    ) -> Result<Vec<NotificationEvent>, NotificationError> {
        match command {
            NotificationCommand::SendNotification {
                user_id,
                contents,
                cause,
                sent_at,
            } => {
                if self.sent.is_some() {
                    return Err(NotificationError::AlreadySent);
                }
                identifier("userId", &user_id, MAX_USER_ID_CHARS)?;
                text_length("contents", &contents, 1, MAX_CONTENTS_CHARS)?;
                Ok(vec![NotificationEvent::NotificationSent {
                    user_id,
                    contents,
                    cause,
                    send_dtm: sent_at,
                }])
            }
        }
    }
}

impl Aggregate for Notification {
    const TYPE: &'static str = "Notification";
    type Command = NotificationCommand;
    type Event = NotificationEvent;
    type Error = NotificationError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _service: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            NotificationEvent::NotificationSent {
                user_id,
                contents,
                cause,
                send_dtm,
            } => {
                self.sent = Some(SentNotification {
                    user_id,
                    contents,
                    cause,
                    send_dtm,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::testing::{assert_invalid, assert_stored_as};

    type NotificationTest = TestFramework<Notification>;

    fn noon() -> DateTime<Utc> {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    fn send(user_id: &str, contents: &str) -> NotificationCommand {
        NotificationCommand::SendNotification {
            user_id: user_id.into(),
            contents: contents.into(),
            cause: "BookingCreated".into(),
            sent_at: noon(),
        }
    }

    fn sent(user_id: &str, contents: &str) -> NotificationEvent {
        NotificationEvent::NotificationSent {
            user_id: user_id.into(),
            contents: contents.into(),
            cause: "BookingCreated".into(),
            send_dtm: noon(),
        }
    }

    async fn rejects(command: NotificationCommand, field: &str) {
        let result = NotificationTest::with(())
            .given_no_previous_events()
            .when_async(command)
            .await;
        assert_invalid(result, field);
    }

    #[tokio::test]
    async fn sends_a_notification() {
        let contents = "conference room[556677] reservation is complete";
        NotificationTest::with(())
            .given_no_previous_events()
            .when_async(send("user-1", contents))
            .await
            .then_expect_events(vec![sent("user-1", contents)]);
    }

    #[tokio::test]
    async fn accepts_the_longest_user_id_and_contents() {
        let (user_id, contents) = ("u".repeat(64), "알".repeat(1000));
        NotificationTest::with(())
            .given_no_previous_events()
            .when_async(send(&user_id, &contents))
            .await
            .then_expect_events(vec![sent(&user_id, &contents)]);
    }

    #[tokio::test]
    async fn user_id_is_1_to_64_chars() {
        rejects(send("", "hello"), "userId").await;
        rejects(send(&"u".repeat(65), "hello"), "userId").await;
    }

    #[tokio::test]
    async fn contents_is_1_to_1000_chars() {
        rejects(send("user-1", ""), "contents").await;
        rejects(send("user-1", &"알".repeat(1001)), "contents").await;
    }

    #[tokio::test]
    async fn a_notification_is_sent_once() {
        NotificationTest::with(())
            .given(vec![sent("user-1", "hello")])
            .when_async(send("user-1", "hello"))
            .await
            .then_expect_error(NotificationError::AlreadySent);
        assert_eq!(
            NotificationError::AlreadySent.code(),
            "notification_already_sent"
        );
        assert_eq!(
            NotificationError::AlreadySent.kind(),
            RejectionKind::Conflict
        );
    }

    #[test]
    fn state_answers_from_its_events() {
        let mut notification = Notification::default();
        assert!(!notification.is_sent());
        notification.apply(sent("user-1", "hello"));
        assert!(notification.is_sent());
        assert_eq!(notification.user_id(), Some("user-1"));
    }

    #[test]
    fn stored_format_is_the_contract() {
        assert_stored_as(
            &sent("user-1", "reservation has been canceled"),
            json!({"NotificationSent": {
                "userId": "user-1",
                "contents": "reservation has been canceled",
                "cause": "BookingCreated",
                "sendDtm": "2024-05-01T12:00:00Z"
            }}),
            EVENT_TYPES,
        );
    }
}
