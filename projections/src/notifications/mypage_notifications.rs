//! **mypageNotifications**: the `notifications` section of the mypage, the 20 latest
//! notifications of each user in `mypage_notifications`, rows as in notifications.
//! After a batch inserts some, the users it touched keep only their 20 latest (by
//! sendDtm, then position).

use domain::notifications::notification::NotificationEvent;
use futures::future::BoxFuture;

use super::NotificationRow;
use crate::event::LogEvent;
use crate::sql::{Arg, ViewTx};
use crate::table::{decode_all, json_strings, Table};
use crate::view::{ApplyError, View};

/// How many notifications a user's page keeps.
const KEPT_NOTIFICATIONS: i64 = 20;

/// The section's view.
pub struct MypageNotifications {
    table: Table<NotificationRow>,
}

/// The mypage's `notifications`.
pub static MYPAGE_NOTIFICATIONS: MypageNotifications = MypageNotifications {
    table: Table::new("mypage_notifications"),
};

impl View for MypageNotifications {
    fn name(&self) -> &'static str {
        "mypageNotifications"
    }

    fn reads(&self) -> &[&'static str] {
        <NotificationEvent as crate::table::ContextEvent>::AGGREGATE_TYPES
    }

    fn tables(&self) -> &[&'static str] {
        &["mypage_notifications"]
    }

    fn apply_batch<'a>(
        &'a self,
        tx: &'a mut ViewTx<'_>,
        events: &'a [&'a LogEvent],
    ) -> BoxFuture<'a, Result<(), ApplyError>> {
        Box::pin(async move {
            let decoded = decode_all::<NotificationEvent>(events)?;
            self.table.apply(tx, &decoded).await?;
            let users: Vec<&str> = decoded
                .iter()
                .map(|decoded| match &decoded.business {
                    NotificationEvent::NotificationSent { user_id, .. } => user_id.as_str(),
                })
                .collect();
            if users.is_empty() {
                return Ok(());
            }
            let users = serde_json::to_string(&users)
                .map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
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
        })
    }
}
