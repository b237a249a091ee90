//! **notifications**: one row per notification sent, in `notifications` — to whom, what
//! it said, why, when, and the correlation id of the request that caused it.
//!
//! Only `NotificationSent` changes it: it inserts the row, keyed by the notification's
//! aggregate id. The mypage view keeps the same rows per user in `mypage_notifications`.

use domain::notifications::notification::NotificationEvent;
use serde::Serialize;

use super::table::{Table, ViewRow};
use crate::event::{timestamp, BusinessEvent, LogEvent};

/// The notifications view's table.
pub(super) const NOTIFICATIONS: Table<NotificationRow> = Table::new("notifications");

/// A row of `notifications` and of `mypage_notifications`.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub(crate) struct NotificationRow {
    notification_id: String,
    user_id: String,
    contents: String,
    cause: String,
    send_dtm: String,
    correlation_id: Option<String>,
    position: i64,
    updated_at: String,
}

impl ViewRow for NotificationRow {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("notification_id", "text"),
        ("user_id", "text"),
        ("contents", "text"),
        ("cause", "text"),
        ("send_dtm", "text"),
        ("correlation_id", "text"),
        ("position", "bigint"),
        ("updated_at", "text"),
    ];

    fn id(&self) -> &str {
        &self.notification_id
    }

    fn key_of(event: &LogEvent, business: &BusinessEvent) -> Option<String> {
        matches!(business, BusinessEvent::Notification(_)).then(|| event.aggregate_id.clone())
    }

    fn starts_row(business: &BusinessEvent) -> bool {
        matches!(
            business,
            BusinessEvent::Notification(NotificationEvent::NotificationSent { .. })
        )
    }

    fn apply(
        row: &mut Option<Self>,
        event: &LogEvent,
        business: &BusinessEvent,
    ) -> Result<(), String> {
        let BusinessEvent::Notification(NotificationEvent::NotificationSent {
            user_id,
            contents,
            cause,
            send_dtm,
        }) = business
        else {
            return Ok(());
        };
        *row = Some(NotificationRow {
            notification_id: event.aggregate_id.clone(),
            user_id: user_id.clone(),
            contents: contents.clone(),
            cause: cause.clone(),
            send_dtm: timestamp(send_dtm),
            correlation_id: event.correlation_id().map(str::to_owned),
            position: event.position,
            updated_at: event.recorded_at_text(),
        });
        Ok(())
    }
}
