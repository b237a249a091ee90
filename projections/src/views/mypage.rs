//! **mypage**: one document per user, assembled by the read API from three tables keyed
//! like their own views and carrying the user:
//!
//! - `mypage_orders`: the user's orders (user_id = customerId), rows as in orderList,
//!   changed by the same order, payment and delivery events;
//! - `mypage_bookings`: the user's bookings (user_id = bookingUserId), rows as in
//!   bookingList, changed by the same booking and confirm events;
//! - `mypage_notifications`: the user's 20 latest notifications, rows as in
//!   notifications; after a batch inserts some, the users it touched keep only their
//!   20 latest (by sendDtm, then position).
//!
//! Payment, delivery and confirm events do not name the user: they update the row of
//! their order or booking, which these tables key on just as the other views do.

use domain::notifications::notification::NotificationEvent;

use super::booking_list::BookingRow;
use super::notifications::NotificationRow;
use super::order_list::OrderRow;
use super::table::{json_strings, Table};
use super::{ApplyError, DecodedEvent};
use crate::event::BusinessEvent;
use crate::sql::{Arg, ViewTx};

/// How many notifications a user's page keeps.
const KEPT_NOTIFICATIONS: i64 = 20;

const ORDERS: Table<OrderRow> = Table::new("mypage_orders").owned_by("user_id", "customer_id");
const BOOKINGS: Table<BookingRow> =
    Table::new("mypage_bookings").owned_by("user_id", "booking_user_id");
const NOTIFICATIONS: Table<NotificationRow> = Table::new("mypage_notifications");

pub(super) async fn apply(
    tx: &mut ViewTx<'_>,
    events: &[DecodedEvent<'_>],
) -> Result<(), ApplyError> {
    ORDERS.apply(tx, events).await?;
    BOOKINGS.apply(tx, events).await?;
    NOTIFICATIONS.apply(tx, events).await?;
    let users: Vec<&str> = events
        .iter()
        .filter_map(|decoded| match &decoded.business {
            BusinessEvent::Notification(NotificationEvent::NotificationSent {
                user_id, ..
            }) => Some(user_id.as_str()),
            _ => None,
        })
        .collect();
    if users.is_empty() {
        return Ok(());
    }
    let users =
        serde_json::to_string(&users).map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
    let trim = format!(
        "DELETE FROM mypage_notifications WHERE notification_id IN (
             SELECT notification_id FROM (
                 SELECT notification_id, row_number() OVER (
                            PARTITION BY user_id ORDER BY send_dtm DESC, position DESC) AS newness
                   FROM mypage_notifications WHERE user_id IN ({})) ranked
              WHERE newness > $2)",
        json_strings(tx)
    );
    tx.execute(&trim, &[Arg::Text(&users), Arg::Int(KEPT_NOTIFICATIONS)])
        .await?;
    Ok(())
}
