//! The `HotelRoom` aggregate: a room a host offers for nightly stays.
//!
//! A room is registered once, with its host, name and nightly price, and deleted at
//! most once, by its own host or by an admin. A deleted room keeps its stream, so its
//! bookings can still name it; it can no longer be booked. Cancelling the bookings of a
//! deleted room is the command API's work, not this aggregate's.

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::hotel_booking::RoomFacts;
use crate::rules::{identifier, int_range, text_length, InvalidField};
use crate::{Rejection, RejectionKind};

/// Most characters in a room's name.
pub const MAX_ROOM_NAME_CHARS: usize = 100;
/// The highest nightly price (minor units) a room may ask.
pub const MAX_ROOM_PRICE: i64 = 1_000_000;
/// Most characters in a host id.
pub const MAX_HOST_ID_CHARS: usize = 64;

/// A room's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HotelRoom {
    registered: Option<RegisteredRoom>,
    deleted_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisteredRoom {
    host_id: String,
    name: String,
    price: i64,
    registered_at: DateTime<Utc>,
}

impl HotelRoom {
    /// The host who offers the room, once registered.
    pub fn host_id(&self) -> Option<&str> {
        self.registered.as_ref().map(|r| r.host_id.as_str())
    }

    /// The room's name, once registered.
    pub fn name(&self) -> Option<&str> {
        self.registered.as_ref().map(|r| r.name.as_str())
    }

    /// The nightly price (minor units), once registered.
    pub fn price(&self) -> Option<i64> {
        self.registered.as_ref().map(|r| r.price)
    }

    /// The day the room was deleted, if it was.
    pub fn deleted_on(&self) -> Option<NaiveDate> {
        self.deleted_on
    }

    /// Whether the room has been registered (deleted or not).
    pub fn is_registered(&self) -> bool {
        self.registered.is_some()
    }

    /// What a booking of this room needs to know of it, `None` until registered. The
    /// room's id is the stream's, which the state does not hold, so the caller passes it.
    pub fn facts(&self, room_id: Uuid) -> Option<RoomFacts> {
        self.registered.as_ref().map(|r| RoomFacts {
            room_id,
            name: r.name.clone(),
            host_id: r.host_id.clone(),
            price: r.price,
            deleted: self.deleted_on.is_some(),
        })
    }
}

/// What can be asked of a room.
#[derive(Debug, Clone, PartialEq)]
pub enum HotelRoomCommand {
    /// Offer a room. `registered_at` is when the request arrived (the crate reads no
    /// clock).
    RegisterRoom {
        host_id: String,
        name: String,
        price: i64,
        registered_at: DateTime<Utc>,
    },
    /// `requested_by` is the asking host's sub when a host asks: only the room's own
    /// host may, and any other host is forbidden (rooms are public, so there is nothing
    /// to hide by answering "not found"). `None` when an admin asks.
    DeleteRoom {
        requested_by: Option<String>,
        deleted_on: NaiveDate,
    },
}

/// What happened to a room. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HotelRoomEvent {
    #[serde(rename = "RoomRegistered", rename_all = "camelCase")]
    RoomRegistered {
        host_id: String,
        name: String,
        price: i64,
        registered_at: DateTime<Utc>,
    },
    #[serde(rename = "RoomDeleted", rename_all = "camelCase")]
    RoomDeleted { deleted_on: NaiveDate },
}

/// The stored type names of [`HotelRoomEvent`].
pub const EVENT_TYPES: &[&str] = &["RoomRegistered", "RoomDeleted"];

impl HotelRoomEvent {
    /// The stored type names of every variant (same as [`EVENT_TYPES`]).
    pub const EVENT_TYPES: &'static [&'static str] = EVENT_TYPES;
}

impl DomainEvent for HotelRoomEvent {
    fn event_type(&self) -> String {
        match self {
            HotelRoomEvent::RoomRegistered { .. } => "RoomRegistered",
            HotelRoomEvent::RoomDeleted { .. } => "RoomDeleted",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a room command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum HotelRoomError {
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("room not found")]
    NotFound,
    #[error("room already exists")]
    AlreadyExists,
    /// A host asked to delete a room another host offers.
    #[error("only the room's host may delete it")]
    NotRoomHost,
    #[error("room is already deleted")]
    AlreadyDeleted,
}

impl From<InvalidField> for HotelRoomError {
    fn from(invalid: InvalidField) -> Self {
        HotelRoomError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for HotelRoomError {
    fn kind(&self) -> RejectionKind {
        match self {
            HotelRoomError::Invalid { .. } => RejectionKind::Invalid,
            HotelRoomError::NotFound => RejectionKind::NotFound,
            HotelRoomError::NotRoomHost => RejectionKind::Forbidden,
            HotelRoomError::AlreadyExists | HotelRoomError::AlreadyDeleted => {
                RejectionKind::Conflict
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            HotelRoomError::Invalid { .. } => "invalid_field",
            HotelRoomError::NotFound => "room_not_found",
            HotelRoomError::AlreadyExists => "room_already_exists",
            HotelRoomError::NotRoomHost => "not_room_host",
            HotelRoomError::AlreadyDeleted => "room_already_deleted",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            HotelRoomError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl HotelRoom {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(&self, command: HotelRoomCommand) -> Result<Vec<HotelRoomEvent>, HotelRoomError> {
        match command {
            HotelRoomCommand::RegisterRoom {
                host_id,
                name,
                price,
                registered_at,
            } => {
                if self.registered.is_some() {
                    return Err(HotelRoomError::AlreadyExists);
                }
                identifier("hostId", &host_id, MAX_HOST_ID_CHARS)?;
                text_length("name", &name, 1, MAX_ROOM_NAME_CHARS)?;
                int_range("price", price, 1, MAX_ROOM_PRICE)?;
                Ok(vec![HotelRoomEvent::RoomRegistered {
                    host_id,
                    name,
                    price,
                    registered_at,
                }])
            }
            HotelRoomCommand::DeleteRoom {
                requested_by,
                deleted_on,
            } => {
                let Some(registered) = &self.registered else {
                    return Err(HotelRoomError::NotFound);
                };
                if requested_by.is_some_and(|host| host != registered.host_id) {
                    return Err(HotelRoomError::NotRoomHost);
                }
                if self.deleted_on.is_some() {
                    return Err(HotelRoomError::AlreadyDeleted);
                }
                Ok(vec![HotelRoomEvent::RoomDeleted { deleted_on }])
            }
        }
    }
}

impl Aggregate for HotelRoom {
    const TYPE: &'static str = "HotelRoom";
    type Command = HotelRoomCommand;
    type Event = HotelRoomEvent;
    type Error = HotelRoomError;
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
            HotelRoomEvent::RoomRegistered {
                host_id,
                name,
                price,
                registered_at,
            } => {
                self.registered = Some(RegisteredRoom {
                    host_id,
                    name,
                    price,
                    registered_at,
                });
            }
            HotelRoomEvent::RoomDeleted { deleted_on } => self.deleted_on = Some(deleted_on),
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::testing::{assert_invalid, assert_stored_as};

    type HotelRoomTest = TestFramework<HotelRoom>;

    const ROOM: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00a1);

    fn at(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().unwrap()
    }

    fn day(iso: &str) -> NaiveDate {
        iso.parse().unwrap()
    }

    fn register(host_id: &str, name: &str, price: i64) -> HotelRoomCommand {
        HotelRoomCommand::RegisterRoom {
            host_id: host_id.into(),
            name: name.into(),
            price,
            registered_at: at("2026-11-01T09:00:00Z"),
        }
    }

    fn registered(host_id: &str, name: &str, price: i64) -> HotelRoomEvent {
        HotelRoomEvent::RoomRegistered {
            host_id: host_id.into(),
            name: name.into(),
            price,
            registered_at: at("2026-11-01T09:00:00Z"),
        }
    }

    fn a_room() -> HotelRoomEvent {
        registered("host-1", "바다 전망 스위트", 120_000)
    }

    fn delete(requested_by: Option<&str>) -> HotelRoomCommand {
        HotelRoomCommand::DeleteRoom {
            requested_by: requested_by.map(Into::into),
            deleted_on: day("2026-12-24"),
        }
    }

    fn deleted() -> HotelRoomEvent {
        HotelRoomEvent::RoomDeleted {
            deleted_on: day("2026-12-24"),
        }
    }

    async fn accepts(command: HotelRoomCommand, event: HotelRoomEvent) {
        HotelRoomTest::with(())
            .given_no_previous_events()
            .when_async(command)
            .await
            .then_expect_events(vec![event]);
    }

    async fn rejects(command: HotelRoomCommand, field: &str) {
        let result = HotelRoomTest::with(())
            .given_no_previous_events()
            .when_async(command)
            .await;
        assert_invalid(result, field);
    }

    #[tokio::test]
    async fn registers_a_room_for_its_host() {
        accepts(register("host-1", "바다 전망 스위트", 120_000), a_room()).await;
    }

    #[tokio::test]
    async fn registering_twice_conflicts() {
        HotelRoomTest::with(())
            .given(vec![a_room()])
            .when_async(register("host-1", "바다 전망 스위트", 120_000))
            .await
            .then_expect_error(HotelRoomError::AlreadyExists);
        assert_eq!(
            HotelRoomError::AlreadyExists.kind(),
            RejectionKind::Conflict
        );
        assert_eq!(HotelRoomError::AlreadyExists.code(), "room_already_exists");
    }

    #[tokio::test]
    async fn host_id_is_an_identifier_of_1_to_64_chars() {
        let host = "h".repeat(64);
        accepts(register(&host, "a", 1), registered(&host, "a", 1)).await;
        for host in [String::new(), "h".repeat(65), "host\r\n-1".into()] {
            rejects(register(&host, "a", 1), "hostId").await;
        }
    }

    #[tokio::test]
    async fn name_is_1_to_100_chars() {
        let name = "방".repeat(100);
        accepts(register("host-1", &name, 1), registered("host-1", &name, 1)).await;
        for name in [String::new(), "방".repeat(101)] {
            rejects(register("host-1", &name, 1), "name").await;
        }
    }

    #[tokio::test]
    async fn price_is_1_to_1_000_000() {
        for price in [1, MAX_ROOM_PRICE] {
            accepts(
                register("host-1", "a", price),
                registered("host-1", "a", price),
            )
            .await;
        }
        for price in [0, -1, 1_000_001] {
            rejects(register("host-1", "a", price), "price").await;
        }
    }

    #[tokio::test]
    async fn the_host_deletes_their_room() {
        HotelRoomTest::with(())
            .given(vec![a_room()])
            .when_async(delete(Some("host-1")))
            .await
            .then_expect_events(vec![deleted()]);
    }

    #[tokio::test]
    async fn an_admin_deletes_any_room() {
        HotelRoomTest::with(())
            .given(vec![a_room()])
            .when_async(delete(None))
            .await
            .then_expect_events(vec![deleted()]);
    }

    #[tokio::test]
    async fn another_host_is_forbidden_to_delete_the_room() {
        HotelRoomTest::with(())
            .given(vec![a_room()])
            .when_async(delete(Some("host-2")))
            .await
            .then_expect_error(HotelRoomError::NotRoomHost);
        let forbidden = HotelRoomError::NotRoomHost;
        assert_eq!(forbidden.kind(), RejectionKind::Forbidden);
        assert_eq!(forbidden.code(), "not_room_host");
        assert_eq!(forbidden.to_string(), "only the room's host may delete it");
    }

    #[tokio::test]
    async fn deleting_an_unregistered_room_is_not_found() {
        HotelRoomTest::with(())
            .given_no_previous_events()
            .when_async(delete(None))
            .await
            .then_expect_error(HotelRoomError::NotFound);
        assert_eq!(HotelRoomError::NotFound.kind(), RejectionKind::NotFound);
        assert_eq!(HotelRoomError::NotFound.code(), "room_not_found");
    }

    #[tokio::test]
    async fn a_room_is_deleted_at_most_once() {
        HotelRoomTest::with(())
            .given(vec![a_room(), deleted()])
            .when_async(delete(Some("host-1")))
            .await
            .then_expect_error(HotelRoomError::AlreadyDeleted);
        assert_eq!(
            HotelRoomError::AlreadyDeleted.kind(),
            RejectionKind::Conflict
        );
        assert_eq!(
            HotelRoomError::AlreadyDeleted.code(),
            "room_already_deleted"
        );
    }

    #[test]
    fn state_answers_from_its_events() {
        let mut room = HotelRoom::default();
        assert!(!room.is_registered());
        assert_eq!(
            (room.host_id(), room.name(), room.price()),
            (None, None, None)
        );
        assert_eq!(room.facts(ROOM), None);
        room.apply(a_room());
        assert!(room.is_registered());
        assert_eq!(
            (room.host_id(), room.name(), room.price(), room.deleted_on()),
            (
                Some("host-1"),
                Some("바다 전망 스위트"),
                Some(120_000),
                None
            )
        );
        assert_eq!(
            room.facts(ROOM),
            Some(RoomFacts {
                room_id: ROOM,
                name: "바다 전망 스위트".into(),
                host_id: "host-1".into(),
                price: 120_000,
                deleted: false,
            })
        );
        room.apply(deleted());
        assert_eq!(room.deleted_on(), Some(day("2026-12-24")));
        assert!(room.facts(ROOM).is_some_and(|facts| facts.deleted));
    }

    #[test]
    fn stored_format_is_the_contract() {
        assert_stored_as(
            &a_room(),
            json!({"RoomRegistered": {
                "hostId": "host-1",
                "name": "바다 전망 스위트",
                "price": 120000,
                "registeredAt": "2026-11-01T09:00:00Z"
            }}),
            EVENT_TYPES,
        );
        assert_stored_as(
            &deleted(),
            json!({"RoomDeleted": {"deletedOn": "2026-12-24"}}),
            EVENT_TYPES,
        );
    }
}
