//! The `Confirm` aggregate: a manager's approval of one booking.
//!
//! Requested when a booking is created (status `BOOKED`), decided once by a manager
//! (`CONFIRMED` or `DENIED`), and deleted when its booking is cancelled (`DELETED`).
//! Decision times come in the commands: the crate reads no clock.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::rules::{identifier, text_length, InvalidField};
use crate::{Rejection, RejectionKind};

/// Most characters in a user or manager id.
pub const MAX_USER_ID_CHARS: usize = 64;

/// Where a confirm stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConfirmStatus {
    /// Requested, awaiting a manager's decision.
    Booked,
    /// Approved by a manager.
    Confirmed,
    /// Refused by a manager.
    Denied,
    /// Removed because its booking was cancelled.
    Deleted,
}

/// A confirm's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Confirm {
    booking_id: Option<Uuid>,
    user_id: Option<String>,
    status: Option<ConfirmStatus>,
    manager_id: Option<String>,
    confirm_dtm: Option<DateTime<Utc>>,
}

impl Confirm {
    /// Where the confirm stands, once requested.
    pub fn status(&self) -> Option<ConfirmStatus> {
        self.status
    }

    /// The booking this confirm is about, once requested.
    pub fn booking_id(&self) -> Option<Uuid> {
        self.booking_id
    }

    /// The user whose booking awaits approval, once requested.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The manager who decided, once decided.
    pub fn manager_id(&self) -> Option<&str> {
        self.manager_id.as_deref()
    }
}

/// What can be asked of a confirm.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfirmCommand {
    RequestConfirm {
        booking_id: Uuid,
        user_id: String,
    },
    CompleteConfirm {
        manager_id: String,
        at: DateTime<Utc>,
    },
    DenyConfirm {
        manager_id: String,
        at: DateTime<Utc>,
    },
    DeleteConfirm,
}

/// What happened to a confirm. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ConfirmEvent {
    #[serde(rename = "ConfirmRequested", rename_all = "camelCase")]
    ConfirmRequested { booking_id: Uuid, user_id: String },
    #[serde(rename = "ConfirmCompleted", rename_all = "camelCase")]
    ConfirmCompleted {
        booking_id: Uuid,
        manager_id: String,
        confirm_dtm: DateTime<Utc>,
    },
    #[serde(rename = "ConfirmDenied", rename_all = "camelCase")]
    ConfirmDenied {
        booking_id: Uuid,
        manager_id: String,
        confirm_dtm: DateTime<Utc>,
    },
    #[serde(rename = "ConfirmDeleted", rename_all = "camelCase")]
    ConfirmDeleted { booking_id: Uuid },
}

/// The stored type names of [`ConfirmEvent`].
pub const EVENT_TYPES: &[&str] = &[
    "ConfirmRequested",
    "ConfirmCompleted",
    "ConfirmDenied",
    "ConfirmDeleted",
];

impl ConfirmEvent {
    /// The stored type names of every variant (same as [`EVENT_TYPES`]).
    pub const EVENT_TYPES: &'static [&'static str] = EVENT_TYPES;
}

impl DomainEvent for ConfirmEvent {
    fn event_type(&self) -> String {
        match self {
            ConfirmEvent::ConfirmRequested { .. } => "ConfirmRequested",
            ConfirmEvent::ConfirmCompleted { .. } => "ConfirmCompleted",
            ConfirmEvent::ConfirmDenied { .. } => "ConfirmDenied",
            ConfirmEvent::ConfirmDeleted { .. } => "ConfirmDeleted",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a confirm command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfirmError {
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("confirm not found")]
    NotFound,
    #[error("confirm already exists")]
    AlreadyExists,
    #[error("confirm has already been decided")]
    AlreadyDecided,
    #[error("confirm has been deleted")]
    Deleted,
    #[error("confirm is already deleted")]
    AlreadyDeleted,
}

impl From<InvalidField> for ConfirmError {
    fn from(invalid: InvalidField) -> Self {
        ConfirmError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for ConfirmError {
    fn kind(&self) -> RejectionKind {
        match self {
            ConfirmError::Invalid { .. } => RejectionKind::Invalid,
            ConfirmError::NotFound => RejectionKind::NotFound,
            ConfirmError::AlreadyExists
            | ConfirmError::AlreadyDecided
            | ConfirmError::Deleted
            | ConfirmError::AlreadyDeleted => RejectionKind::Conflict,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ConfirmError::Invalid { .. } => "invalid_field",
            ConfirmError::NotFound => "confirm_not_found",
            ConfirmError::AlreadyExists => "confirm_already_exists",
            ConfirmError::AlreadyDecided => "confirm_already_decided",
            ConfirmError::Deleted => "confirm_deleted",
            ConfirmError::AlreadyDeleted => "confirm_already_deleted",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ConfirmError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl Confirm {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(&self, command: ConfirmCommand) -> Result<Vec<ConfirmEvent>, ConfirmError> {
        match command {
            ConfirmCommand::RequestConfirm {
                booking_id,
                user_id,
            } => {
                if self.status.is_some() {
                    return Err(ConfirmError::AlreadyExists);
                }
                identifier("userId", &user_id, MAX_USER_ID_CHARS)?;
                Ok(vec![ConfirmEvent::ConfirmRequested {
                    booking_id,
                    user_id,
                }])
            }
            ConfirmCommand::CompleteConfirm { manager_id, at } => {
                let booking_id = self.awaiting_decision()?;
                text_length("managerId", &manager_id, 1, MAX_USER_ID_CHARS)?;
                Ok(vec![ConfirmEvent::ConfirmCompleted {
                    booking_id,
                    manager_id,
                    confirm_dtm: at,
                }])
            }
            ConfirmCommand::DenyConfirm { manager_id, at } => {
                let booking_id = self.awaiting_decision()?;
                text_length("managerId", &manager_id, 1, MAX_USER_ID_CHARS)?;
                Ok(vec![ConfirmEvent::ConfirmDenied {
                    booking_id,
                    manager_id,
                    confirm_dtm: at,
                }])
            }
            ConfirmCommand::DeleteConfirm => match self.requested()? {
                (_, ConfirmStatus::Deleted) => Err(ConfirmError::AlreadyDeleted),
                (booking_id, _) => Ok(vec![ConfirmEvent::ConfirmDeleted { booking_id }]),
            },
        }
    }

    /// The booking and status of a requested confirm.
    fn requested(&self) -> Result<(Uuid, ConfirmStatus), ConfirmError> {
        match (self.booking_id, self.status) {
            (Some(booking_id), Some(status)) => Ok((booking_id, status)),
            _ => Err(ConfirmError::NotFound),
        }
    }

    /// A decision is taken once, and only on a confirm awaiting one.
    fn awaiting_decision(&self) -> Result<Uuid, ConfirmError> {
        match self.requested()? {
            (booking_id, ConfirmStatus::Booked) => Ok(booking_id),
            (_, ConfirmStatus::Confirmed | ConfirmStatus::Denied) => {
                Err(ConfirmError::AlreadyDecided)
            }
            (_, ConfirmStatus::Deleted) => Err(ConfirmError::Deleted),
        }
    }
}

impl Aggregate for Confirm {
    const TYPE: &'static str = "Confirm";
    type Command = ConfirmCommand;
    type Event = ConfirmEvent;
    type Error = ConfirmError;
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
            ConfirmEvent::ConfirmRequested {
                booking_id,
                user_id,
            } => {
                self.booking_id = Some(booking_id);
                self.user_id = Some(user_id);
                self.status = Some(ConfirmStatus::Booked);
            }
            ConfirmEvent::ConfirmCompleted {
                manager_id,
                confirm_dtm,
                ..
            } => {
                self.status = Some(ConfirmStatus::Confirmed);
                self.manager_id = Some(manager_id);
                self.confirm_dtm = Some(confirm_dtm);
            }
            ConfirmEvent::ConfirmDenied {
                manager_id,
                confirm_dtm,
                ..
            } => {
                self.status = Some(ConfirmStatus::Denied);
                self.manager_id = Some(manager_id);
                self.confirm_dtm = Some(confirm_dtm);
            }
            ConfirmEvent::ConfirmDeleted { .. } => self.status = Some(ConfirmStatus::Deleted),
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::testing::{assert_invalid, assert_stored_as};

    type ConfirmTest = TestFramework<Confirm>;

    const BOOKING: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0003);

    fn noon() -> DateTime<Utc> {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    fn requested() -> ConfirmEvent {
        ConfirmEvent::ConfirmRequested {
            booking_id: BOOKING,
            user_id: "user-1".into(),
        }
    }

    fn completed() -> ConfirmEvent {
        ConfirmEvent::ConfirmCompleted {
            booking_id: BOOKING,
            manager_id: "manager-1".into(),
            confirm_dtm: noon(),
        }
    }

    fn denied() -> ConfirmEvent {
        ConfirmEvent::ConfirmDenied {
            booking_id: BOOKING,
            manager_id: "manager-1".into(),
            confirm_dtm: noon(),
        }
    }

    fn deleted() -> ConfirmEvent {
        ConfirmEvent::ConfirmDeleted {
            booking_id: BOOKING,
        }
    }

    fn complete(manager_id: &str) -> ConfirmCommand {
        ConfirmCommand::CompleteConfirm {
            manager_id: manager_id.into(),
            at: noon(),
        }
    }

    fn deny(manager_id: &str) -> ConfirmCommand {
        ConfirmCommand::DenyConfirm {
            manager_id: manager_id.into(),
            at: noon(),
        }
    }

    async fn refuses(given: Vec<ConfirmEvent>, command: ConfirmCommand, error: ConfirmError) {
        ConfirmTest::with(())
            .given(given)
            .when_async(command)
            .await
            .then_expect_error(error);
    }

    #[tokio::test]
    async fn requests_a_confirm() {
        ConfirmTest::with(())
            .given_no_previous_events()
            .when_async(ConfirmCommand::RequestConfirm {
                booking_id: BOOKING,
                user_id: "user-1".into(),
            })
            .await
            .then_expect_events(vec![requested()]);
    }

    #[tokio::test]
    async fn request_needs_a_user_id_and_happens_once() {
        let result = ConfirmTest::with(())
            .given_no_previous_events()
            .when_async(ConfirmCommand::RequestConfirm {
                booking_id: BOOKING,
                user_id: String::new(),
            })
            .await;
        assert_invalid(result, "userId");
        let again = ConfirmCommand::RequestConfirm {
            booking_id: BOOKING,
            user_id: "user-1".into(),
        };
        refuses(vec![requested()], again, ConfirmError::AlreadyExists).await;
    }

    #[tokio::test]
    async fn a_manager_completes_a_booked_confirm() {
        ConfirmTest::with(())
            .given(vec![requested()])
            .when_async(complete("manager-1"))
            .await
            .then_expect_events(vec![completed()]);
    }

    #[tokio::test]
    async fn a_manager_denies_a_booked_confirm() {
        ConfirmTest::with(())
            .given(vec![requested()])
            .when_async(deny("manager-1"))
            .await
            .then_expect_events(vec![denied()]);
    }

    #[tokio::test]
    async fn manager_id_is_1_to_64_chars() {
        ConfirmTest::with(())
            .given(vec![requested()])
            .when_async(complete(&"m".repeat(64)))
            .await
            .then_expect_events(vec![ConfirmEvent::ConfirmCompleted {
                booking_id: BOOKING,
                manager_id: "m".repeat(64),
                confirm_dtm: noon(),
            }]);
        for command in [complete(""), deny(&"m".repeat(65))] {
            let result = ConfirmTest::with(())
                .given(vec![requested()])
                .when_async(command)
                .await;
            assert_invalid(result, "managerId");
        }
    }

    #[tokio::test]
    async fn a_decision_is_taken_once() {
        let decided = ConfirmError::AlreadyDecided;
        refuses(vec![requested(), completed()], complete("m2"), decided).await;
        refuses(
            vec![requested(), completed()],
            deny("m2"),
            ConfirmError::AlreadyDecided,
        )
        .await;
        refuses(
            vec![requested(), denied()],
            complete("m2"),
            ConfirmError::AlreadyDecided,
        )
        .await;
        refuses(
            vec![requested(), denied()],
            deny("m2"),
            ConfirmError::AlreadyDecided,
        )
        .await;
        assert_eq!(
            ConfirmError::AlreadyDecided.code(),
            "confirm_already_decided"
        );
        assert_eq!(ConfirmError::AlreadyDecided.kind(), RejectionKind::Conflict);
    }

    #[tokio::test]
    async fn a_deleted_confirm_cannot_be_decided() {
        refuses(
            vec![requested(), deleted()],
            complete("m"),
            ConfirmError::Deleted,
        )
        .await;
        refuses(
            vec![requested(), deleted()],
            deny("m"),
            ConfirmError::Deleted,
        )
        .await;
        assert_eq!(ConfirmError::Deleted.code(), "confirm_deleted");
    }

    #[tokio::test]
    async fn deletes_from_any_state_but_deleted() {
        for given in [
            vec![requested()],
            vec![requested(), completed()],
            vec![requested(), denied()],
        ] {
            ConfirmTest::with(())
                .given(given)
                .when_async(ConfirmCommand::DeleteConfirm)
                .await
                .then_expect_events(vec![deleted()]);
        }
        refuses(
            vec![requested(), denied(), deleted()],
            ConfirmCommand::DeleteConfirm,
            ConfirmError::AlreadyDeleted,
        )
        .await;
        assert_eq!(
            ConfirmError::AlreadyDeleted.code(),
            "confirm_already_deleted"
        );
    }

    #[tokio::test]
    async fn an_unknown_confirm_is_not_found() {
        for command in [complete("m"), deny("m"), ConfirmCommand::DeleteConfirm] {
            refuses(vec![], command, ConfirmError::NotFound).await;
        }
        assert_eq!(ConfirmError::NotFound.code(), "confirm_not_found");
        assert_eq!(ConfirmError::NotFound.kind(), RejectionKind::NotFound);
    }

    #[test]
    fn state_answers_from_its_events() {
        let mut confirm = Confirm::default();
        assert_eq!((confirm.status(), confirm.booking_id()), (None, None));
        confirm.apply(requested());
        assert_eq!(confirm.status(), Some(ConfirmStatus::Booked));
        assert_eq!(confirm.booking_id(), Some(BOOKING));
        assert_eq!(confirm.user_id(), Some("user-1"));
        confirm.apply(denied());
        assert_eq!(confirm.status(), Some(ConfirmStatus::Denied));
        assert_eq!(confirm.manager_id(), Some("manager-1"));
        confirm.apply(deleted());
        assert_eq!(confirm.status(), Some(ConfirmStatus::Deleted));
    }

    #[test]
    fn status_uses_upper_case_names() {
        assert_eq!(
            serde_json::to_value([
                ConfirmStatus::Booked,
                ConfirmStatus::Confirmed,
                ConfirmStatus::Denied,
                ConfirmStatus::Deleted
            ])
            .unwrap(),
            json!(["BOOKED", "CONFIRMED", "DENIED", "DELETED"])
        );
    }

    #[test]
    fn stored_format_is_the_contract() {
        let booking_id = BOOKING.to_string();
        assert_stored_as(
            &requested(),
            json!({"ConfirmRequested": {"bookingId": booking_id, "userId": "user-1"}}),
            EVENT_TYPES,
        );
        assert_stored_as(
            &completed(),
            json!({"ConfirmCompleted": {
                "bookingId": booking_id, "managerId": "manager-1",
                "confirmDtm": "2024-05-01T12:00:00Z"
            }}),
            EVENT_TYPES,
        );
        assert_stored_as(
            &denied(),
            json!({"ConfirmDenied": {
                "bookingId": booking_id, "managerId": "manager-1",
                "confirmDtm": "2024-05-01T12:00:00Z"
            }}),
            EVENT_TYPES,
        );
        assert_stored_as(
            &deleted(),
            json!({"ConfirmDeleted": {"bookingId": booking_id}}),
            EVENT_TYPES,
        );
    }
}
