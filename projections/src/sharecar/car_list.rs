//! **carList**: one row per car in `car_list`, from `CarRegistered`.

use domain::sharecar::car::CarEvent;
use serde::Serialize;
use utoipa::ToSchema;

use super::SharecarEvent;
use crate::event::{timestamp, LogEvent};
use crate::table::{Projected, ViewRow};

/// A row of carList.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CarRow {
    pub car_id: String,
    pub name: String,
    /// In minor units.
    pub price_per_hour: i64,
    pub registered_at: String,
    pub position: i64,
    pub updated_at: String,
}

impl ViewRow for CarRow {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("car_id", "text"),
        ("name", "text"),
        ("price_per_hour", "bigint"),
        ("registered_at", "text"),
        ("position", "bigint"),
        ("updated_at", "text"),
    ];
    // Every role reads the cars.
    const OWNER: Option<&'static str> = None;

    fn key(&self) -> &str {
        &self.car_id
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

impl Projected for CarRow {
    type Event = SharecarEvent;

    fn key_of(event: &LogEvent, business: &SharecarEvent) -> Option<String> {
        matches!(business, SharecarEvent::Car(_)).then(|| event.aggregate_id.clone())
    }

    fn starts_row(business: &SharecarEvent) -> bool {
        matches!(business, SharecarEvent::Car(CarEvent::CarRegistered { .. }))
    }

    fn apply(
        row: &mut Option<Self>,
        event: &LogEvent,
        business: &SharecarEvent,
    ) -> Result<(), String> {
        if let SharecarEvent::Car(CarEvent::CarRegistered {
            name,
            price_per_hour,
            registered_at,
        }) = business
        {
            *row = Some(CarRow {
                car_id: event.aggregate_id.clone(),
                name: name.clone(),
                price_per_hour: *price_per_hour,
                registered_at: timestamp(registered_at),
                position: event.position,
                updated_at: event.recorded_at_text(),
            });
        }
        Ok(())
    }
}
