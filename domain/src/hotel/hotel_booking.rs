//! The `HotelBooking` aggregate: a guest's stay of nights in a room.
//!
//! A stay holds the half-open range of dates `[startDate, endDate)`: the guest sleeps
//! the nights starting on `startDate` up to the one before `endDate`, the check-out day,
//! which may be the next guest's check-in day. A stay lasts 1 to [`MAX_NIGHTS`] nights,
//! starts no earlier than today and at most [`MAX_DAYS_AHEAD`] days ahead, and costs the
//! room's nightly price times its nights. It is cancelled at most once: by its guest, by
//! the room's host, by an admin, or because the room was deleted.
//!
//! That two active stays in one room never share a night is a rule across aggregates,
//! so it is not decided here: the command API claims the nights in the store, as the
//! instants [`stay_instants`] gives, inside the transaction that appends `RoomBooked`.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::rules::{identifier, InvalidField};
use crate::{Rejection, RejectionKind};

/// The most nights one stay may hold.
pub const MAX_NIGHTS: i64 = 30;
/// How many days ahead of today a stay may start at the latest.
pub const MAX_DAYS_AHEAD: i64 = 365;
/// Most characters in a guest id.
pub const MAX_GUEST_ID_CHARS: usize = 64;

/// The instants the store claims for a stay `[start, end)`: midnight UTC of each date.
/// Back-to-back stays (one's `end` the other's `start`) meet at one instant and so do
/// not overlap.
pub fn stay_instants(start: NaiveDate, end: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        start.and_time(NaiveTime::MIN).and_utc(),
        end.and_time(NaiveTime::MIN).and_utc(),
    )
}

/// What a booking needs to know of its room, read from the room's stream by the command
/// API (see [`crate::hotel::hotel_room::HotelRoom::facts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomFacts {
    pub room_id: Uuid,
    pub name: String,
    pub host_id: String,
    /// The nightly price (minor units).
    pub price: i64,
    /// Whether the room has been deleted (a deleted room cannot be booked).
    pub deleted: bool,
}

/// A booking's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HotelBooking {
    booked: Option<BookedStay>,
    cancelled_by: Option<CancelledBy>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BookedStay {
    room_id: Uuid,
    room_name: String,
    host_id: String,
    guest_id: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    nights: i64,
    amount: i64,
    payment_id: Uuid,
    booked_at: DateTime<Utc>,
}

impl HotelBooking {
    /// The room booked, once booked.
    pub fn room_id(&self) -> Option<Uuid> {
        self.booked.as_ref().map(|b| b.room_id)
    }

    /// The guest who booked, once booked.
    pub fn guest_id(&self) -> Option<&str> {
        self.booked.as_ref().map(|b| b.guest_id.as_str())
    }

    /// The host of the room booked, as it was when booked.
    pub fn host_id(&self) -> Option<&str> {
        self.booked.as_ref().map(|b| b.host_id.as_str())
    }

    /// The name of the room booked, as it was when booked.
    pub fn room_name(&self) -> Option<&str> {
        self.booked.as_ref().map(|b| b.room_name.as_str())
    }

    /// The stay `[startDate, endDate)`, once booked.
    pub fn dates(&self) -> Option<(NaiveDate, NaiveDate)> {
        self.booked.as_ref().map(|b| (b.start_date, b.end_date))
    }

    /// What the stay costs (minor units), once booked.
    pub fn amount(&self) -> Option<i64> {
        self.booked.as_ref().map(|b| b.amount)
    }

    /// The payment taken for the stay, once booked.
    pub fn payment_id(&self) -> Option<Uuid> {
        self.booked.as_ref().map(|b| b.payment_id)
    }

    /// Whether the stay is booked and not cancelled.
    pub fn is_active(&self) -> bool {
        self.booked.is_some() && self.cancelled_by.is_none()
    }
}

/// What can be asked of a booking.
#[derive(Debug, Clone, PartialEq)]
pub enum HotelBookingCommand {
    BookRoom(BookRoom),
    CancelRoomBooking { by: Canceller },
}

/// Book nights in a room, with what the command API looked up: the room's facts
/// (`None` when no room has the id asked for), today's date and the request's instant
/// (the crate reads no clock), and the id of the payment it takes in the same request.
#[derive(Debug, Clone, PartialEq)]
pub struct BookRoom {
    pub room: Option<RoomFacts>,
    pub guest_id: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub payment_id: Uuid,
    pub today: NaiveDate,
    pub booked_at: DateTime<Utc>,
}

/// Who asks to cancel a booking. A guest or host carries their sub: a guest may cancel
/// only their own stay and a host only stays in their own rooms; anyone else is told
/// there is no such booking (ids cannot be probed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Canceller {
    Guest(String),
    Host(String),
    Admin,
    /// The room was deleted: the hotel policy cancels each of its stays still to come.
    RoomDeleted,
}

/// Who cancelled a booking, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CancelledBy {
    Guest,
    Host,
    Admin,
    RoomDeleted,
}

impl From<&Canceller> for CancelledBy {
    fn from(canceller: &Canceller) -> Self {
        match canceller {
            Canceller::Guest(_) => CancelledBy::Guest,
            Canceller::Host(_) => CancelledBy::Host,
            Canceller::Admin => CancelledBy::Admin,
            Canceller::RoomDeleted => CancelledBy::RoomDeleted,
        }
    }
}

/// What happened to a booking. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HotelBookingEvent {
    /// The room's name, host and price are copied in as they were when booked, so the
    /// stay reads the same after the room changes or is deleted.
    #[serde(rename = "RoomBooked", rename_all = "camelCase")]
    RoomBooked {
        room_id: Uuid,
        room_name: String,
        host_id: String,
        guest_id: String,
        start_date: NaiveDate,
        end_date: NaiveDate,
        nights: i64,
        amount: i64,
        payment_id: Uuid,
        booked_at: DateTime<Utc>,
    },
    #[serde(rename = "RoomBookingCancelled", rename_all = "camelCase")]
    RoomBookingCancelled { cancelled_by: CancelledBy },
}

/// The stored type names of [`HotelBookingEvent`].
pub const EVENT_TYPES: &[&str] = &["RoomBooked", "RoomBookingCancelled"];

impl HotelBookingEvent {
    /// The stored type names of every variant (same as [`EVENT_TYPES`]).
    pub const EVENT_TYPES: &'static [&'static str] = EVENT_TYPES;
}

impl DomainEvent for HotelBookingEvent {
    fn event_type(&self) -> String {
        match self {
            HotelBookingEvent::RoomBooked { .. } => "RoomBooked",
            HotelBookingEvent::RoomBookingCancelled { .. } => "RoomBookingCancelled",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a booking command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum HotelBookingError {
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("hotel booking not found")]
    NotFound,
    #[error("hotel booking already exists")]
    AlreadyExists,
    /// The booking names a room no host registered.
    #[error("roomId names no room")]
    RoomNotFound,
    #[error("the room has been deleted")]
    RoomDeleted,
    #[error("hotel booking is already cancelled")]
    AlreadyCancelled,
}

impl From<InvalidField> for HotelBookingError {
    fn from(invalid: InvalidField) -> Self {
        HotelBookingError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for HotelBookingError {
    fn kind(&self) -> RejectionKind {
        match self {
            HotelBookingError::Invalid { .. } | HotelBookingError::RoomNotFound => {
                RejectionKind::Invalid
            }
            HotelBookingError::NotFound => RejectionKind::NotFound,
            HotelBookingError::AlreadyExists
            | HotelBookingError::RoomDeleted
            | HotelBookingError::AlreadyCancelled => RejectionKind::Conflict,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            HotelBookingError::Invalid { .. } => "invalid_field",
            HotelBookingError::NotFound => "hotel_booking_not_found",
            HotelBookingError::AlreadyExists => "hotel_booking_already_exists",
            HotelBookingError::RoomNotFound => "room_not_found",
            HotelBookingError::RoomDeleted => "room_deleted",
            HotelBookingError::AlreadyCancelled => "hotel_booking_already_cancelled",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            HotelBookingError::Invalid { field, .. } => Some(field),
            HotelBookingError::RoomNotFound => Some("roomId"),
            _ => None,
        }
    }
}

impl HotelBooking {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(
        &self,
        command: HotelBookingCommand,
    ) -> Result<Vec<HotelBookingEvent>, HotelBookingError> {
        match command {
            HotelBookingCommand::BookRoom(book) => {
                if self.booked.is_some() {
                    return Err(HotelBookingError::AlreadyExists);
                }
                let Some(room) = book.room else {
                    return Err(HotelBookingError::RoomNotFound);
                };
                if room.deleted {
                    return Err(HotelBookingError::RoomDeleted);
                }
                identifier("guestId", &book.guest_id, MAX_GUEST_ID_CHARS)?;
                if book.end_date <= book.start_date {
                    return Err(
                        InvalidField::new("endDate", "endDate must be after startDate").into(),
                    );
                }
                // Subtracting dates cannot overflow, where adding days to one can.
                let nights = (book.end_date - book.start_date).num_days();
                if nights > MAX_NIGHTS {
                    return Err(InvalidField::new(
                        "endDate",
                        "a stay is at most 30 nights: endDate must be at most 30 days after startDate",
                    )
                    .into());
                }
                if book.start_date < book.today {
                    return Err(InvalidField::new(
                        "startDate",
                        "startDate must not be in the past",
                    )
                    .into());
                }
                if (book.start_date - book.today).num_days() > MAX_DAYS_AHEAD {
                    return Err(InvalidField::new(
                        "startDate",
                        "startDate must be at most 365 days ahead",
                    )
                    .into());
                }
                Ok(vec![HotelBookingEvent::RoomBooked {
                    room_id: room.room_id,
                    room_name: room.name,
                    host_id: room.host_id,
                    guest_id: book.guest_id,
                    start_date: book.start_date,
                    end_date: book.end_date,
                    nights,
                    amount: room.price.saturating_mul(nights),
                    payment_id: book.payment_id,
                    booked_at: book.booked_at,
                }])
            }
            HotelBookingCommand::CancelRoomBooking { by } => {
                let Some(booked) = &self.booked else {
                    return Err(HotelBookingError::NotFound);
                };
                let may_cancel = match &by {
                    Canceller::Guest(sub) => *sub == booked.guest_id,
                    Canceller::Host(sub) => *sub == booked.host_id,
                    Canceller::Admin | Canceller::RoomDeleted => true,
                };
                if !may_cancel {
                    return Err(HotelBookingError::NotFound);
                }
                if self.cancelled_by.is_some() {
                    return Err(HotelBookingError::AlreadyCancelled);
                }
                Ok(vec![HotelBookingEvent::RoomBookingCancelled {
                    cancelled_by: CancelledBy::from(&by),
                }])
            }
        }
    }
}

impl Aggregate for HotelBooking {
    const TYPE: &'static str = "HotelBooking";
    type Command = HotelBookingCommand;
    type Event = HotelBookingEvent;
    type Error = HotelBookingError;
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
            HotelBookingEvent::RoomBooked {
                room_id,
                room_name,
                host_id,
                guest_id,
                start_date,
                end_date,
                nights,
                amount,
                payment_id,
                booked_at,
            } => {
                self.booked = Some(BookedStay {
                    room_id,
                    room_name,
                    host_id,
                    guest_id,
                    start_date,
                    end_date,
                    nights,
                    amount,
                    payment_id,
                    booked_at,
                });
            }
            HotelBookingEvent::RoomBookingCancelled { cancelled_by } => {
                self.cancelled_by = Some(cancelled_by);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::testing::{assert_invalid, assert_stored_as};

    type HotelBookingTest = TestFramework<HotelBooking>;

    const ROOM: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00a1);
    const PAYMENT: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00c1);

    fn at(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().unwrap()
    }

    fn day(iso: &str) -> NaiveDate {
        iso.parse().unwrap()
    }

    fn room() -> RoomFacts {
        RoomFacts {
            room_id: ROOM,
            name: "바다 전망 스위트".into(),
            host_id: "host-1".into(),
            price: 120_000,
            deleted: false,
        }
    }

    /// Three nights, Christmas Eve to the 27th, booked on the 1st.
    fn book() -> BookRoom {
        BookRoom {
            room: Some(room()),
            guest_id: "guest-1".into(),
            start_date: day("2026-12-24"),
            end_date: day("2026-12-27"),
            payment_id: PAYMENT,
            today: day("2026-12-01"),
            booked_at: at("2026-12-01T09:00:00Z"),
        }
    }

    fn booked(book: BookRoom) -> HotelBookingEvent {
        let room = book.room.unwrap();
        let nights = (book.end_date - book.start_date).num_days();
        HotelBookingEvent::RoomBooked {
            room_id: room.room_id,
            room_name: room.name,
            host_id: room.host_id,
            guest_id: book.guest_id,
            start_date: book.start_date,
            end_date: book.end_date,
            nights,
            amount: room.price * nights,
            payment_id: book.payment_id,
            booked_at: book.booked_at,
        }
    }

    fn cancelled(cancelled_by: CancelledBy) -> HotelBookingEvent {
        HotelBookingEvent::RoomBookingCancelled { cancelled_by }
    }

    fn cancel(by: Canceller) -> HotelBookingCommand {
        HotelBookingCommand::CancelRoomBooking { by }
    }

    async fn accepts(book: BookRoom) {
        HotelBookingTest::with(())
            .given_no_previous_events()
            .when_async(HotelBookingCommand::BookRoom(book.clone()))
            .await
            .then_expect_events(vec![booked(book)]);
    }

    async fn rejects(book: BookRoom, field: &str) {
        let result = HotelBookingTest::with(())
            .given_no_previous_events()
            .when_async(HotelBookingCommand::BookRoom(book))
            .await;
        assert_invalid(result, field);
    }

    async fn rejects_with(book: BookRoom, message: &str) {
        HotelBookingTest::with(())
            .given_no_previous_events()
            .when_async(HotelBookingCommand::BookRoom(book))
            .await
            .then_expect_error_message(message);
    }

    async fn cancels(by: Canceller, cancelled_by: CancelledBy) {
        HotelBookingTest::with(())
            .given(vec![booked(book())])
            .when_async(cancel(by))
            .await
            .then_expect_events(vec![cancelled(cancelled_by)]);
    }

    async fn cannot_find_it_to_cancel(by: Canceller) {
        HotelBookingTest::with(())
            .given(vec![booked(book())])
            .when_async(cancel(by))
            .await
            .then_expect_error(HotelBookingError::NotFound);
    }

    #[tokio::test]
    async fn books_the_nights_of_a_stay_stamped_with_the_request_time() {
        accepts(book()).await;
    }

    #[tokio::test]
    async fn the_amount_is_the_price_times_the_nights() {
        HotelBookingTest::with(())
            .given_no_previous_events()
            .when_async(HotelBookingCommand::BookRoom(book()))
            .await
            .then_expect_events(vec![HotelBookingEvent::RoomBooked {
                room_id: ROOM,
                room_name: "바다 전망 스위트".into(),
                host_id: "host-1".into(),
                guest_id: "guest-1".into(),
                start_date: day("2026-12-24"),
                end_date: day("2026-12-27"),
                nights: 3,
                amount: 360_000,
                payment_id: PAYMENT,
                booked_at: at("2026-12-01T09:00:00Z"),
            }]);
    }

    #[tokio::test]
    async fn booking_twice_conflicts() {
        HotelBookingTest::with(())
            .given(vec![booked(book())])
            .when_async(HotelBookingCommand::BookRoom(book()))
            .await
            .then_expect_error(HotelBookingError::AlreadyExists);
        assert_eq!(
            HotelBookingError::AlreadyExists.kind(),
            RejectionKind::Conflict
        );
        assert_eq!(
            HotelBookingError::AlreadyExists.code(),
            "hotel_booking_already_exists"
        );
    }

    #[tokio::test]
    async fn an_unknown_room_is_refused_naming_room_id() {
        HotelBookingTest::with(())
            .given_no_previous_events()
            .when_async(HotelBookingCommand::BookRoom(BookRoom {
                room: None,
                ..book()
            }))
            .await
            .then_expect_error(HotelBookingError::RoomNotFound);
        let unknown = HotelBookingError::RoomNotFound;
        assert_eq!(unknown.kind(), RejectionKind::Invalid);
        assert_eq!(unknown.code(), "room_not_found");
        assert_eq!(unknown.field(), Some("roomId"));
        assert!(unknown.to_string().contains("roomId"));
    }

    #[tokio::test]
    async fn a_deleted_room_cannot_be_booked() {
        HotelBookingTest::with(())
            .given_no_previous_events()
            .when_async(HotelBookingCommand::BookRoom(BookRoom {
                room: Some(RoomFacts {
                    deleted: true,
                    ..room()
                }),
                ..book()
            }))
            .await
            .then_expect_error(HotelBookingError::RoomDeleted);
        assert_eq!(
            HotelBookingError::RoomDeleted.kind(),
            RejectionKind::Conflict
        );
        assert_eq!(HotelBookingError::RoomDeleted.code(), "room_deleted");
    }

    #[tokio::test]
    async fn guest_id_is_an_identifier_of_1_to_64_chars() {
        accepts(BookRoom {
            guest_id: "g".repeat(64),
            ..book()
        })
        .await;
        for guest_id in [String::new(), "g".repeat(65), "guest\n-1".into()] {
            rejects(BookRoom { guest_id, ..book() }, "guestId").await;
        }
    }

    #[tokio::test]
    async fn end_date_must_be_after_start_date() {
        let start = book().start_date;
        for end_date in [start, start - TimeDelta::days(1)] {
            rejects(BookRoom { end_date, ..book() }, "endDate").await;
        }
        rejects_with(
            BookRoom {
                end_date: start,
                ..book()
            },
            "endDate must be after startDate",
        )
        .await;
    }

    #[tokio::test]
    async fn a_stay_of_one_night_ends_the_next_day() {
        let start = book().start_date;
        accepts(BookRoom {
            end_date: start + TimeDelta::days(1),
            ..book()
        })
        .await;
    }

    #[tokio::test]
    async fn a_stay_of_30_nights_is_accepted() {
        let start = book().start_date;
        accepts(BookRoom {
            end_date: start + TimeDelta::days(30),
            ..book()
        })
        .await;
    }

    #[tokio::test]
    async fn a_stay_of_31_nights_is_refused_naming_end_date() {
        let too_long = BookRoom {
            end_date: book().start_date + TimeDelta::days(31),
            ..book()
        };
        rejects(too_long.clone(), "endDate").await;
        rejects_with(
            too_long,
            "a stay is at most 30 nights: endDate must be at most 30 days after startDate",
        )
        .await;
    }

    #[tokio::test]
    async fn a_stay_may_start_today_but_not_in_the_past() {
        let today = book().today;
        accepts(BookRoom {
            start_date: today,
            end_date: today + TimeDelta::days(2),
            ..book()
        })
        .await;
        let yesterday = BookRoom {
            start_date: today - TimeDelta::days(1),
            end_date: today + TimeDelta::days(2),
            ..book()
        };
        rejects(yesterday.clone(), "startDate").await;
        rejects_with(yesterday, "startDate must not be in the past").await;
    }

    #[tokio::test]
    async fn a_stay_starts_at_most_365_days_ahead() {
        let today = book().today;
        let starting = |days: i64| {
            let start_date = today + TimeDelta::days(days);
            BookRoom {
                start_date,
                end_date: start_date + TimeDelta::days(1),
                ..book()
            }
        };
        accepts(starting(365)).await;
        rejects(starting(366), "startDate").await;
        rejects_with(starting(366), "startDate must be at most 365 days ahead").await;
    }

    #[tokio::test]
    async fn the_guest_cancels_their_stay() {
        cancels(Canceller::Guest("guest-1".into()), CancelledBy::Guest).await;
    }

    #[tokio::test]
    async fn the_rooms_host_cancels_a_stay_in_it() {
        cancels(Canceller::Host("host-1".into()), CancelledBy::Host).await;
    }

    #[tokio::test]
    async fn an_admin_cancels_any_stay() {
        cancels(Canceller::Admin, CancelledBy::Admin).await;
    }

    #[tokio::test]
    async fn deleting_the_room_cancels_the_stay_without_a_requester() {
        cancels(Canceller::RoomDeleted, CancelledBy::RoomDeleted).await;
    }

    #[tokio::test]
    async fn another_guests_booking_is_not_found() {
        cannot_find_it_to_cancel(Canceller::Guest("guest-2".into())).await;
    }

    #[tokio::test]
    async fn a_host_cancelling_another_hosts_rooms_booking_is_not_found() {
        cannot_find_it_to_cancel(Canceller::Host("host-2".into())).await;
    }

    #[tokio::test]
    async fn the_guest_is_not_the_host_nor_the_host_the_guest() {
        cannot_find_it_to_cancel(Canceller::Host("guest-1".into())).await;
        cannot_find_it_to_cancel(Canceller::Guest("host-1".into())).await;
    }

    #[tokio::test]
    async fn cancelling_an_unbooked_stay_is_not_found() {
        HotelBookingTest::with(())
            .given_no_previous_events()
            .when_async(cancel(Canceller::Admin))
            .await
            .then_expect_error(HotelBookingError::NotFound);
        assert_eq!(HotelBookingError::NotFound.kind(), RejectionKind::NotFound);
        assert_eq!(
            HotelBookingError::NotFound.code(),
            "hotel_booking_not_found"
        );
    }

    #[tokio::test]
    async fn a_stay_is_cancelled_at_most_once() {
        HotelBookingTest::with(())
            .given(vec![booked(book()), cancelled(CancelledBy::Guest)])
            .when_async(cancel(Canceller::RoomDeleted))
            .await
            .then_expect_error(HotelBookingError::AlreadyCancelled);
        assert_eq!(
            HotelBookingError::AlreadyCancelled.kind(),
            RejectionKind::Conflict
        );
        assert_eq!(
            HotelBookingError::AlreadyCancelled.code(),
            "hotel_booking_already_cancelled"
        );
    }

    #[test]
    fn a_stay_is_claimed_from_midnight_utc_to_midnight_utc() {
        assert_eq!(
            stay_instants(day("2026-12-24"), day("2026-12-27")),
            (at("2026-12-24T00:00:00Z"), at("2026-12-27T00:00:00Z"))
        );
    }

    #[test]
    fn state_answers_from_its_events() {
        let mut booking = HotelBooking::default();
        assert_eq!((booking.room_id(), booking.guest_id()), (None, None));
        assert!(!booking.is_active());
        booking.apply(booked(book()));
        assert_eq!(booking.room_id(), Some(ROOM));
        assert_eq!(booking.guest_id(), Some("guest-1"));
        assert_eq!(booking.host_id(), Some("host-1"));
        assert_eq!(booking.room_name(), Some("바다 전망 스위트"));
        assert_eq!(
            booking.dates(),
            Some((day("2026-12-24"), day("2026-12-27")))
        );
        assert_eq!(booking.amount(), Some(360_000));
        assert_eq!(booking.payment_id(), Some(PAYMENT));
        assert!(booking.is_active());
        booking.apply(cancelled(CancelledBy::Host));
        assert!(!booking.is_active());
    }

    #[test]
    fn stored_format_is_the_contract() {
        assert_stored_as(
            &booked(book()),
            json!({"RoomBooked": {
                "roomId": ROOM.to_string(),
                "roomName": "바다 전망 스위트",
                "hostId": "host-1",
                "guestId": "guest-1",
                "startDate": "2026-12-24",
                "endDate": "2026-12-27",
                "nights": 3,
                "amount": 360000,
                "paymentId": PAYMENT.to_string(),
                "bookedAt": "2026-12-01T09:00:00Z"
            }}),
            EVENT_TYPES,
        );
        for (cancelled_by, stored) in [
            (CancelledBy::Guest, "GUEST"),
            (CancelledBy::Host, "HOST"),
            (CancelledBy::Admin, "ADMIN"),
            (CancelledBy::RoomDeleted, "ROOM_DELETED"),
        ] {
            assert_stored_as(
                &cancelled(cancelled_by),
                json!({"RoomBookingCancelled": {"cancelledBy": stored}}),
                EVENT_TYPES,
            );
        }
    }
}
