//! The `CarPayment` aggregate: the payment of one car order.
//!
//! A payment is approved once, for the order's whole amount, in the same request as the
//! order, and cancelled at most once (when its order is). Amounts above
//! [`MAX_PAYMENT_AMOUNT`] are refused — the command API turns that into a 402 and
//! records no order at all.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::rules::{int_range, InvalidField};
use crate::shop::payment::MAX_PAYMENT_AMOUNT;
use crate::shop::PayMethod;
use crate::{Rejection, RejectionKind};

/// A car payment's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CarPayment {
    approved: Option<Approved>,
    cancelled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Approved {
    order_id: Uuid,
    user_id: String,
    amount: i64,
    pay_method: PayMethod,
}

impl CarPayment {
    /// The order paid for, once approved.
    pub fn order_id(&self) -> Option<Uuid> {
        self.approved.as_ref().map(|pay| pay.order_id)
    }

    /// The user who pays, once approved.
    pub fn user_id(&self) -> Option<&str> {
        self.approved.as_ref().map(|pay| pay.user_id.as_str())
    }

    /// The amount paid (minor units), once approved.
    pub fn amount(&self) -> Option<i64> {
        self.approved.as_ref().map(|pay| pay.amount)
    }

    /// Whether the payment has been cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }
}

/// What can be asked of a car payment.
#[derive(Debug, Clone, PartialEq)]
pub enum CarPaymentCommand {
    /// Pay for an order its amount.
    ApprovePay {
        order_id: Uuid,
        user_id: String,
        amount: i64,
        pay_method: PayMethod,
    },
    CancelPay,
}

/// What happened to a car payment. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CarPaymentEvent {
    #[serde(rename = "PayApproved", rename_all = "camelCase")]
    PayApproved {
        order_id: Uuid,
        user_id: String,
        amount: i64,
        pay_method: PayMethod,
    },
    /// Carries the amount so whoever refunds it need not look the payment up.
    #[serde(rename = "PayCancelled", rename_all = "camelCase")]
    PayCancelled { order_id: Uuid, amount: i64 },
}

/// The stored type names of [`CarPaymentEvent`].
pub const EVENT_TYPES: &[&str] = &["PayApproved", "PayCancelled"];

impl CarPaymentEvent {
    /// The stored type names of every variant (same as [`EVENT_TYPES`]).
    pub const EVENT_TYPES: &'static [&'static str] = EVENT_TYPES;
}

impl DomainEvent for CarPaymentEvent {
    fn event_type(&self) -> String {
        match self {
            CarPaymentEvent::PayApproved { .. } => "PayApproved",
            CarPaymentEvent::PayCancelled { .. } => "PayCancelled",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a car payment command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CarPaymentError {
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("payment of {amount} refused: the amount exceeds {MAX_PAYMENT_AMOUNT}")]
    Refused { amount: i64 },
    #[error("car payment not found")]
    NotFound,
    #[error("car payment already exists")]
    AlreadyExists,
    #[error("car payment is already cancelled")]
    AlreadyCancelled,
}

impl From<InvalidField> for CarPaymentError {
    fn from(invalid: InvalidField) -> Self {
        CarPaymentError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for CarPaymentError {
    fn kind(&self) -> RejectionKind {
        match self {
            CarPaymentError::Invalid { .. } => RejectionKind::Invalid,
            CarPaymentError::Refused { .. } => RejectionKind::PaymentRefused,
            CarPaymentError::NotFound => RejectionKind::NotFound,
            CarPaymentError::AlreadyExists | CarPaymentError::AlreadyCancelled => {
                RejectionKind::Conflict
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            CarPaymentError::Invalid { .. } => "invalid_field",
            CarPaymentError::Refused { .. } => "payment_refused",
            CarPaymentError::NotFound => "car_payment_not_found",
            CarPaymentError::AlreadyExists => "car_payment_already_exists",
            CarPaymentError::AlreadyCancelled => "car_payment_already_cancelled",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            CarPaymentError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl CarPayment {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(&self, command: CarPaymentCommand) -> Result<Vec<CarPaymentEvent>, CarPaymentError> {
        match command {
            CarPaymentCommand::ApprovePay {
                order_id,
                user_id,
                amount,
                pay_method,
            } => {
                if self.approved.is_some() {
                    return Err(CarPaymentError::AlreadyExists);
                }
                if amount > MAX_PAYMENT_AMOUNT {
                    return Err(CarPaymentError::Refused { amount });
                }
                int_range("amount", amount, 1, MAX_PAYMENT_AMOUNT)?;
                Ok(vec![CarPaymentEvent::PayApproved {
                    order_id,
                    user_id,
                    amount,
                    pay_method,
                }])
            }
            CarPaymentCommand::CancelPay => {
                let Some(approved) = &self.approved else {
                    return Err(CarPaymentError::NotFound);
                };
                if self.cancelled {
                    return Err(CarPaymentError::AlreadyCancelled);
                }
                Ok(vec![CarPaymentEvent::PayCancelled {
                    order_id: approved.order_id,
                    amount: approved.amount,
                }])
            }
        }
    }
}

impl Aggregate for CarPayment {
    const TYPE: &'static str = "CarPayment";
    type Command = CarPaymentCommand;
    type Event = CarPaymentEvent;
    type Error = CarPaymentError;
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
            CarPaymentEvent::PayApproved {
                order_id,
                user_id,
                amount,
                pay_method,
            } => {
                self.approved = Some(Approved {
                    order_id,
                    user_id,
                    amount,
                    pay_method,
                });
            }
            CarPaymentEvent::PayCancelled { .. } => self.cancelled = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::testing::{assert_invalid, assert_stored_as};

    type CarPaymentTest = TestFramework<CarPayment>;

    const ORDER: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);

    fn approve(amount: i64) -> CarPaymentCommand {
        CarPaymentCommand::ApprovePay {
            order_id: ORDER,
            user_id: "kim".into(),
            amount,
            pay_method: PayMethod::Card,
        }
    }

    fn approved(amount: i64) -> CarPaymentEvent {
        CarPaymentEvent::PayApproved {
            order_id: ORDER,
            user_id: "kim".into(),
            amount,
            pay_method: PayMethod::Card,
        }
    }

    fn cancelled(amount: i64) -> CarPaymentEvent {
        CarPaymentEvent::PayCancelled {
            order_id: ORDER,
            amount,
        }
    }

    #[tokio::test]
    async fn approves_a_payment() {
        CarPaymentTest::with(())
            .given_no_previous_events()
            .when_async(approve(1))
            .await
            .then_expect_events(vec![approved(1)]);
    }

    #[tokio::test]
    async fn accepts_exactly_the_maximum_amount() {
        CarPaymentTest::with(())
            .given_no_previous_events()
            .when_async(approve(10_000_000))
            .await
            .then_expect_events(vec![approved(10_000_000)]);
    }

    #[tokio::test]
    async fn refuses_an_amount_over_the_maximum() {
        CarPaymentTest::with(())
            .given_no_previous_events()
            .when_async(approve(10_000_001))
            .await
            .then_expect_error(CarPaymentError::Refused { amount: 10_000_001 });
        let refused = CarPaymentError::Refused { amount: 10_000_001 };
        assert_eq!(refused.kind(), RejectionKind::PaymentRefused);
        assert_eq!(refused.code(), "payment_refused");
    }

    #[tokio::test]
    async fn amount_must_be_positive() {
        for amount in [0, -1] {
            let result = CarPaymentTest::with(())
                .given_no_previous_events()
                .when_async(approve(amount))
                .await;
            assert_invalid(result, "amount");
        }
    }

    #[tokio::test]
    async fn approving_twice_conflicts() {
        CarPaymentTest::with(())
            .given(vec![approved(20_000)])
            .when_async(approve(20_000))
            .await
            .then_expect_error(CarPaymentError::AlreadyExists);
        assert_eq!(
            CarPaymentError::AlreadyExists.kind(),
            RejectionKind::Conflict
        );
        assert_eq!(
            CarPaymentError::AlreadyExists.code(),
            "car_payment_already_exists"
        );
    }

    #[tokio::test]
    async fn cancelling_records_the_amount_to_give_back() {
        CarPaymentTest::with(())
            .given(vec![approved(20_000)])
            .when_async(CarPaymentCommand::CancelPay)
            .await
            .then_expect_events(vec![cancelled(20_000)]);
    }

    #[tokio::test]
    async fn cancelling_an_unknown_payment_is_not_found() {
        CarPaymentTest::with(())
            .given_no_previous_events()
            .when_async(CarPaymentCommand::CancelPay)
            .await
            .then_expect_error(CarPaymentError::NotFound);
        assert_eq!(CarPaymentError::NotFound.kind(), RejectionKind::NotFound);
        assert_eq!(CarPaymentError::NotFound.code(), "car_payment_not_found");
    }

    #[tokio::test]
    async fn a_payment_is_cancelled_at_most_once() {
        CarPaymentTest::with(())
            .given(vec![approved(20_000), cancelled(20_000)])
            .when_async(CarPaymentCommand::CancelPay)
            .await
            .then_expect_error(CarPaymentError::AlreadyCancelled);
        assert_eq!(
            CarPaymentError::AlreadyCancelled.kind(),
            RejectionKind::Conflict
        );
        assert_eq!(
            CarPaymentError::AlreadyCancelled.code(),
            "car_payment_already_cancelled"
        );
    }

    #[test]
    fn state_answers_from_its_events() {
        let mut payment = CarPayment::default();
        assert_eq!((payment.order_id(), payment.user_id()), (None, None));
        assert_eq!(payment.amount(), None);
        payment.apply(approved(20_000));
        assert_eq!(
            (payment.order_id(), payment.user_id(), payment.amount()),
            (Some(ORDER), Some("kim"), Some(20_000))
        );
        assert!(!payment.is_cancelled());
        payment.apply(cancelled(20_000));
        assert!(payment.is_cancelled());
    }

    #[test]
    fn stored_format_is_the_contract() {
        assert_stored_as(
            &approved(20_000),
            json!({"PayApproved": {
                "orderId": ORDER.to_string(),
                "userId": "kim",
                "amount": 20_000,
                "payMethod": "CARD"
            }}),
            EVENT_TYPES,
        );
        assert_stored_as(
            &cancelled(20_000),
            json!({"PayCancelled": {"orderId": ORDER.to_string(), "amount": 20_000}}),
            EVENT_TYPES,
        );
    }
}
