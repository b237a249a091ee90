//! The `Payment` aggregate: the payment of one order.
//!
//! A payment is made once, for the order's whole amount, and cancelled at most once
//! (when its order or delivery is cancelled). Amounts above [`MAX_PAYMENT_AMOUNT`] are
//! refused — the command API turns that into a 402 and records no order at all.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::PayMethod;
use crate::rules::{int_range, InvalidField};
use crate::{Rejection, RejectionKind};

/// The largest amount (minor units) a single payment may have.
pub const MAX_PAYMENT_AMOUNT: i64 = 10_000_000;

/// A payment's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Payment {
    made: Option<MadePayment>,
    cancelled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MadePayment {
    order_id: Uuid,
    amount: i64,
    pay_method: PayMethod,
}

impl Payment {
    /// The order paid for, once made.
    pub fn order_id(&self) -> Option<Uuid> {
        self.made.as_ref().map(|p| p.order_id)
    }

    /// The amount paid (minor units), once made.
    pub fn amount(&self) -> Option<i64> {
        self.made.as_ref().map(|p| p.amount)
    }

    /// Whether the payment has been cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }
}

/// What can be asked of a payment.
#[derive(Debug, Clone, PartialEq)]
pub enum PaymentCommand {
    MakePayment(MakePayment),
    CancelPayment,
}

/// Pay for an order.
#[derive(Debug, Clone, PartialEq)]
pub struct MakePayment {
    pub order_id: Uuid,
    pub amount: i64,
    pub pay_method: PayMethod,
}

/// What happened to a payment. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PaymentEvent {
    #[serde(rename = "PaymentMade", rename_all = "camelCase")]
    PaymentMade {
        order_id: Uuid,
        amount: i64,
        pay_method: PayMethod,
    },
    #[serde(rename = "PaymentCancelled", rename_all = "camelCase")]
    PaymentCancelled { order_id: Uuid },
}

/// The stored type names of [`PaymentEvent`].
pub const EVENT_TYPES: &[&str] = &["PaymentMade", "PaymentCancelled"];

impl PaymentEvent {
    /// The stored type names of every variant (same as [`EVENT_TYPES`]).
    pub const EVENT_TYPES: &'static [&'static str] = EVENT_TYPES;
}

impl DomainEvent for PaymentEvent {
    fn event_type(&self) -> String {
        match self {
            PaymentEvent::PaymentMade { .. } => "PaymentMade",
            PaymentEvent::PaymentCancelled { .. } => "PaymentCancelled",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a payment command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PaymentError {
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("payment of {amount} refused: the amount exceeds {MAX_PAYMENT_AMOUNT}")]
    Refused { amount: i64 },
    #[error("payment not found")]
    NotFound,
    #[error("payment already exists")]
    AlreadyExists,
    #[error("payment is already cancelled")]
    AlreadyCancelled,
}

impl From<InvalidField> for PaymentError {
    fn from(invalid: InvalidField) -> Self {
        PaymentError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for PaymentError {
    fn kind(&self) -> RejectionKind {
        match self {
            PaymentError::Invalid { .. } => RejectionKind::Invalid,
            PaymentError::Refused { .. } => RejectionKind::PaymentRefused,
            PaymentError::NotFound => RejectionKind::NotFound,
            PaymentError::AlreadyExists | PaymentError::AlreadyCancelled => RejectionKind::Conflict,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            PaymentError::Invalid { .. } => "invalid_field",
            PaymentError::Refused { .. } => "payment_refused",
            PaymentError::NotFound => "payment_not_found",
            PaymentError::AlreadyExists => "payment_already_exists",
            PaymentError::AlreadyCancelled => "payment_already_cancelled",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            PaymentError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl Payment {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(&self, command: PaymentCommand) -> Result<Vec<PaymentEvent>, PaymentError> {
        match command {
            PaymentCommand::MakePayment(make) => {
                if self.made.is_some() {
                    return Err(PaymentError::AlreadyExists);
                }
                if make.amount > MAX_PAYMENT_AMOUNT {
                    return Err(PaymentError::Refused {
                        amount: make.amount,
                    });
                }
                int_range("amount", make.amount, 1, MAX_PAYMENT_AMOUNT)?;
                Ok(vec![PaymentEvent::PaymentMade {
                    order_id: make.order_id,
                    amount: make.amount,
                    pay_method: make.pay_method,
                }])
            }
            PaymentCommand::CancelPayment => {
                let Some(made) = &self.made else {
                    return Err(PaymentError::NotFound);
                };
                if self.cancelled {
                    return Err(PaymentError::AlreadyCancelled);
                }
                Ok(vec![PaymentEvent::PaymentCancelled {
                    order_id: made.order_id,
                }])
            }
        }
    }
}

impl Aggregate for Payment {
    const TYPE: &'static str = "Payment";
    type Command = PaymentCommand;
    type Event = PaymentEvent;
    type Error = PaymentError;
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
            PaymentEvent::PaymentMade {
                order_id,
                amount,
                pay_method,
            } => {
                self.made = Some(MadePayment {
                    order_id,
                    amount,
                    pay_method,
                });
            }
            PaymentEvent::PaymentCancelled { .. } => self.cancelled = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::testing::{assert_invalid, assert_stored_as};

    type PaymentTest = TestFramework<Payment>;

    const ORDER: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);

    fn make(amount: i64) -> PaymentCommand {
        PaymentCommand::MakePayment(MakePayment {
            order_id: ORDER,
            amount,
            pay_method: PayMethod::Bank,
        })
    }

    fn made(amount: i64) -> PaymentEvent {
        PaymentEvent::PaymentMade {
            order_id: ORDER,
            amount,
            pay_method: PayMethod::Bank,
        }
    }

    #[tokio::test]
    async fn makes_a_payment() {
        PaymentTest::with(())
            .given_no_previous_events()
            .when_async(make(1))
            .await
            .then_expect_events(vec![made(1)]);
    }

    #[tokio::test]
    async fn accepts_exactly_the_maximum_amount() {
        PaymentTest::with(())
            .given_no_previous_events()
            .when_async(make(10_000_000))
            .await
            .then_expect_events(vec![made(10_000_000)]);
    }

    #[tokio::test]
    async fn refuses_an_amount_over_the_maximum() {
        PaymentTest::with(())
            .given_no_previous_events()
            .when_async(make(10_000_001))
            .await
            .then_expect_error(PaymentError::Refused { amount: 10_000_001 });
        let refused = PaymentError::Refused { amount: 10_000_001 };
        assert_eq!(refused.kind(), RejectionKind::PaymentRefused);
        assert_eq!(refused.code(), "payment_refused");
    }

    #[tokio::test]
    async fn amount_must_be_positive() {
        for amount in [0, -1] {
            let result = PaymentTest::with(())
                .given_no_previous_events()
                .when_async(make(amount))
                .await;
            assert_invalid(result, "amount");
        }
    }

    #[tokio::test]
    async fn paying_twice_conflicts() {
        PaymentTest::with(())
            .given(vec![made(100)])
            .when_async(make(100))
            .await
            .then_expect_error(PaymentError::AlreadyExists);
    }

    #[tokio::test]
    async fn cancels_a_payment() {
        PaymentTest::with(())
            .given(vec![made(100)])
            .when_async(PaymentCommand::CancelPayment)
            .await
            .then_expect_events(vec![PaymentEvent::PaymentCancelled { order_id: ORDER }]);
    }

    #[tokio::test]
    async fn cancelling_an_unknown_payment_is_not_found() {
        PaymentTest::with(())
            .given_no_previous_events()
            .when_async(PaymentCommand::CancelPayment)
            .await
            .then_expect_error(PaymentError::NotFound);
    }

    #[tokio::test]
    async fn a_payment_is_cancelled_at_most_once() {
        PaymentTest::with(())
            .given(vec![
                made(100),
                PaymentEvent::PaymentCancelled { order_id: ORDER },
            ])
            .when_async(PaymentCommand::CancelPayment)
            .await
            .then_expect_error(PaymentError::AlreadyCancelled);
        assert_eq!(
            PaymentError::AlreadyCancelled.code(),
            "payment_already_cancelled"
        );
    }

    #[test]
    fn state_answers_from_its_events() {
        let mut payment = Payment::default();
        assert_eq!(payment.order_id(), None);
        payment.apply(made(100));
        assert_eq!(
            (payment.order_id(), payment.amount()),
            (Some(ORDER), Some(100))
        );
        assert!(!payment.is_cancelled());
        payment.apply(PaymentEvent::PaymentCancelled { order_id: ORDER });
        assert!(payment.is_cancelled());
    }

    #[test]
    fn stored_format_is_the_contract() {
        assert_stored_as(
            &made(5000),
            json!({"PaymentMade": {
                "orderId": ORDER.to_string(), "amount": 5000, "payMethod": "BANK"
            }}),
            EVENT_TYPES,
        );
        assert_stored_as(
            &PaymentEvent::PaymentCancelled { order_id: ORDER },
            json!({"PaymentCancelled": {"orderId": ORDER.to_string()}}),
            EVENT_TYPES,
        );
    }
}
