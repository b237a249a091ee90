//! **mypage**: one document per user, assembled by the read API from three tables keyed
//! like their own views and carrying the user:
//!
//! - `mypage_orders`: the user's orders (user_id = customerId), rows as in orderList,
//!   changed by the same order, payment and delivery events;
//! - `mypage_bookings`: the user's bookings (user_id = bookingUserId), rows as in
//!   bookingList, changed by the same booking and confirm events;
//! - `mypage_notifications`: the user's 20 latest notifications, rows as in
//!   notifications; each `NotificationSent` inserts one and drops the user's older ones
//!   beyond 20 (latest by sendDtm, then position).
//!
//! Payment, delivery and confirm events do not name the user: they update the row of
//! their order or booking, which these tables key on just as the other views do.

use domain::notification::NotificationEvent;

use super::booking_list::{self, booking_table, BookingTable};
use super::notifications::{self, notification_insert};
use super::order_list::{self, order_table, OrderTable};
use crate::event::{BusinessEvent, LogEvent};
use crate::sql::{Arg, ViewTx};

/// How many notifications a user's page keeps.
const KEPT_NOTIFICATIONS: i64 = 20;

/// The user's orders; user_id is the insert's `$2`, the customer.
const ORDERS: OrderTable = order_table!("mypage_orders", "user_id" = "$2");

/// The user's bookings; user_id is the insert's `$5`, the booking user.
const BOOKINGS: BookingTable = booking_table!("mypage_bookings", "user_id" = "$5");

/// Inserts one of the user's notifications.
const INSERT_NOTIFICATION: &str = notification_insert!("mypage_notifications");

/// Drops the notifications of user `$1` beyond the `$2` latest.
const TRIM_NOTIFICATIONS: &str = "DELETE FROM mypage_notifications WHERE user_id = $1 \
     AND notification_id NOT IN (SELECT notification_id FROM mypage_notifications \
     WHERE user_id = $1 ORDER BY send_dtm DESC, position DESC LIMIT $2)";

pub(super) async fn apply(
    tx: &mut ViewTx<'_>,
    event: &LogEvent,
    business: &BusinessEvent,
) -> Result<(), sqlx::Error> {
    match business {
        BusinessEvent::Order(_) | BusinessEvent::Payment(_) | BusinessEvent::Delivery(_) => {
            order_list::apply_to(&ORDERS, tx, event, business).await
        }
        BusinessEvent::Booking(_) | BusinessEvent::Confirm(_) => {
            booking_list::apply_to(&BOOKINGS, tx, event, business).await
        }
        BusinessEvent::Notification(NotificationEvent::NotificationSent { user_id, .. }) => {
            notifications::apply_to(INSERT_NOTIFICATION, tx, event, business).await?;
            let args = [Arg::Text(user_id), Arg::Int(KEPT_NOTIFICATIONS)];
            tx.execute(TRIM_NOTIFICATIONS, &args).await?;
            Ok(())
        }
    }
}
