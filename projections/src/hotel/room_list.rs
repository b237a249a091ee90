//! **roomList**: one row per hotel room in `room_list` — its host, name and price per
//! night, and whether it is still let.
//!
//! - `RoomRegistered` starts the row (roomStatus ACTIVE).
//! - `RoomDeleted` sets roomStatus DELETED and deletedOn.

use domain::hotel::hotel_room::HotelRoomEvent;
use serde::Serialize;
use utoipa::ToSchema;

use super::HotelEvent;
use crate::event::{timestamp, LogEvent};
use crate::table::{Projected, ViewRow};

/// A row of roomList.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoomRow {
    pub room_id: String,
    pub host_id: String,
    pub name: String,
    /// The price per night, in minor units.
    pub price: i64,
    /// `ACTIVE` or `DELETED`.
    pub room_status: String,
    pub registered_at: String,
    /// The day the room was deleted (`YYYY-MM-DD`).
    pub deleted_on: Option<String>,
    pub position: i64,
    pub updated_at: String,
}

impl ViewRow for RoomRow {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("room_id", "text"),
        ("host_id", "text"),
        ("name", "text"),
        ("price", "bigint"),
        ("room_status", "text"),
        ("registered_at", "text"),
        ("deleted_on", "text"),
        ("position", "bigint"),
        ("updated_at", "text"),
    ];
    // Every role reads the rooms.
    const OWNER: Option<&'static str> = None;

    fn key(&self) -> &str {
        &self.room_id
    }

    fn owner(&self) -> Option<&str> {
        None
    }

    fn position(&self) -> i64 {
        self.position
    }

    fn updated_at(&self) -> &str {
        &self.updated_at
    }
}

impl Projected for RoomRow {
    type Event = HotelEvent;

    fn key_of(event: &LogEvent, business: &HotelEvent) -> Option<String> {
        matches!(business, HotelEvent::Room(_)).then(|| event.aggregate_id.clone())
    }

    fn starts_row(business: &HotelEvent) -> bool {
        matches!(
            business,
            HotelEvent::Room(HotelRoomEvent::RoomRegistered { .. })
        )
    }

    fn apply(
        row: &mut Option<Self>,
        event: &LogEvent,
        business: &HotelEvent,
    ) -> Result<(), String> {
        match business {
            HotelEvent::Room(HotelRoomEvent::RoomRegistered {
                host_id,
                name,
                price,
                registered_at,
            }) => {
                *row = Some(RoomRow {
                    room_id: event.aggregate_id.clone(),
                    host_id: host_id.clone(),
                    name: name.clone(),
                    price: *price,
                    room_status: "ACTIVE".to_string(),
                    registered_at: timestamp(registered_at),
                    deleted_on: None,
                    position: event.position,
                    updated_at: event.recorded_at_text(),
                });
            }
            HotelEvent::Room(HotelRoomEvent::RoomDeleted { deleted_on }) => {
                if let Some(row) = row {
                    row.room_status = "DELETED".to_string();
                    row.deleted_on = Some(deleted_on.to_string());
                    row.position = event.position;
                    row.updated_at = event.recorded_at_text();
                }
            }
            _ => {}
        }
        Ok(())
    }
}
