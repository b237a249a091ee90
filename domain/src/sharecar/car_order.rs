//! The `CarOrder` aggregate: a user's use of one car over the half-open interval
//! `[startDtm, endDtm)`.
//!
//! An order lasts at most [`MAX_ORDER_DURATION`], starts no earlier than when it is
//! asked and at most [`MAX_DAYS_AHEAD`] days after, and is paid by the started hour: it
//! records the hours and the amount, so a later change of the car's price leaves it as
//! it was. It is cancelled at most once, by its user or an admin.
//!
//! That two active orders of one car never overlap is a rule across aggregates, so it is
//! not decided here: the command API enforces it in the store, inside the transaction
//! that appends `CarOrdered`.

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::rules::{identifier, InvalidField};
use crate::{Rejection, RejectionKind};

/// The longest an order may last.
pub const MAX_ORDER_DURATION: TimeDelta = TimeDelta::days(7);
/// How many days ahead of the request an order may start.
pub const MAX_DAYS_AHEAD: i64 = 365;
/// Most characters in a user id.
pub const MAX_USER_ID_CHARS: usize = 64;
/// The fraction of a second an order's times keep: microseconds.
const MICROSECOND_DIGITS: u16 = 6;

/// What an order needs to know of the car it names, as the command API read it from the
/// [`Car`](super::car::Car) (see [`Car::facts`](super::car::Car::facts)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarFacts {
    pub car_id: Uuid,
    pub name: String,
    pub price_per_hour: i64,
}

/// A car order's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CarOrder {
    ordered: Option<Ordered>,
    cancelled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ordered {
    car_id: Uuid,
    user_id: String,
    start_dtm: DateTime<Utc>,
    end_dtm: DateTime<Utc>,
    amount: i64,
    payment_id: Uuid,
}

impl CarOrder {
    /// The car ordered, once ordered.
    pub fn car_id(&self) -> Option<Uuid> {
        self.ordered.as_ref().map(|order| order.car_id)
    }

    /// The user who ordered, once ordered.
    pub fn user_id(&self) -> Option<&str> {
        self.ordered.as_ref().map(|order| order.user_id.as_str())
    }

    /// The ordered interval `[start, end)`, once ordered.
    pub fn interval(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.ordered
            .as_ref()
            .map(|order| (order.start_dtm, order.end_dtm))
    }

    /// The amount to pay (minor units), once ordered.
    pub fn amount(&self) -> Option<i64> {
        self.ordered.as_ref().map(|order| order.amount)
    }

    /// The payment of the order, once ordered.
    pub fn payment_id(&self) -> Option<Uuid> {
        self.ordered.as_ref().map(|order| order.payment_id)
    }

    /// Whether the order has been placed and is not cancelled.
    pub fn is_active(&self) -> bool {
        self.ordered.is_some() && !self.cancelled
    }
}

/// What can be asked of a car order.
#[derive(Debug, Clone, PartialEq)]
pub enum CarOrderCommand {
    OrderCar(OrderCar),
    /// `requested_by` is the asking user when a customer asks: only the order's own user
    /// may, and anyone else is told there is no such order (ids cannot be probed).
    /// `None` for an admin.
    CancelCarOrder {
        requested_by: Option<String>,
    },
}

/// Order a car, with what the command API looked up: the car (`None` when the id names
/// no car) and the payment's id, chosen before the order is recorded so the two can be
/// committed together. `now` is when the request arrived (the crate reads no clock): the
/// order may not start before it, and records it as `orderedAt`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderCar {
    pub car: Option<CarFacts>,
    pub user_id: String,
    pub start_dtm: DateTime<Utc>,
    pub end_dtm: DateTime<Utc>,
    pub payment_id: Uuid,
    pub now: DateTime<Utc>,
}

/// What happened to a car order. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CarOrderEvent {
    #[serde(rename = "CarOrdered", rename_all = "camelCase")]
    CarOrdered {
        car_id: Uuid,
        car_name: String,
        user_id: String,
        start_dtm: DateTime<Utc>,
        end_dtm: DateTime<Utc>,
        hours: i64,
        amount: i64,
        payment_id: Uuid,
        ordered_at: DateTime<Utc>,
    },
    /// Carries the car so readers of the car's schedule need not look the order up.
    #[serde(rename = "CarOrderCancelled", rename_all = "camelCase")]
    CarOrderCancelled { car_id: Uuid },
}

/// The stored type names of [`CarOrderEvent`].
pub const EVENT_TYPES: &[&str] = &["CarOrdered", "CarOrderCancelled"];

impl CarOrderEvent {
    /// The stored type names of every variant (same as [`EVENT_TYPES`]).
    pub const EVENT_TYPES: &'static [&'static str] = EVENT_TYPES;
}

impl DomainEvent for CarOrderEvent {
    fn event_type(&self) -> String {
        match self {
            CarOrderEvent::CarOrdered { .. } => "CarOrdered",
            CarOrderEvent::CarOrderCancelled { .. } => "CarOrderCancelled",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a car order command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CarOrderError {
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("car order not found")]
    NotFound,
    /// The order names a car that is not registered.
    #[error("carId names no car")]
    CarNotFound,
    #[error("car order already exists")]
    AlreadyExists,
    #[error("car order is already cancelled")]
    AlreadyCancelled,
}

impl From<InvalidField> for CarOrderError {
    fn from(invalid: InvalidField) -> Self {
        CarOrderError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for CarOrderError {
    fn kind(&self) -> RejectionKind {
        match self {
            CarOrderError::Invalid { .. } | CarOrderError::CarNotFound => RejectionKind::Invalid,
            CarOrderError::NotFound => RejectionKind::NotFound,
            CarOrderError::AlreadyExists | CarOrderError::AlreadyCancelled => {
                RejectionKind::Conflict
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            CarOrderError::Invalid { .. } => "invalid_field",
            CarOrderError::NotFound => "car_order_not_found",
            CarOrderError::CarNotFound => "car_not_found",
            CarOrderError::AlreadyExists => "car_order_already_exists",
            CarOrderError::AlreadyCancelled => "car_order_already_cancelled",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            CarOrderError::Invalid { field, .. } => Some(field),
            CarOrderError::CarNotFound => Some("carId"),
            _ => None,
        }
    }
}

/// The hours paid for `duration`: every hour begun counts whole (90 minutes are 2 hours,
/// a second is 1).
fn paid_hours(duration: TimeDelta) -> i64 {
    let whole = duration.num_hours();
    if duration > TimeDelta::hours(whole) {
        whole + 1
    } else {
        whole
    }
}

impl CarOrder {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(&self, command: CarOrderCommand) -> Result<Vec<CarOrderEvent>, CarOrderError> {
        match command {
            CarOrderCommand::OrderCar(order) => {
                if self.ordered.is_some() {
                    return Err(CarOrderError::AlreadyExists);
                }
                let Some(car) = order.car else {
                    return Err(CarOrderError::CarNotFound);
                };
                identifier("userId", &order.user_id, MAX_USER_ID_CHARS)?;
                // Times are kept to the microsecond, as the stores keep them: the
                // interval decided on is the one the store claims.
                let (start_dtm, end_dtm) = (
                    order.start_dtm.trunc_subsecs(MICROSECOND_DIGITS),
                    order.end_dtm.trunc_subsecs(MICROSECOND_DIGITS),
                );
                if end_dtm <= start_dtm {
                    return Err(InvalidField::new("endDtm", "endDtm must be after startDtm").into());
                }
                let duration = end_dtm - start_dtm;
                if duration > MAX_ORDER_DURATION {
                    return Err(InvalidField::new(
                        "endDtm",
                        "endDtm must be at most 7 days after startDtm",
                    )
                    .into());
                }
                if start_dtm < order.now {
                    return Err(
                        InvalidField::new("startDtm", "startDtm must not be in the past").into(),
                    );
                }
                // Checked: a clock at the end of time has every start within reach.
                let latest = order
                    .now
                    .checked_add_signed(TimeDelta::days(MAX_DAYS_AHEAD));
                if latest.is_some_and(|latest| start_dtm > latest) {
                    return Err(InvalidField::new(
                        "startDtm",
                        format!("startDtm must be at most {MAX_DAYS_AHEAD} days ahead"),
                    )
                    .into());
                }
                let hours = paid_hours(duration);
                Ok(vec![CarOrderEvent::CarOrdered {
                    car_id: car.car_id,
                    car_name: car.name,
                    user_id: order.user_id,
                    start_dtm,
                    end_dtm,
                    hours,
                    amount: car.price_per_hour.saturating_mul(hours),
                    payment_id: order.payment_id,
                    ordered_at: order.now,
                }])
            }
            CarOrderCommand::CancelCarOrder { requested_by } => {
                let Some(ordered) = &self.ordered else {
                    return Err(CarOrderError::NotFound);
                };
                if requested_by.is_some_and(|user| user != ordered.user_id) {
                    return Err(CarOrderError::NotFound);
                }
                if self.cancelled {
                    return Err(CarOrderError::AlreadyCancelled);
                }
                Ok(vec![CarOrderEvent::CarOrderCancelled {
                    car_id: ordered.car_id,
                }])
            }
        }
    }
}

impl Aggregate for CarOrder {
    const TYPE: &'static str = "CarOrder";
    type Command = CarOrderCommand;
    type Event = CarOrderEvent;
    type Error = CarOrderError;
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
            CarOrderEvent::CarOrdered {
                car_id,
                user_id,
                start_dtm,
                end_dtm,
                amount,
                payment_id,
                ..
            } => {
                self.ordered = Some(Ordered {
                    car_id,
                    user_id,
                    start_dtm,
                    end_dtm,
                    amount,
                    payment_id,
                });
            }
            CarOrderEvent::CarOrderCancelled { .. } => self.cancelled = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::testing::{assert_invalid, assert_stored_as};

    type CarOrderTest = TestFramework<CarOrder>;

    const CAR: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00ca);
    const PAYMENT: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00fa);

    fn at(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().unwrap()
    }

    fn car() -> CarFacts {
        CarFacts {
            car_id: CAR,
            name: "아반떼".into(),
            price_per_hour: 10_000,
        }
    }

    /// Two hours on Christmas Eve, asked for four days before.
    fn order() -> OrderCar {
        OrderCar {
            car: Some(car()),
            user_id: "kim".into(),
            start_dtm: at("2026-12-24T10:00:00Z"),
            end_dtm: at("2026-12-24T12:00:00Z"),
            payment_id: PAYMENT,
            now: at("2026-12-20T09:00:00Z"),
        }
    }

    /// `order` lasting `duration`.
    fn lasting(duration: TimeDelta) -> OrderCar {
        OrderCar {
            end_dtm: order().start_dtm + duration,
            ..order()
        }
    }

    /// What `order` records, at `hours` and `amount`.
    fn ordered(order: OrderCar, hours: i64, amount: i64) -> CarOrderEvent {
        let car = order.car.unwrap();
        CarOrderEvent::CarOrdered {
            car_id: car.car_id,
            car_name: car.name,
            user_id: order.user_id,
            start_dtm: order.start_dtm,
            end_dtm: order.end_dtm,
            hours,
            amount,
            payment_id: order.payment_id,
            ordered_at: order.now,
        }
    }

    fn cancelled() -> CarOrderEvent {
        CarOrderEvent::CarOrderCancelled { car_id: CAR }
    }

    async fn accepts(order: OrderCar, hours: i64, amount: i64) {
        CarOrderTest::with(())
            .given_no_previous_events()
            .when_async(CarOrderCommand::OrderCar(order.clone()))
            .await
            .then_expect_events(vec![ordered(order, hours, amount)]);
    }

    async fn rejects(order: OrderCar, field: &str) {
        let result = CarOrderTest::with(())
            .given_no_previous_events()
            .when_async(CarOrderCommand::OrderCar(order))
            .await;
        assert_invalid(result, field);
    }

    async fn rejects_saying(order: OrderCar, message: &str) {
        CarOrderTest::with(())
            .given_no_previous_events()
            .when_async(CarOrderCommand::OrderCar(order))
            .await
            .then_expect_error_message(message);
    }

    fn cancel(by: Option<&str>) -> CarOrderCommand {
        CarOrderCommand::CancelCarOrder {
            requested_by: by.map(str::to_owned),
        }
    }

    #[tokio::test]
    async fn an_order_costs_the_price_per_hour_times_the_hours() {
        accepts(order(), 2, 20_000).await;
    }

    #[tokio::test]
    async fn ninety_minutes_are_paid_as_two_hours() {
        accepts(lasting(TimeDelta::minutes(90)), 2, 20_000).await;
    }

    #[tokio::test]
    async fn exactly_two_hours_are_paid_as_two_hours() {
        accepts(lasting(TimeDelta::hours(2)), 2, 20_000).await;
    }

    #[tokio::test]
    async fn one_second_is_paid_as_a_whole_hour() {
        accepts(lasting(TimeDelta::seconds(1)), 1, 10_000).await;
    }

    #[tokio::test]
    async fn times_are_kept_to_the_microsecond_the_store_claims() {
        let start = at("2026-12-24T10:00:00.000001999Z");
        let end = start + TimeDelta::hours(1);
        let fine = OrderCar {
            start_dtm: start,
            end_dtm: end,
            ..order()
        };
        let events = CarOrderTest::with(())
            .given_no_previous_events()
            .when_async(CarOrderCommand::OrderCar(fine))
            .await
            .inspect_result()
            .expect("ordered");
        let CarOrderEvent::CarOrdered {
            start_dtm, end_dtm, ..
        } = &events[0]
        else {
            panic!("{events:?}");
        };
        assert_eq!(*start_dtm, at("2026-12-24T10:00:00.000001Z"));
        assert_eq!(*end_dtm, at("2026-12-24T11:00:00.000001Z"));
    }

    #[tokio::test]
    async fn an_interval_within_one_microsecond_is_no_interval() {
        let start = at("2026-12-24T10:00:00.000000100Z");
        let within = OrderCar {
            start_dtm: start,
            end_dtm: start + TimeDelta::nanoseconds(100),
            ..order()
        };
        assert_invalid(
            CarOrderTest::with(())
                .given_no_previous_events()
                .when_async(CarOrderCommand::OrderCar(within))
                .await,
            "endDtm",
        );
    }

    #[test]
    fn every_hour_begun_is_paid_whole() {
        assert_eq!(paid_hours(TimeDelta::milliseconds(1)), 1);
        assert_eq!(paid_hours(TimeDelta::hours(1)), 1);
        assert_eq!(
            paid_hours(TimeDelta::hours(1) + TimeDelta::nanoseconds(1)),
            2
        );
        assert_eq!(paid_hours(TimeDelta::minutes(90)), 2);
        assert_eq!(paid_hours(MAX_ORDER_DURATION), 168);
    }

    #[tokio::test]
    async fn the_amount_saturates_rather_than_wraps() {
        accepts(
            OrderCar {
                car: Some(CarFacts {
                    price_per_hour: i64::MAX / 2 + 1,
                    ..car()
                }),
                ..order()
            },
            2,
            i64::MAX,
        )
        .await;
    }

    #[tokio::test]
    async fn ordering_twice_conflicts() {
        CarOrderTest::with(())
            .given(vec![ordered(order(), 2, 20_000)])
            .when_async(CarOrderCommand::OrderCar(order()))
            .await
            .then_expect_error(CarOrderError::AlreadyExists);
        assert_eq!(CarOrderError::AlreadyExists.kind(), RejectionKind::Conflict);
        assert_eq!(
            CarOrderError::AlreadyExists.code(),
            "car_order_already_exists"
        );
    }

    #[tokio::test]
    async fn an_order_of_an_unknown_car_is_refused_naming_car_id() {
        // Before any field is looked at.
        CarOrderTest::with(())
            .given_no_previous_events()
            .when_async(CarOrderCommand::OrderCar(OrderCar {
                car: None,
                user_id: String::new(),
                ..order()
            }))
            .await
            .then_expect_error(CarOrderError::CarNotFound);
        let error = CarOrderError::CarNotFound;
        assert_eq!(error.kind(), RejectionKind::Invalid);
        assert_eq!(error.code(), "car_not_found");
        assert_eq!(error.field(), Some("carId"));
        assert!(error.to_string().contains("carId"), "{error}");
    }

    #[tokio::test]
    async fn user_id_is_an_identifier_of_1_to_64_chars() {
        accepts(
            OrderCar {
                user_id: "u".repeat(64),
                ..order()
            },
            2,
            20_000,
        )
        .await;
        for user_id in [String::new(), "u".repeat(65), "kim\r\nforged".into()] {
            rejects(OrderCar { user_id, ..order() }, "userId").await;
        }
    }

    #[tokio::test]
    async fn the_end_must_be_after_the_start() {
        rejects(lasting(TimeDelta::zero()), "endDtm").await;
        rejects(lasting(TimeDelta::minutes(-30)), "endDtm").await;
        rejects_saying(lasting(TimeDelta::zero()), "endDtm must be after startDtm").await;
    }

    #[tokio::test]
    async fn an_order_of_more_than_seven_days_is_refused_naming_end_dtm() {
        accepts(lasting(TimeDelta::days(7)), 168, 1_680_000).await;
        rejects(
            lasting(TimeDelta::days(7) + TimeDelta::seconds(1)),
            "endDtm",
        )
        .await;
    }

    #[tokio::test]
    async fn an_order_may_not_start_in_the_past() {
        let now = order().now;
        accepts(
            OrderCar {
                start_dtm: now,
                end_dtm: now + TimeDelta::hours(1),
                ..order()
            },
            1,
            10_000,
        )
        .await;
        let past = OrderCar {
            start_dtm: now - TimeDelta::seconds(1),
            end_dtm: now + TimeDelta::hours(1),
            ..order()
        };
        rejects(past.clone(), "startDtm").await;
        rejects_saying(past, "startDtm must not be in the past").await;
    }

    #[tokio::test]
    async fn an_order_starts_at_most_365_days_ahead() {
        let latest = order().now + TimeDelta::days(365);
        accepts(
            OrderCar {
                start_dtm: latest,
                end_dtm: latest + TimeDelta::hours(1),
                ..order()
            },
            1,
            10_000,
        )
        .await;
        let start = latest + TimeDelta::seconds(1);
        rejects(
            OrderCar {
                start_dtm: start,
                end_dtm: start + TimeDelta::hours(1),
                ..order()
            },
            "startDtm",
        )
        .await;
    }

    #[tokio::test]
    async fn a_user_cancels_their_own_order() {
        CarOrderTest::with(())
            .given(vec![ordered(order(), 2, 20_000)])
            .when_async(cancel(Some("kim")))
            .await
            .then_expect_events(vec![cancelled()]);
    }

    #[tokio::test]
    async fn an_admin_cancels_any_order() {
        CarOrderTest::with(())
            .given(vec![ordered(order(), 2, 20_000)])
            .when_async(cancel(None))
            .await
            .then_expect_events(vec![cancelled()]);
    }

    #[tokio::test]
    async fn another_users_order_is_not_found() {
        CarOrderTest::with(())
            .given(vec![ordered(order(), 2, 20_000)])
            .when_async(cancel(Some("lee")))
            .await
            .then_expect_error(CarOrderError::NotFound);
    }

    #[tokio::test]
    async fn cancelling_an_unknown_order_is_not_found() {
        CarOrderTest::with(())
            .given_no_previous_events()
            .when_async(cancel(None))
            .await
            .then_expect_error(CarOrderError::NotFound);
        assert_eq!(CarOrderError::NotFound.kind(), RejectionKind::NotFound);
        assert_eq!(CarOrderError::NotFound.code(), "car_order_not_found");
    }

    #[tokio::test]
    async fn an_order_is_cancelled_at_most_once() {
        CarOrderTest::with(())
            .given(vec![ordered(order(), 2, 20_000), cancelled()])
            .when_async(cancel(Some("kim")))
            .await
            .then_expect_error(CarOrderError::AlreadyCancelled);
        assert_eq!(
            CarOrderError::AlreadyCancelled.kind(),
            RejectionKind::Conflict
        );
        assert_eq!(
            CarOrderError::AlreadyCancelled.code(),
            "car_order_already_cancelled"
        );
    }

    #[test]
    fn state_answers_from_its_events() {
        let mut car_order = CarOrder::default();
        assert_eq!((car_order.car_id(), car_order.user_id()), (None, None));
        assert_eq!((car_order.interval(), car_order.amount()), (None, None));
        assert_eq!(car_order.payment_id(), None);
        assert!(!car_order.is_active());
        car_order.apply(ordered(order(), 2, 20_000));
        assert_eq!(car_order.car_id(), Some(CAR));
        assert_eq!(car_order.user_id(), Some("kim"));
        assert_eq!(
            car_order.interval(),
            Some((order().start_dtm, order().end_dtm))
        );
        assert_eq!(car_order.amount(), Some(20_000));
        assert_eq!(car_order.payment_id(), Some(PAYMENT));
        assert!(car_order.is_active());
        car_order.apply(cancelled());
        assert!(!car_order.is_active());
    }

    #[test]
    fn stored_format_is_the_contract() {
        assert_stored_as(
            &ordered(order(), 2, 20_000),
            json!({"CarOrdered": {
                "carId": CAR.to_string(),
                "carName": "아반떼",
                "userId": "kim",
                "startDtm": "2026-12-24T10:00:00Z",
                "endDtm": "2026-12-24T12:00:00Z",
                "hours": 2,
                "amount": 20_000,
                "paymentId": PAYMENT.to_string(),
                "orderedAt": "2026-12-20T09:00:00Z"
            }}),
            EVENT_TYPES,
        );
        assert_stored_as(
            &cancelled(),
            json!({"CarOrderCancelled": {"carId": CAR.to_string()}}),
            EVENT_TYPES,
        );
    }
}
