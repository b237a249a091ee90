//! The shop policy: a paid order is delivered; a cancelled order or delivery
//! compensates the rest.
//!
//! It consults the aggregates' current state before each command, so a customer's
//! cancel that lands before the policy reads the payment starts no delivery, and a
//! delivery cancelled because its order was cancelled does not cancel the order again.
//! The payment of each order is remembered (`policy_order_payments`) from `PaymentMade`,
//! which commits with the order and so always precedes its cancellation in the log.

use command_api::store::EventLog;
use domain::shop::delivery::{Delivery, DeliveryEvent};
use domain::shop::order::{CancelledBy, Order, OrderEvent};
use domain::shop::payment::{Payment, PaymentEvent};
use projections::sql::Arg;
use projections::{BusinessEvent, LogEvent};
use uuid::Uuid;

use crate::issue::{derived_id, PolicyCommand, PolicyError, Reaction};

const REMEMBER_PAYMENT: &str = "
    INSERT INTO policy_order_payments (order_id, payment_id) VALUES ($1, $2)
    ON CONFLICT (order_id) DO NOTHING";
const PAYMENT_OF: &str = "SELECT payment_id FROM policy_order_payments WHERE order_id = $1";

/// The delivery of an order: one per order, so its id follows from the order's.
pub fn delivery_id(order_id: Uuid) -> Uuid {
    derived_id("delivery of order", order_id)
}

/// The order an event belongs to: the policy handles one order's events in log order.
pub(crate) fn order_of(event: &BusinessEvent, logged: &LogEvent) -> String {
    match event {
        BusinessEvent::Payment(
            PaymentEvent::PaymentMade { order_id, .. }
            | PaymentEvent::PaymentCancelled { order_id },
        )
        | BusinessEvent::Delivery(
            DeliveryEvent::DeliveryStarted { order_id }
            | DeliveryEvent::DeliveryCancelled { order_id },
        ) => order_id.to_string(),
        _ => logged.aggregate_id.clone(),
    }
}

pub(crate) async fn react<L: EventLog>(
    reaction: &Reaction<'_, L>,
    event: BusinessEvent,
) -> Result<(), PolicyError> {
    match event {
        BusinessEvent::Payment(PaymentEvent::PaymentMade { order_id, .. }) => {
            let payment_id = reaction.aggregate_id()?;
            remember_payment(reaction, order_id, payment_id).await?;
            if reaction.load::<Order>(order_id).await?.is_cancelled() {
                return Ok(());
            }
            let delivery_id = delivery_id(order_id);
            let command = PolicyCommand::StartDelivery {
                delivery_id,
                order_id,
            };
            reaction.issue(command).await
        }
        BusinessEvent::Order(OrderEvent::OrderCancelled {
            cancelled_by: CancelledBy::Customer,
        }) => {
            let order_id = reaction.aggregate_id()?;
            let delivery_id = delivery_id(order_id);
            let delivery = reaction.load::<Delivery>(delivery_id).await?;
            if delivery.order_id().is_some() && !delivery.is_cancelled() {
                reaction
                    .issue(PolicyCommand::CancelDelivery { delivery_id })
                    .await?;
            }
            cancel_payment(reaction, order_id).await
        }
        BusinessEvent::Delivery(DeliveryEvent::DeliveryCancelled { order_id }) => {
            if reaction.load::<Order>(order_id).await?.is_cancelled() {
                return Ok(());
            }
            reaction
                .issue(PolicyCommand::CancelOrder { order_id })
                .await?;
            cancel_payment(reaction, order_id).await
        }
        _ => Ok(()),
    }
}

async fn cancel_payment<L: EventLog>(
    reaction: &Reaction<'_, L>,
    order_id: Uuid,
) -> Result<(), PolicyError> {
    let Some(payment_id) = payment_of(reaction, order_id).await? else {
        tracing::warn!(%order_id, "no payment known for the order; nothing to cancel");
        return Ok(());
    };
    if reaction.load::<Payment>(payment_id).await?.is_cancelled() {
        return Ok(());
    }
    reaction
        .issue(PolicyCommand::CancelPayment { payment_id })
        .await
}

async fn remember_payment<L: EventLog>(
    reaction: &Reaction<'_, L>,
    order_id: Uuid,
    payment_id: Uuid,
) -> Result<(), PolicyError> {
    let (order, payment) = (order_id.to_string(), payment_id.to_string());
    let args = [Arg::Text(&order), Arg::Text(&payment)];
    reaction.store.execute(REMEMBER_PAYMENT, &args).await?;
    Ok(())
}

async fn payment_of<L: EventLog>(
    reaction: &Reaction<'_, L>,
    order_id: Uuid,
) -> Result<Option<Uuid>, PolicyError> {
    let order = order_id.to_string();
    let payment = reaction
        .store
        .fetch_text(PAYMENT_OF, &[Arg::Text(&order)])
        .await?;
    Ok(payment.and_then(|id| id.parse().ok()))
}
