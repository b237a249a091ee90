//! **orderList**: one row per order in `order_list` — what was ordered, and where the
//! order, its payment and its delivery stand.
//!
//! - `OrderPlaced` inserts the row (orderStatus PLACED).
//! - `OrderCancelled` sets orderStatus CANCELLED and cancelledBy.
//! - `PaymentMade` / `PaymentCancelled` set paymentId (the payment's aggregate id) and
//!   paymentStatus PAID / CANCELLED on the row of the payload's orderId.
//! - `DeliveryStarted` / `DeliveryCancelled` set deliveryId and deliveryStatus
//!   STARTED / CANCELLED the same way.
//!
//! An update whose order row does not exist changes nothing (an order's `PaymentMade`
//! commits right after its `OrderPlaced`, so in log order the row is always there).
//!
//! The mypage view keeps the same rows per user in `mypage_orders`: [`OrderTable`] is
//! the set of statements for one such table, and [`apply_to`] runs them. This module
//! also holds the two helpers every view shares, [`update`] and [`wire_name`].

use domain::delivery::DeliveryEvent;
use domain::order::OrderEvent;
use domain::payment::PaymentEvent;
use serde::Serialize;
use serde_json::Value;

use crate::event::{BusinessEvent, LogEvent};
use crate::sql::{Arg, ViewTx};

/// orderStatus of a placed order.
const PLACED: &str = "PLACED";
/// orderStatus, paymentStatus and deliveryStatus once cancelled.
const CANCELLED: &str = "CANCELLED";
/// paymentStatus once paid.
const PAID: &str = "PAID";
/// deliveryStatus once started.
const STARTED: &str = "STARTED";

/// The statements that keep one table of order rows (`order_list`, `mypage_orders`);
/// the updates are [`update_sql`]s keyed by order_id.
pub(super) struct OrderTable {
    /// `$1` order_id, `$2` customer_id, `$3` product, `$4` qty, `$5` price,
    /// `$6` pay_method, `$7` order_status, `$8` position, `$9` updated_at.
    pub place: &'static str,
    /// Sets order_status and cancelled_by.
    pub cancel: &'static str,
    /// Sets payment_id and payment_status.
    pub payment: &'static str,
    /// Sets delivery_id and delivery_status.
    pub delivery: &'static str,
}

/// The [`OrderTable`] of the table `$table`, optionally with an owner column filled
/// from one of the insert's parameters (mypage: `"user_id" = "$2"`, the customer).
macro_rules! order_table {
    ($table:literal $(, $owner:literal = $owner_value:literal)?) => {{
        use $crate::views::order_list::update_sql;
        $crate::views::order_list::OrderTable {
            place: concat!(
                "INSERT INTO ", $table, " (order_id, customer_id, product, qty, price, \
                 pay_method, order_status, position, updated_at", $(", ", $owner,)? ") \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9", $(", ", $owner_value,)? ") \
                 ON CONFLICT (order_id) DO UPDATE SET customer_id = excluded.customer_id, \
                 product = excluded.product, qty = excluded.qty, price = excluded.price, \
                 pay_method = excluded.pay_method, order_status = excluded.order_status, \
                 position = excluded.position, updated_at = excluded.updated_at",
                $(", ", $owner, " = excluded.", $owner,)?
                " WHERE ", $table, ".position < $8"
            ),
            cancel: update_sql!(
                $table,
                "order_status = $1, cancelled_by = $2, position = $3, updated_at = $4",
                "order_id = $5",
                "$3"
            ),
            payment: update_sql!(
                $table,
                "payment_id = $1, payment_status = $2, position = $3, updated_at = $4",
                "order_id = $5",
                "$3"
            ),
            delivery: update_sql!(
                $table,
                "delivery_id = $1, delivery_status = $2, position = $3, updated_at = $4",
                "order_id = $5",
                "$3"
            ),
        }
    }};
}
pub(super) use order_table;

/// The orderList view's table.
const ORDER_LIST: OrderTable = order_table!("order_list");

pub(super) async fn apply(
    tx: &mut ViewTx<'_>,
    event: &LogEvent,
    business: &BusinessEvent,
) -> Result<(), sqlx::Error> {
    apply_to(&ORDER_LIST, tx, event, business).await
}

/// Applies an order, payment or delivery event to one table of order rows; other
/// events change nothing.
pub(super) async fn apply_to(
    table: &OrderTable,
    tx: &mut ViewTx<'_>,
    event: &LogEvent,
    business: &BusinessEvent,
) -> Result<(), sqlx::Error> {
    let aggregate_id = event.aggregate_id.as_str();
    match business {
        BusinessEvent::Order(OrderEvent::OrderPlaced {
            customer_id,
            product,
            qty,
            price,
            pay_method,
        }) => {
            let pay_method = wire_name(pay_method)?;
            let updated_at = event.recorded_at_text();
            let args = [
                Arg::Text(aggregate_id),
                Arg::Text(customer_id),
                Arg::Text(product),
                Arg::Int(*qty),
                Arg::Int(*price),
                Arg::Text(&pay_method),
                Arg::Text(PLACED),
                Arg::Int(event.position),
                Arg::Text(&updated_at),
            ];
            tx.execute(table.place, &args).await?;
        }
        BusinessEvent::Order(OrderEvent::OrderCancelled { cancelled_by }) => {
            let cancelled_by = wire_name(cancelled_by)?;
            let values = [Arg::Text(CANCELLED), Arg::Text(&cancelled_by)];
            update(tx, table.cancel, &values, event, aggregate_id).await?;
        }
        BusinessEvent::Payment(payment) => {
            let (order_id, status) = match payment {
                PaymentEvent::PaymentMade { order_id, .. } => (order_id, PAID),
                PaymentEvent::PaymentCancelled { order_id } => (order_id, CANCELLED),
            };
            let values = [Arg::Text(aggregate_id), Arg::Text(status)];
            update(tx, table.payment, &values, event, &order_id.to_string()).await?;
        }
        BusinessEvent::Delivery(delivery) => {
            let (order_id, status) = match delivery {
                DeliveryEvent::DeliveryStarted { order_id } => (order_id, STARTED),
                DeliveryEvent::DeliveryCancelled { order_id } => (order_id, CANCELLED),
            };
            let values = [Arg::Text(aggregate_id), Arg::Text(status)];
            update(tx, table.delivery, &values, event, &order_id.to_string()).await?;
        }
        BusinessEvent::Booking(_) | BusinessEvent::Confirm(_) | BusinessEvent::Notification(_) => {}
    }
    Ok(())
}

/// `UPDATE <table> SET <set> WHERE <row> AND <table>.position < <position>`: the update
/// of one row that [`update`] runs. `set` assigns the values `$1…$n`, then
/// `position = $n+1, updated_at = $n+2`; `row` is `<key> = $n+3`; `position` is `$n+1`.
/// So a missing row, or one that a later event already changed, is left alone.
macro_rules! update_sql {
    ($table:literal, $set:literal, $row:literal, $position:literal) => {
        concat!(
            "UPDATE ",
            $table,
            " SET ",
            $set,
            " WHERE ",
            $row,
            " AND ",
            $table,
            ".position < ",
            $position
        )
    };
}
pub(super) use update_sql;

/// Runs an [`update_sql`] statement: binds `values` (`$1…$n`), then the event's
/// position and time, then the row's key.
pub(super) async fn update(
    tx: &mut ViewTx<'_>,
    sql: &str,
    values: &[Arg<'_>],
    event: &LogEvent,
    key: &str,
) -> Result<(), sqlx::Error> {
    let updated_at = event.recorded_at_text();
    let mut args = values.to_vec();
    args.extend([
        Arg::Int(event.position),
        Arg::Text(&updated_at),
        Arg::Text(key),
    ]);
    tx.execute(sql, &args).await?;
    Ok(())
}

/// The name an enum has in the stored events (`CARD`, `CUSTOMER`, `DENIED`, …), taken
/// from its serde form so a view shows exactly what the log holds.
pub(super) fn wire_name<T: Serialize>(value: &T) -> Result<String, sqlx::Error> {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => Ok(name),
        Ok(other) => Err(sqlx::Error::Encode(
            format!("expected an enum name, got {other}").into(),
        )),
        Err(error) => Err(sqlx::Error::Encode(Box::new(error))),
    }
}
