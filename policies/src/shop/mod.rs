//! The shop policy: a paid order is delivered; a cancelled order or delivery
//! compensates the rest.
//!
//! It consults the aggregates' current state before it decides, so a customer's cancel
//! that lands before the policy reads the payment starts no delivery, and a delivery
//! cancelled because its order was cancelled does not cancel the order again. The
//! payment of each order is remembered (`policy_order_payments`) from `PaymentMade`,
//! which commits with the order and so always precedes its cancellation in the log.

use std::sync::Arc;

use command_api::store::EventLog;
use domain::shop::delivery::{Delivery, DeliveryCommand, DeliveryEvent};
use domain::shop::order::{CancelOrder, CancelledBy, Order, OrderCommand, OrderEvent};
use domain::shop::payment::{Payment, PaymentCommand, PaymentEvent};
use futures::future::BoxFuture;
use projections::shop::ShopEvent;
use projections::sql::Arg;
use projections::table::ContextEvent;
use projections::LogEvent;
use uuid::Uuid;

use crate::issue::{derived_id, PolicyError, Reaction};
use crate::policy::{Issue, Policy, SharedPolicy};
use crate::registry::PolicySettings;

const REMEMBER_PAYMENT: &str = "
    INSERT INTO policy_order_payments (order_id, payment_id) VALUES ($1, $2)
    ON CONFLICT (order_id) DO NOTHING";
const PAYMENT_OF: &str = "SELECT payment_id FROM policy_order_payments WHERE order_id = $1";

/// The shop's policies.
pub fn policies<L: EventLog>(_: &PolicySettings) -> Vec<SharedPolicy<L>> {
    vec![Arc::new(ShopPolicy)]
}

/// The delivery of an order: one per order, so its id follows from the order's.
pub fn delivery_id(order_id: Uuid) -> Uuid {
    derived_id("delivery of order", order_id)
}

struct ShopPolicy;

/// What the policy does, as the "then" column of its table names it.
#[derive(Debug, Clone, PartialEq)]
enum Then {
    StartDelivery { delivery_id: Uuid, order_id: Uuid },
    CancelDelivery { delivery_id: Uuid },
    CancelOrder { order_id: Uuid },
    CancelPayment { payment_id: Uuid },
}

/// What the policy consulted before deciding.
#[derive(Debug, Default)]
struct Consulted {
    order_cancelled: bool,
    /// The order's delivery has started and is not cancelled.
    delivery_active: bool,
    /// The order's payment, if it still stands.
    payment_to_cancel: Option<Uuid>,
}

/// The commands an event of `order_id` calls for, given what was consulted.
fn decide(order_id: Uuid, event: &ShopEvent, consulted: &Consulted) -> Vec<Then> {
    let cancel_payment = consulted
        .payment_to_cancel
        .map(|payment_id| Then::CancelPayment { payment_id });
    match event {
        ShopEvent::Payment(PaymentEvent::PaymentMade { .. }) if !consulted.order_cancelled => {
            vec![Then::StartDelivery {
                delivery_id: delivery_id(order_id),
                order_id,
            }]
        }
        ShopEvent::Order(OrderEvent::OrderCancelled {
            cancelled_by: CancelledBy::Customer,
        }) => {
            let cancel_delivery = Then::CancelDelivery {
                delivery_id: delivery_id(order_id),
            };
            let cancel_delivery = consulted.delivery_active.then_some(cancel_delivery);
            cancel_delivery.into_iter().chain(cancel_payment).collect()
        }
        ShopEvent::Delivery(DeliveryEvent::DeliveryCancelled { .. })
            if !consulted.order_cancelled =>
        {
            let cancel_order = Then::CancelOrder { order_id };
            std::iter::once(cancel_order)
                .chain(cancel_payment)
                .collect()
        }
        _ => Vec::new(),
    }
}

impl<L: EventLog> Policy<L> for ShopPolicy {
    fn name(&self) -> &'static str {
        "shop"
    }

    fn reads(&self) -> &[&'static str] {
        ShopEvent::AGGREGATE_TYPES
    }

    fn key_of(&self, event: &LogEvent) -> Result<String, serde_json::Error> {
        Ok(ShopEvent::decode(event)?
            .map_or_else(|| event.aggregate_id.clone(), |shop| shop.order_id(event)))
    }

    fn react<'a>(
        &'a self,
        reaction: &'a Reaction<'a, L>,
    ) -> BoxFuture<'a, Result<Vec<Issue<L>>, PolicyError>> {
        Box::pin(async move {
            let Some(event) = reaction.decode::<ShopEvent>()? else {
                return Ok(Vec::new());
            };
            let order_id = order_of(reaction, &event)?;
            let consulted = consult(reaction, order_id, &event).await?;
            Ok(decide(order_id, &event, &consulted)
                .into_iter()
                .map(issue)
                .collect())
        })
    }
}

/// The order the event belongs to.
fn order_of<L: EventLog>(
    reaction: &Reaction<'_, L>,
    event: &ShopEvent,
) -> Result<Uuid, PolicyError> {
    match event {
        ShopEvent::Payment(PaymentEvent::PaymentMade { order_id, .. })
        | ShopEvent::Payment(PaymentEvent::PaymentCancelled { order_id })
        | ShopEvent::Delivery(DeliveryEvent::DeliveryStarted { order_id })
        | ShopEvent::Delivery(DeliveryEvent::DeliveryCancelled { order_id }) => Ok(*order_id),
        ShopEvent::Order(_) => reaction.aggregate_id(),
    }
}

/// Consults what the event's decision depends on (and remembers a payment).
async fn consult<L: EventLog>(
    reaction: &Reaction<'_, L>,
    order_id: Uuid,
    event: &ShopEvent,
) -> Result<Consulted, PolicyError> {
    let mut consulted = Consulted::default();
    match event {
        ShopEvent::Payment(PaymentEvent::PaymentMade { .. }) => {
            remember_payment(reaction, order_id, reaction.aggregate_id()?).await?;
            consulted.order_cancelled = reaction.load::<Order>(order_id).await?.is_cancelled();
        }
        ShopEvent::Order(OrderEvent::OrderCancelled {
            cancelled_by: CancelledBy::Customer,
        }) => {
            let delivery = reaction.load::<Delivery>(delivery_id(order_id)).await?;
            consulted.delivery_active = delivery.order_id().is_some() && !delivery.is_cancelled();
            consulted.payment_to_cancel = payment_to_cancel(reaction, order_id).await?;
        }
        ShopEvent::Delivery(DeliveryEvent::DeliveryCancelled { .. }) => {
            consulted.order_cancelled = reaction.load::<Order>(order_id).await?.is_cancelled();
            if !consulted.order_cancelled {
                consulted.payment_to_cancel = payment_to_cancel(reaction, order_id).await?;
            }
        }
        _ => {}
    }
    Ok(consulted)
}

fn issue<L: EventLog>(then: Then) -> Issue<L> {
    match then {
        Then::StartDelivery {
            delivery_id,
            order_id,
        } => Issue::on_new_stream::<Delivery>(
            delivery_id,
            DeliveryCommand::StartDelivery { order_id },
        ),
        Then::CancelDelivery { delivery_id } => {
            Issue::command::<Delivery>(delivery_id, DeliveryCommand::CancelDelivery)
        }
        Then::CancelOrder { order_id } => Issue::command::<Order>(
            order_id,
            OrderCommand::CancelOrder(CancelOrder {
                cancelled_by: CancelledBy::Delivery,
                requested_by: None,
            }),
        ),
        Then::CancelPayment { payment_id } => {
            Issue::command::<Payment>(payment_id, PaymentCommand::CancelPayment)
        }
    }
}

/// The order's payment, unless it is already cancelled.
async fn payment_to_cancel<L: EventLog>(
    reaction: &Reaction<'_, L>,
    order_id: Uuid,
) -> Result<Option<Uuid>, PolicyError> {
    let order = order_id.to_string();
    let payment = reaction
        .store()
        .fetch_text(PAYMENT_OF, &[Arg::Text(&order)])
        .await?;
    let Some(payment_id) = payment.and_then(|id| id.parse().ok()) else {
        tracing::warn!(%order_id, "no payment known for the order; nothing to cancel");
        return Ok(None);
    };
    let cancelled = reaction.load::<Payment>(payment_id).await?.is_cancelled();
    Ok((!cancelled).then_some(payment_id))
}

async fn remember_payment<L: EventLog>(
    reaction: &Reaction<'_, L>,
    order_id: Uuid,
    payment_id: Uuid,
) -> Result<(), PolicyError> {
    let (order, payment) = (order_id.to_string(), payment_id.to_string());
    let args = [Arg::Text(&order), Arg::Text(&payment)];
    reaction.store().execute(REMEMBER_PAYMENT, &args).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use domain::shop::PayMethod;

    use super::*;

    fn paid(order_id: Uuid) -> ShopEvent {
        ShopEvent::Payment(PaymentEvent::PaymentMade {
            order_id,
            amount: 100,
            pay_method: PayMethod::Card,
        })
    }

    #[test]
    fn a_paid_order_is_delivered_unless_already_cancelled() {
        let order_id = Uuid::now_v7();
        let standing = Consulted::default();
        assert_eq!(
            decide(order_id, &paid(order_id), &standing),
            [Then::StartDelivery {
                delivery_id: delivery_id(order_id),
                order_id
            }]
        );
        let cancelled = Consulted {
            order_cancelled: true,
            ..Consulted::default()
        };
        assert_eq!(decide(order_id, &paid(order_id), &cancelled), []);
    }

    #[test]
    fn a_customers_cancel_cancels_the_started_delivery_and_the_payment() {
        let (order_id, payment_id) = (Uuid::now_v7(), Uuid::now_v7());
        let cancelled = ShopEvent::Order(OrderEvent::OrderCancelled {
            cancelled_by: CancelledBy::Customer,
        });
        let consulted = Consulted {
            delivery_active: true,
            payment_to_cancel: Some(payment_id),
            ..Consulted::default()
        };
        assert_eq!(
            decide(order_id, &cancelled, &consulted),
            [
                Then::CancelDelivery {
                    delivery_id: delivery_id(order_id)
                },
                Then::CancelPayment { payment_id },
            ]
        );
        assert_eq!(decide(order_id, &cancelled, &Consulted::default()), []);
    }

    #[test]
    fn a_cancelled_delivery_cancels_its_standing_order_and_payment() {
        let (order_id, payment_id) = (Uuid::now_v7(), Uuid::now_v7());
        let cancelled = ShopEvent::Delivery(DeliveryEvent::DeliveryCancelled { order_id });
        let standing = Consulted {
            payment_to_cancel: Some(payment_id),
            ..Consulted::default()
        };
        assert_eq!(
            decide(order_id, &cancelled, &standing),
            [
                Then::CancelOrder { order_id },
                Then::CancelPayment { payment_id }
            ]
        );
        let order_cancelled = Consulted {
            order_cancelled: true,
            ..Consulted::default()
        };
        assert_eq!(decide(order_id, &cancelled, &order_cancelled), []);
    }
}
