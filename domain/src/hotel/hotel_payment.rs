//! The `HotelPayment` aggregate: the payment of one hotel booking.
//!
//! A payment is approved once, for the stay's whole amount, in the same request that
//! books the stay, and cancelled at most once (when its booking is cancelled). Amounts
//! above [`MAX_PAYMENT_AMOUNT`] — the shop's limit, which every payment shares — are
//! refused, and the command API then records no booking at all.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::rules::{int_range, InvalidField};
use crate::shop::payment::MAX_PAYMENT_AMOUNT;
use crate::shop::PayMethod;
use crate::{Rejection, RejectionKind};

/// A hotel payment's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HotelPayment {
    approved: Option<ApprovedPayment>,
    cancelled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApprovedPayment {
    booking_id: Uuid,
    guest_id: String,
    amount: i64,
    pay_method: PayMethod,
}

impl HotelPayment {
    /// The booking paid for, once approved.
    pub fn booking_id(&self) -> Option<Uuid> {
        self.approved.as_ref().map(|p| p.booking_id)
    }

    /// The guest who paid, once approved.
    pub fn guest_id(&self) -> Option<&str> {
        self.approved.as_ref().map(|p| p.guest_id.as_str())
    }

    /// The amount paid (minor units), once approved.
    pub fn amount(&self) -> Option<i64> {
        self.approved.as_ref().map(|p| p.amount)
    }

    /// Whether the payment has been cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }
}

/// What can be asked of a hotel payment.
#[derive(Debug, Clone, PartialEq)]
pub enum HotelPaymentCommand {
    /// Pay for a booking. The guest and amount come from the booking being made, which
    /// has checked the guest id already.
    ApprovePayment {
        booking_id: Uuid,
        guest_id: String,
        amount: i64,
        pay_method: PayMethod,
    },
    CancelHotelPayment,
}

/// What happened to a hotel payment. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HotelPaymentEvent {
    #[serde(rename = "PaymentApproved", rename_all = "camelCase")]
    PaymentApproved {
        booking_id: Uuid,
        guest_id: String,
        amount: i64,
        pay_method: PayMethod,
    },
    /// Carries the amount, so a refund can be told from the event alone.
    #[serde(rename = "PaymentCancelled", rename_all = "camelCase")]
    PaymentCancelled { booking_id: Uuid, amount: i64 },
}

/// The stored type names of [`HotelPaymentEvent`].
pub const EVENT_TYPES: &[&str] = &["PaymentApproved", "PaymentCancelled"];

impl HotelPaymentEvent {
    /// The stored type names of every variant (same as [`EVENT_TYPES`]).
    pub const EVENT_TYPES: &'static [&'static str] = EVENT_TYPES;
}

impl DomainEvent for HotelPaymentEvent {
    fn event_type(&self) -> String {
        match self {
            HotelPaymentEvent::PaymentApproved { .. } => "PaymentApproved",
            HotelPaymentEvent::PaymentCancelled { .. } => "PaymentCancelled",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a hotel payment command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum HotelPaymentError {
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("payment of {amount} refused: the amount exceeds {MAX_PAYMENT_AMOUNT}")]
    Refused { amount: i64 },
    #[error("hotel payment not found")]
    NotFound,
    #[error("hotel payment already exists")]
    AlreadyExists,
    #[error("hotel payment is already cancelled")]
    AlreadyCancelled,
}

impl From<InvalidField> for HotelPaymentError {
    fn from(invalid: InvalidField) -> Self {
        HotelPaymentError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for HotelPaymentError {
    fn kind(&self) -> RejectionKind {
        match self {
            HotelPaymentError::Invalid { .. } => RejectionKind::Invalid,
            HotelPaymentError::Refused { .. } => RejectionKind::PaymentRefused,
            HotelPaymentError::NotFound => RejectionKind::NotFound,
            HotelPaymentError::AlreadyExists | HotelPaymentError::AlreadyCancelled => {
                RejectionKind::Conflict
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            HotelPaymentError::Invalid { .. } => "invalid_field",
            HotelPaymentError::Refused { .. } => "payment_refused",
            HotelPaymentError::NotFound => "hotel_payment_not_found",
            HotelPaymentError::AlreadyExists => "hotel_payment_already_exists",
            HotelPaymentError::AlreadyCancelled => "hotel_payment_already_cancelled",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            HotelPaymentError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl HotelPayment {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(
        &self,
        command: HotelPaymentCommand,
    ) -> Result<Vec<HotelPaymentEvent>, HotelPaymentError> {
        match command {
            HotelPaymentCommand::ApprovePayment {
                booking_id,
                guest_id,
                amount,
                pay_method,
            } => {
                if self.approved.is_some() {
                    return Err(HotelPaymentError::AlreadyExists);
                }
                if amount > MAX_PAYMENT_AMOUNT {
                    return Err(HotelPaymentError::Refused { amount });
                }
                int_range("amount", amount, 1, MAX_PAYMENT_AMOUNT)?;
                Ok(vec![HotelPaymentEvent::PaymentApproved {
                    booking_id,
                    guest_id,
                    amount,
                    pay_method,
                }])
            }
            HotelPaymentCommand::CancelHotelPayment => {
                let Some(approved) = &self.approved else {
                    return Err(HotelPaymentError::NotFound);
                };
                if self.cancelled {
                    return Err(HotelPaymentError::AlreadyCancelled);
                }
                Ok(vec![HotelPaymentEvent::PaymentCancelled {
                    booking_id: approved.booking_id,
                    amount: approved.amount,
                }])
            }
        }
    }
}

impl Aggregate for HotelPayment {
    const TYPE: &'static str = "HotelPayment";
    type Command = HotelPaymentCommand;
    type Event = HotelPaymentEvent;
    type Error = HotelPaymentError;
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
            HotelPaymentEvent::PaymentApproved {
                booking_id,
                guest_id,
                amount,
                pay_method,
            } => {
                self.approved = Some(ApprovedPayment {
                    booking_id,
                    guest_id,
                    amount,
                    pay_method,
                });
            }
            HotelPaymentEvent::PaymentCancelled { .. } => self.cancelled = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::testing::{assert_invalid, assert_stored_as};

    type HotelPaymentTest = TestFramework<HotelPayment>;

    const BOOKING: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00b1);

    fn approve(amount: i64) -> HotelPaymentCommand {
        HotelPaymentCommand::ApprovePayment {
            booking_id: BOOKING,
            guest_id: "guest-1".into(),
            amount,
            pay_method: PayMethod::Card,
        }
    }

    fn approved(amount: i64) -> HotelPaymentEvent {
        HotelPaymentEvent::PaymentApproved {
            booking_id: BOOKING,
            guest_id: "guest-1".into(),
            amount,
            pay_method: PayMethod::Card,
        }
    }

    #[tokio::test]
    async fn approves_a_payment() {
        HotelPaymentTest::with(())
            .given_no_previous_events()
            .when_async(approve(1))
            .await
            .then_expect_events(vec![approved(1)]);
    }

    #[tokio::test]
    async fn accepts_exactly_the_maximum_amount() {
        HotelPaymentTest::with(())
            .given_no_previous_events()
            .when_async(approve(10_000_000))
            .await
            .then_expect_events(vec![approved(10_000_000)]);
    }

    #[tokio::test]
    async fn refuses_an_amount_over_the_maximum_naming_both() {
        HotelPaymentTest::with(())
            .given_no_previous_events()
            .when_async(approve(10_000_001))
            .await
            .then_expect_error(HotelPaymentError::Refused { amount: 10_000_001 });
        let refused = HotelPaymentError::Refused { amount: 10_000_001 };
        assert_eq!(refused.kind(), RejectionKind::PaymentRefused);
        assert_eq!(refused.code(), "payment_refused");
        assert_eq!(
            refused.to_string(),
            "payment of 10000001 refused: the amount exceeds 10000000"
        );
    }

    #[tokio::test]
    async fn amount_must_be_positive() {
        for amount in [0, -1] {
            let result = HotelPaymentTest::with(())
                .given_no_previous_events()
                .when_async(approve(amount))
                .await;
            assert_invalid(result, "amount");
        }
    }

    #[tokio::test]
    async fn approving_twice_conflicts() {
        HotelPaymentTest::with(())
            .given(vec![approved(360_000)])
            .when_async(approve(360_000))
            .await
            .then_expect_error(HotelPaymentError::AlreadyExists);
        assert_eq!(
            HotelPaymentError::AlreadyExists.kind(),
            RejectionKind::Conflict
        );
        assert_eq!(
            HotelPaymentError::AlreadyExists.code(),
            "hotel_payment_already_exists"
        );
    }

    #[tokio::test]
    async fn cancels_a_payment_for_its_amount() {
        HotelPaymentTest::with(())
            .given(vec![approved(360_000)])
            .when_async(HotelPaymentCommand::CancelHotelPayment)
            .await
            .then_expect_events(vec![HotelPaymentEvent::PaymentCancelled {
                booking_id: BOOKING,
                amount: 360_000,
            }]);
    }

    #[tokio::test]
    async fn cancelling_an_unknown_payment_is_not_found() {
        HotelPaymentTest::with(())
            .given_no_previous_events()
            .when_async(HotelPaymentCommand::CancelHotelPayment)
            .await
            .then_expect_error(HotelPaymentError::NotFound);
        assert_eq!(HotelPaymentError::NotFound.kind(), RejectionKind::NotFound);
        assert_eq!(
            HotelPaymentError::NotFound.code(),
            "hotel_payment_not_found"
        );
    }

    #[tokio::test]
    async fn a_payment_is_cancelled_at_most_once() {
        HotelPaymentTest::with(())
            .given(vec![
                approved(360_000),
                HotelPaymentEvent::PaymentCancelled {
                    booking_id: BOOKING,
                    amount: 360_000,
                },
            ])
            .when_async(HotelPaymentCommand::CancelHotelPayment)
            .await
            .then_expect_error(HotelPaymentError::AlreadyCancelled);
        assert_eq!(
            HotelPaymentError::AlreadyCancelled.kind(),
            RejectionKind::Conflict
        );
        assert_eq!(
            HotelPaymentError::AlreadyCancelled.code(),
            "hotel_payment_already_cancelled"
        );
    }

    #[test]
    fn state_answers_from_its_events() {
        let mut payment = HotelPayment::default();
        assert_eq!(
            (payment.booking_id(), payment.guest_id(), payment.amount()),
            (None, None, None)
        );
        payment.apply(approved(360_000));
        assert_eq!(
            (payment.booking_id(), payment.guest_id(), payment.amount()),
            (Some(BOOKING), Some("guest-1"), Some(360_000))
        );
        assert!(!payment.is_cancelled());
        payment.apply(HotelPaymentEvent::PaymentCancelled {
            booking_id: BOOKING,
            amount: 360_000,
        });
        assert!(payment.is_cancelled());
    }

    #[test]
    fn stored_format_is_the_contract() {
        assert_stored_as(
            &approved(360_000),
            json!({"PaymentApproved": {
                "bookingId": BOOKING.to_string(),
                "guestId": "guest-1",
                "amount": 360000,
                "payMethod": "CARD"
            }}),
            EVENT_TYPES,
        );
        assert_stored_as(
            &HotelPaymentEvent::PaymentCancelled {
                booking_id: BOOKING,
                amount: 360_000,
            },
            json!({"PaymentCancelled": {"bookingId": BOOKING.to_string(), "amount": 360000}}),
            EVENT_TYPES,
        );
    }
}
