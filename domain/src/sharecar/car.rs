//! The `Car` aggregate: a car for hire, registered once with its name and the price of
//! an hour of it.
//!
//! An order reads the car through [`Car::facts`]: what it records of the car is what
//! the car was when ordered.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::car_order::CarFacts;
use crate::rules::{int_range, text_length, InvalidField};
use crate::{Rejection, RejectionKind};

/// Most characters in a car's name.
pub const MAX_CAR_NAME_CHARS: usize = 100;
/// Highest price of an hour, in minor units.
pub const MAX_PRICE_PER_HOUR: i64 = 1_000_000;

/// A car's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Car {
    registered: Option<Registered>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Registered {
    name: String,
    price_per_hour: i64,
    registered_at: DateTime<Utc>,
}

impl Car {
    /// The name, once registered.
    pub fn name(&self) -> Option<&str> {
        self.registered.as_ref().map(|car| car.name.as_str())
    }

    /// The price of an hour (minor units), once registered.
    pub fn price_per_hour(&self) -> Option<i64> {
        self.registered.as_ref().map(|car| car.price_per_hour)
    }

    /// Whether the car has been registered.
    pub fn is_registered(&self) -> bool {
        self.registered.is_some()
    }

    /// What an order of this car (whose id is `car_id`: the state does not know its own
    /// id) needs to know of it; `None` when there is no such car.
    pub fn facts(&self, car_id: Uuid) -> Option<CarFacts> {
        self.registered.as_ref().map(|car| CarFacts {
            car_id,
            name: car.name.clone(),
            price_per_hour: car.price_per_hour,
        })
    }
}

/// What can be asked of a car.
#[derive(Debug, Clone, PartialEq)]
pub enum CarCommand {
    /// Register a car. `registered_at` is when the request arrived (the crate reads no
    /// clock).
    RegisterCar {
        name: String,
        price_per_hour: i64,
        registered_at: DateTime<Utc>,
    },
}

/// What happened to a car. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CarEvent {
    #[serde(rename = "CarRegistered", rename_all = "camelCase")]
    CarRegistered {
        name: String,
        price_per_hour: i64,
        registered_at: DateTime<Utc>,
    },
}

/// The stored type names of [`CarEvent`].
pub const EVENT_TYPES: &[&str] = &["CarRegistered"];

impl CarEvent {
    /// The stored type names of every variant (same as [`EVENT_TYPES`]).
    pub const EVENT_TYPES: &'static [&'static str] = EVENT_TYPES;
}

impl DomainEvent for CarEvent {
    fn event_type(&self) -> String {
        match self {
            CarEvent::CarRegistered { .. } => "CarRegistered",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a car command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CarError {
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("car already exists")]
    AlreadyExists,
}

impl From<InvalidField> for CarError {
    fn from(invalid: InvalidField) -> Self {
        CarError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for CarError {
    fn kind(&self) -> RejectionKind {
        match self {
            CarError::Invalid { .. } => RejectionKind::Invalid,
            CarError::AlreadyExists => RejectionKind::Conflict,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            CarError::Invalid { .. } => "invalid_field",
            CarError::AlreadyExists => "car_already_exists",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            CarError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl Car {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(&self, command: CarCommand) -> Result<Vec<CarEvent>, CarError> {
        match command {
            CarCommand::RegisterCar {
                name,
                price_per_hour,
                registered_at,
            } => {
                if self.registered.is_some() {
                    return Err(CarError::AlreadyExists);
                }
                text_length("name", &name, 1, MAX_CAR_NAME_CHARS)?;
                int_range("pricePerHour", price_per_hour, 1, MAX_PRICE_PER_HOUR)?;
                Ok(vec![CarEvent::CarRegistered {
                    name,
                    price_per_hour,
                    registered_at,
                }])
            }
        }
    }
}

impl Aggregate for Car {
    const TYPE: &'static str = "Car";
    type Command = CarCommand;
    type Event = CarEvent;
    type Error = CarError;
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
            CarEvent::CarRegistered {
                name,
                price_per_hour,
                registered_at,
            } => {
                self.registered = Some(Registered {
                    name,
                    price_per_hour,
                    registered_at,
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

    type CarTest = TestFramework<Car>;

    const CAR: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00ca);

    fn at() -> DateTime<Utc> {
        "2026-12-24T10:00:00Z".parse().unwrap()
    }

    fn register(name: &str, price_per_hour: i64) -> CarCommand {
        CarCommand::RegisterCar {
            name: name.into(),
            price_per_hour,
            registered_at: at(),
        }
    }

    fn registered(name: &str, price_per_hour: i64) -> CarEvent {
        CarEvent::CarRegistered {
            name: name.into(),
            price_per_hour,
            registered_at: at(),
        }
    }

    async fn accepts(name: &str, price_per_hour: i64) {
        CarTest::with(())
            .given_no_previous_events()
            .when_async(register(name, price_per_hour))
            .await
            .then_expect_events(vec![registered(name, price_per_hour)]);
    }

    async fn rejects(name: &str, price_per_hour: i64, field: &str) {
        let result = CarTest::with(())
            .given_no_previous_events()
            .when_async(register(name, price_per_hour))
            .await;
        assert_invalid(result, field);
    }

    #[tokio::test]
    async fn registers_a_car_stamped_with_the_request_time() {
        accepts("아반떼", 10_000).await;
    }

    #[tokio::test]
    async fn registering_twice_conflicts() {
        CarTest::with(())
            .given(vec![registered("아반떼", 10_000)])
            .when_async(register("쏘나타", 12_000))
            .await
            .then_expect_error(CarError::AlreadyExists);
        assert_eq!(CarError::AlreadyExists.kind(), RejectionKind::Conflict);
        assert_eq!(CarError::AlreadyExists.code(), "car_already_exists");
    }

    #[tokio::test]
    async fn a_name_is_1_to_100_characters() {
        accepts(&"차".repeat(100), 10_000).await;
        rejects("", 10_000, "name").await;
        rejects(&"차".repeat(101), 10_000, "name").await;
    }

    #[tokio::test]
    async fn the_price_per_hour_is_1_to_1_000_000() {
        accepts("아반떼", 1).await;
        accepts("아반떼", 1_000_000).await;
        for price_per_hour in [0, -1, 1_000_001] {
            rejects("아반떼", price_per_hour, "pricePerHour").await;
        }
    }

    #[test]
    fn state_answers_from_its_events() {
        let mut car = Car::default();
        assert!(!car.is_registered());
        assert_eq!((car.name(), car.price_per_hour()), (None, None));
        assert_eq!(car.facts(CAR), None);
        car.apply(registered("아반떼", 10_000));
        assert!(car.is_registered());
        assert_eq!(
            (car.name(), car.price_per_hour()),
            (Some("아반떼"), Some(10_000))
        );
        assert_eq!(
            car.facts(CAR),
            Some(CarFacts {
                car_id: CAR,
                name: "아반떼".into(),
                price_per_hour: 10_000,
            })
        );
    }

    #[test]
    fn stored_format_is_the_contract() {
        assert_stored_as(
            &registered("아반떼", 10_000),
            json!({"CarRegistered": {
                "name": "아반떼",
                "pricePerHour": 10_000,
                "registeredAt": "2026-12-24T10:00:00Z"
            }}),
            EVENT_TYPES,
        );
    }
}
