//! Car sharing's policy, **sharecar**: a paid order's reservation is confirmed (the
//! seed's car management, approving on its own); a cancelled order cancels its
//! reservation, and a cancelled reservation its payment.

use std::sync::Arc;

use command_api::store::EventLog;
use cqrs_es::Aggregate;
use domain::sharecar::car_order::{CarOrder, CarOrderEvent};
use domain::sharecar::car_payment::{CarPayment, CarPaymentCommand, CarPaymentEvent};
use domain::sharecar::car_reservation::{
    CarReservation, CarReservationCommand, CarReservationEvent,
};
use futures::future::BoxFuture;
use projections::sharecar::SharecarEvent;
use projections::table::ContextEvent;
use projections::LogEvent;
use uuid::Uuid;

use crate::issue::{derived_id, PolicyError, Reaction};
use crate::policy::{Issue, Policy, SharedPolicy};
use crate::registry::PolicySettings;

/// Car sharing's policies.
pub fn policies<L: EventLog>(_: &PolicySettings) -> Vec<SharedPolicy<L>> {
    vec![Arc::new(ReservationPolicy)]
}

/// The reservation of a car order: one per order, so its id follows from the order's.
pub fn reservation_id(order_id: Uuid) -> Uuid {
    derived_id("reservation of car order", order_id)
}

struct ReservationPolicy;

/// What the policy does, as the "then" column of its table names it.
#[derive(Debug, Clone, PartialEq)]
enum Then {
    ConfirmReservation { order_id: Uuid },
    CancelReservation { order_id: Uuid },
    CancelPay { payment_id: Uuid },
}

/// The command an event calls for; `payment_id` is the order's payment, known once the
/// order's reservation is cancelled.
fn decide(order_id: Uuid, event: &SharecarEvent, payment_id: Option<Uuid>) -> Option<Then> {
    match event {
        SharecarEvent::Payment(CarPaymentEvent::PayApproved { .. }) => {
            Some(Then::ConfirmReservation { order_id })
        }
        SharecarEvent::Order(CarOrderEvent::CarOrderCancelled { .. }) => {
            Some(Then::CancelReservation { order_id })
        }
        SharecarEvent::Reservation(CarReservationEvent::ReservationCancelled { .. }) => {
            payment_id.map(|payment_id| Then::CancelPay { payment_id })
        }
        _ => None,
    }
}

impl<L: EventLog> Policy<L> for ReservationPolicy {
    fn name(&self) -> &'static str {
        "sharecar"
    }

    fn reads(&self) -> &[&'static str] {
        &[CarOrder::TYPE, CarPayment::TYPE, CarReservation::TYPE]
    }

    fn key_of(&self, event: &LogEvent) -> Result<String, serde_json::Error> {
        Ok(match SharecarEvent::decode(event)? {
            Some(named) => order_of(&named).map(|order_id| order_id.to_string()),
            None => None,
        }
        .unwrap_or_else(|| event.aggregate_id.clone()))
    }

    fn react<'a>(
        &'a self,
        reaction: &'a Reaction<'a, L>,
    ) -> BoxFuture<'a, Result<Vec<Issue<L>>, PolicyError>> {
        Box::pin(async move {
            let Some(event) = reaction.decode::<SharecarEvent>()? else {
                return Ok(Vec::new());
            };
            let order_id = match order_of(&event) {
                Some(order_id) => order_id,
                None => reaction.aggregate_id()?,
            };
            let payment_id = match &event {
                SharecarEvent::Reservation(CarReservationEvent::ReservationCancelled {
                    ..
                }) => reaction.load::<CarOrder>(order_id).await?.payment_id(),
                _ => None,
            };
            Ok(decide(order_id, &event, payment_id)
                .into_iter()
                .map(issue)
                .collect())
        })
    }
}

/// The order a payment's or reservation's event names (an order's own events are of
/// their stream).
fn order_of(event: &SharecarEvent) -> Option<Uuid> {
    match event {
        SharecarEvent::Payment(
            CarPaymentEvent::PayApproved { order_id, .. }
            | CarPaymentEvent::PayCancelled { order_id, .. },
        )
        | SharecarEvent::Reservation(
            CarReservationEvent::ReservationConfirmed { order_id }
            | CarReservationEvent::ReservationCancelled { order_id },
        ) => Some(*order_id),
        _ => None,
    }
}

fn issue<L: EventLog>(then: Then) -> Issue<L> {
    match then {
        Then::ConfirmReservation { order_id } => Issue::on_new_stream::<CarReservation>(
            reservation_id(order_id),
            CarReservationCommand::ConfirmReservation { order_id },
        ),
        Then::CancelReservation { order_id } => Issue::command::<CarReservation>(
            reservation_id(order_id),
            CarReservationCommand::CancelReservation { order_id },
        ),
        Then::CancelPay { payment_id } => {
            Issue::command::<CarPayment>(payment_id, CarPaymentCommand::CancelPay)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_confirms_a_cancel_cancels_the_reservation_and_then_the_payment() {
        let (order_id, payment_id) = (Uuid::now_v7(), Uuid::now_v7());
        let approved = SharecarEvent::Payment(CarPaymentEvent::PayApproved {
            order_id,
            user_id: "kim".into(),
            amount: 24_000,
            pay_method: domain::shop::PayMethod::Card,
        });
        assert_eq!(
            decide(order_id, &approved, None),
            Some(Then::ConfirmReservation { order_id })
        );
        let cancelled = SharecarEvent::Order(CarOrderEvent::CarOrderCancelled {
            car_id: Uuid::now_v7(),
        });
        assert_eq!(
            decide(order_id, &cancelled, None),
            Some(Then::CancelReservation { order_id })
        );
        let released =
            SharecarEvent::Reservation(CarReservationEvent::ReservationCancelled { order_id });
        assert_eq!(
            decide(order_id, &released, Some(payment_id)),
            Some(Then::CancelPay { payment_id })
        );
        let confirmed =
            SharecarEvent::Reservation(CarReservationEvent::ReservationConfirmed { order_id });
        assert_eq!(decide(order_id, &confirmed, None), None);
    }
}
