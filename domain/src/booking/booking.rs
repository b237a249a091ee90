//! The `Booking` aggregate: a user's reservation of a meeting room for a time interval.
//!
//! A booking holds the half-open interval `[useStartDtm, useEndDtm)` of at most 24 hours
//! and is cancelled at most once (by its user, or because the manager denied it).
//!
//! That two active bookings of one room never overlap is a rule across aggregates, so it
//! is not decided here: the command API enforces it in the store, inside the transaction
//! that appends `BookingCreated`. [`overlaps`] is the one definition of "overlap" it uses.

use chrono::{DateTime, TimeDelta, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::rules::{identifier, text_length, InvalidField};
use crate::{Rejection, RejectionKind};

/// The longest a booking may last.
pub const MAX_BOOKING_DURATION: TimeDelta = TimeDelta::hours(24);
/// The earliest and latest instants a booking may hold: every store can keep them, and
/// their text form (four-digit years) sorts as they do.
pub const EARLIEST: &str = "1970-01-01T00:00:00Z";
pub const LATEST: &str = "9999-12-31T23:59:59Z";
/// Most characters in a booking user id.
pub const MAX_BOOKING_USER_ID_CHARS: usize = 64;
/// Most characters in a cancellation reason.
pub const MAX_REASON_CHARS: usize = 200;

/// Whether the half-open intervals `[a_start, a_end)` and `[b_start, b_end)` share an
/// instant. Back-to-back intervals (`a_end == b_start`) do not overlap.
pub fn overlaps(
    a_start: DateTime<Utc>,
    a_end: DateTime<Utc>,
    b_start: DateTime<Utc>,
    b_end: DateTime<Utc>,
) -> bool {
    a_start < b_end && b_start < a_end
}

/// A booking's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Booking {
    created: Option<CreatedBooking>,
    cancel_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatedBooking {
    room_id: i64,
    use_start_dtm: DateTime<Utc>,
    use_end_dtm: DateTime<Utc>,
    booking_user_id: String,
    booking_dtm: DateTime<Utc>,
}

impl Booking {
    /// The room booked, once created.
    pub fn room_id(&self) -> Option<i64> {
        self.created.as_ref().map(|b| b.room_id)
    }

    /// The user who booked, once created.
    pub fn booking_user_id(&self) -> Option<&str> {
        self.created.as_ref().map(|b| b.booking_user_id.as_str())
    }

    /// The booked interval `[start, end)`, once created.
    pub fn interval(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.created
            .as_ref()
            .map(|b| (b.use_start_dtm, b.use_end_dtm))
    }

    /// Whether the booking has been cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancel_reason.is_some()
    }
}

/// What can be asked of a booking.
#[derive(Debug, Clone, PartialEq)]
pub enum BookingCommand {
    CreateBooking(CreateBooking),
    /// `requested_by` is the user asking, when a customer asks: only the booking's own
    /// user may, and anyone else is told there is no such booking (ids cannot be
    /// probed). `None` when staff or a policy cancels.
    CancelBooking {
        reason: String,
        requested_by: Option<String>,
    },
}

/// Book a room. `requested_at` is when the request arrived (the crate reads no clock);
/// it is recorded as the event's `bookingDtm`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateBooking {
    pub room_id: i64,
    pub use_start_dtm: DateTime<Utc>,
    pub use_end_dtm: DateTime<Utc>,
    pub booking_user_id: String,
    pub requested_at: DateTime<Utc>,
}

/// What happened to a booking. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BookingEvent {
    #[serde(rename = "BookingCreated", rename_all = "camelCase")]
    BookingCreated {
        room_id: i64,
        use_start_dtm: DateTime<Utc>,
        use_end_dtm: DateTime<Utc>,
        booking_user_id: String,
        booking_dtm: DateTime<Utc>,
    },
    #[serde(rename = "BookingCancelled", rename_all = "camelCase")]
    BookingCancelled { reason: String },
}

/// The stored type names of [`BookingEvent`].
pub const EVENT_TYPES: &[&str] = &["BookingCreated", "BookingCancelled"];

impl BookingEvent {
    /// The stored type names of every variant (same as [`EVENT_TYPES`]).
    pub const EVENT_TYPES: &'static [&'static str] = EVENT_TYPES;
}

impl DomainEvent for BookingEvent {
    fn event_type(&self) -> String {
        match self {
            BookingEvent::BookingCreated { .. } => "BookingCreated",
            BookingEvent::BookingCancelled { .. } => "BookingCancelled",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a booking command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BookingError {
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("booking not found")]
    NotFound,
    #[error("booking already exists")]
    AlreadyExists,
    #[error("booking is already cancelled")]
    AlreadyCancelled,
}

impl From<InvalidField> for BookingError {
    fn from(invalid: InvalidField) -> Self {
        BookingError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for BookingError {
    fn kind(&self) -> RejectionKind {
        match self {
            BookingError::Invalid { .. } => RejectionKind::Invalid,
            BookingError::NotFound => RejectionKind::NotFound,
            BookingError::AlreadyExists | BookingError::AlreadyCancelled => RejectionKind::Conflict,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            BookingError::Invalid { .. } => "invalid_field",
            BookingError::NotFound => "booking_not_found",
            BookingError::AlreadyExists => "booking_already_exists",
            BookingError::AlreadyCancelled => "booking_already_cancelled",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            BookingError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// One of the bounds above as an instant.
fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_default()
}

impl Booking {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(&self, command: BookingCommand) -> Result<Vec<BookingEvent>, BookingError> {
        match command {
            BookingCommand::CreateBooking(create) => {
                if self.created.is_some() {
                    return Err(BookingError::AlreadyExists);
                }
                if create.room_id < 1 {
                    return Err(
                        InvalidField::new("roomId", "roomId must be a positive integer").into(),
                    );
                }
                let (earliest, latest) = (instant(EARLIEST), instant(LATEST));
                for (field, at) in [
                    ("useStartDtm", create.use_start_dtm),
                    ("useEndDtm", create.use_end_dtm),
                ] {
                    if !(earliest..=latest).contains(&at) {
                        let reason = format!("{field} must be between {EARLIEST} and {LATEST}");
                        return Err(InvalidField::new(field, reason).into());
                    }
                }
                if create.use_end_dtm <= create.use_start_dtm {
                    return Err(InvalidField::new(
                        "useEndDtm",
                        "useEndDtm must be after useStartDtm",
                    )
                    .into());
                }
                if create.use_end_dtm - create.use_start_dtm > MAX_BOOKING_DURATION {
                    return Err(InvalidField::new(
                        "useEndDtm",
                        "useEndDtm must be at most 24 hours after useStartDtm",
                    )
                    .into());
                }
                identifier(
                    "bookingUserId",
                    &create.booking_user_id,
                    MAX_BOOKING_USER_ID_CHARS,
                )?;
                Ok(vec![BookingEvent::BookingCreated {
                    room_id: create.room_id,
                    use_start_dtm: create.use_start_dtm,
                    use_end_dtm: create.use_end_dtm,
                    booking_user_id: create.booking_user_id,
                    booking_dtm: create.requested_at,
                }])
            }
            BookingCommand::CancelBooking {
                reason,
                requested_by,
            } => {
                let Some(created) = &self.created else {
                    return Err(BookingError::NotFound);
                };
                if requested_by.is_some_and(|user| user != created.booking_user_id) {
                    return Err(BookingError::NotFound);
                }
                if self.is_cancelled() {
                    return Err(BookingError::AlreadyCancelled);
                }
                text_length("reason", &reason, 1, MAX_REASON_CHARS)?;
                Ok(vec![BookingEvent::BookingCancelled { reason }])
            }
        }
    }
}

impl Aggregate for Booking {
    const TYPE: &'static str = "Booking";
    type Command = BookingCommand;
    type Event = BookingEvent;
    type Error = BookingError;
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
            BookingEvent::BookingCreated {
                room_id,
                use_start_dtm,
                use_end_dtm,
                booking_user_id,
                booking_dtm,
            } => {
                self.created = Some(CreatedBooking {
                    room_id,
                    use_start_dtm,
                    use_end_dtm,
                    booking_user_id,
                    booking_dtm,
                });
            }
            BookingEvent::BookingCancelled { reason } => self.cancel_reason = Some(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::testing::{assert_invalid, assert_stored_as};

    type BookingTest = TestFramework<Booking>;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().unwrap()
    }

    fn create() -> CreateBooking {
        CreateBooking {
            room_id: 556677,
            use_start_dtm: at("2024-05-01T09:00:00Z"),
            use_end_dtm: at("2024-05-01T10:00:00Z"),
            booking_user_id: "user-1".into(),
            requested_at: at("2024-04-30T12:00:00Z"),
        }
    }

    fn created(create: CreateBooking) -> BookingEvent {
        BookingEvent::BookingCreated {
            room_id: create.room_id,
            use_start_dtm: create.use_start_dtm,
            use_end_dtm: create.use_end_dtm,
            booking_user_id: create.booking_user_id,
            booking_dtm: create.requested_at,
        }
    }

    async fn accepts(create: CreateBooking) {
        BookingTest::with(())
            .given_no_previous_events()
            .when_async(BookingCommand::CreateBooking(create.clone()))
            .await
            .then_expect_events(vec![created(create)]);
    }

    async fn rejects(create: CreateBooking, field: &str) {
        let result = BookingTest::with(())
            .given_no_previous_events()
            .when_async(BookingCommand::CreateBooking(create))
            .await;
        assert_invalid(result, field);
    }

    fn cancel(reason: &str) -> BookingCommand {
        BookingCommand::CancelBooking {
            reason: reason.into(),
            requested_by: None,
        }
    }

    fn cancel_asked_by(user: &str) -> BookingCommand {
        BookingCommand::CancelBooking {
            reason: "CUSTOMER".into(),
            requested_by: Some(user.into()),
        }
    }

    #[tokio::test]
    async fn a_user_cancels_their_own_booking() {
        BookingTest::with(())
            .given(vec![created(create())])
            .when_async(cancel_asked_by("user-1"))
            .await
            .then_expect_events(vec![BookingEvent::BookingCancelled {
                reason: "CUSTOMER".into(),
            }]);
    }

    #[tokio::test]
    async fn another_users_booking_is_not_found() {
        BookingTest::with(())
            .given(vec![created(create())])
            .when_async(cancel_asked_by("user-2"))
            .await
            .then_expect_error(BookingError::NotFound);
    }

    #[tokio::test]
    async fn a_booking_lies_between_1970_and_the_year_9999() {
        for (field, create) in [
            (
                "useStartDtm",
                CreateBooking {
                    use_start_dtm: at("-5000-01-01T00:00:00Z"),
                    ..create()
                },
            ),
            (
                "useStartDtm",
                CreateBooking {
                    use_start_dtm: at("1969-12-31T23:00:00Z"),
                    use_end_dtm: at("1970-01-01T01:00:00Z"),
                    ..create()
                },
            ),
            (
                "useEndDtm",
                CreateBooking {
                    use_start_dtm: at("9999-12-31T23:00:00Z"),
                    use_end_dtm: at("+10000-01-01T00:30:00Z"),
                    ..create()
                },
            ),
        ] {
            let result = BookingTest::with(())
                .given_no_previous_events()
                .when_async(BookingCommand::CreateBooking(create))
                .await;
            assert_invalid(result, field);
        }
    }

    #[tokio::test]
    async fn creates_a_booking_stamped_with_the_request_time() {
        accepts(create()).await;
    }

    #[tokio::test]
    async fn creating_twice_conflicts() {
        BookingTest::with(())
            .given(vec![created(create())])
            .when_async(BookingCommand::CreateBooking(create()))
            .await
            .then_expect_error(BookingError::AlreadyExists);
    }

    #[tokio::test]
    async fn room_id_is_positive() {
        accepts(CreateBooking {
            room_id: 1,
            ..create()
        })
        .await;
        rejects(
            CreateBooking {
                room_id: 0,
                ..create()
            },
            "roomId",
        )
        .await;
        rejects(
            CreateBooking {
                room_id: -5,
                ..create()
            },
            "roomId",
        )
        .await;
    }

    #[tokio::test]
    async fn start_must_be_before_end() {
        let start = create().use_start_dtm;
        rejects(
            CreateBooking {
                use_end_dtm: start,
                ..create()
            },
            "useEndDtm",
        )
        .await;
        BookingTest::with(())
            .given_no_previous_events()
            .when_async(BookingCommand::CreateBooking(CreateBooking {
                use_end_dtm: start - TimeDelta::minutes(30),
                ..create()
            }))
            .await
            .then_expect_error_message("useEndDtm must be after useStartDtm");
    }

    #[tokio::test]
    async fn lasts_at_most_24_hours() {
        let start = create().use_start_dtm;
        accepts(CreateBooking {
            use_end_dtm: start + TimeDelta::hours(24),
            ..create()
        })
        .await;
        rejects(
            CreateBooking {
                use_end_dtm: start + TimeDelta::hours(24) + TimeDelta::seconds(1),
                ..create()
            },
            "useEndDtm",
        )
        .await;
    }

    #[tokio::test]
    async fn booking_user_id_is_1_to_64_chars() {
        accepts(CreateBooking {
            booking_user_id: "u".repeat(64),
            ..create()
        })
        .await;
        rejects(
            CreateBooking {
                booking_user_id: String::new(),
                ..create()
            },
            "bookingUserId",
        )
        .await;
        rejects(
            CreateBooking {
                booking_user_id: "u".repeat(65),
                ..create()
            },
            "bookingUserId",
        )
        .await;
    }

    #[tokio::test]
    async fn cancels_a_booking() {
        BookingTest::with(())
            .given(vec![created(create())])
            .when_async(cancel("DENIED"))
            .await
            .then_expect_events(vec![BookingEvent::BookingCancelled {
                reason: "DENIED".into(),
            }]);
    }

    #[tokio::test]
    async fn cancel_reason_is_1_to_200_chars() {
        BookingTest::with(())
            .given(vec![created(create())])
            .when_async(cancel(&"취".repeat(200)))
            .await
            .then_expect_events(vec![BookingEvent::BookingCancelled {
                reason: "취".repeat(200),
            }]);
        for reason in [String::new(), "취".repeat(201)] {
            let result = BookingTest::with(())
                .given(vec![created(create())])
                .when_async(cancel(&reason))
                .await;
            assert_invalid(result, "reason");
        }
    }

    #[tokio::test]
    async fn cancelling_an_unknown_booking_is_not_found() {
        BookingTest::with(())
            .given_no_previous_events()
            .when_async(cancel("changed plans"))
            .await
            .then_expect_error(BookingError::NotFound);
        assert_eq!(BookingError::NotFound.code(), "booking_not_found");
    }

    #[tokio::test]
    async fn a_booking_is_cancelled_at_most_once() {
        BookingTest::with(())
            .given(vec![
                created(create()),
                BookingEvent::BookingCancelled {
                    reason: "DENIED".into(),
                },
            ])
            .when_async(cancel("changed plans"))
            .await
            .then_expect_error(BookingError::AlreadyCancelled);
        assert_eq!(
            BookingError::AlreadyCancelled.code(),
            "booking_already_cancelled"
        );
    }

    #[test]
    fn back_to_back_intervals_do_not_overlap() {
        let (nine, ten, eleven) = (
            at("2024-05-01T09:00:00Z"),
            at("2024-05-01T10:00:00Z"),
            at("2024-05-01T11:00:00Z"),
        );
        assert!(!overlaps(nine, ten, ten, eleven));
        assert!(!overlaps(ten, eleven, nine, ten));
    }

    #[test]
    fn intersecting_intervals_overlap() {
        let t = |minute: i64| at("2024-05-01T09:00:00Z") + TimeDelta::minutes(minute);
        assert!(overlaps(t(0), t(60), t(59), t(120)), "partial");
        assert!(overlaps(t(0), t(120), t(30), t(60)), "containing");
        assert!(overlaps(t(30), t(60), t(0), t(120)), "contained");
        assert!(overlaps(t(0), t(60), t(0), t(60)), "identical");
        assert!(!overlaps(t(0), t(30), t(60), t(90)), "apart");
    }

    #[test]
    fn state_answers_from_its_events() {
        let mut booking = Booking::default();
        assert_eq!((booking.room_id(), booking.booking_user_id()), (None, None));
        booking.apply(created(create()));
        assert_eq!(booking.room_id(), Some(556677));
        assert_eq!(booking.booking_user_id(), Some("user-1"));
        assert_eq!(
            booking.interval(),
            Some((create().use_start_dtm, create().use_end_dtm))
        );
        assert!(!booking.is_cancelled());
        booking.apply(BookingEvent::BookingCancelled {
            reason: "DENIED".into(),
        });
        assert!(booking.is_cancelled());
    }

    #[test]
    fn stored_format_is_the_contract() {
        assert_stored_as(
            &created(create()),
            json!({"BookingCreated": {
                "roomId": 556677,
                "useStartDtm": "2024-05-01T09:00:00Z",
                "useEndDtm": "2024-05-01T10:00:00Z",
                "bookingUserId": "user-1",
                "bookingDtm": "2024-04-30T12:00:00Z"
            }}),
            EVENT_TYPES,
        );
        assert_stored_as(
            &BookingEvent::BookingCancelled {
                reason: "DENIED".into(),
            },
            json!({"BookingCancelled": {"reason": "DENIED"}}),
            EVENT_TYPES,
        );
    }
}
