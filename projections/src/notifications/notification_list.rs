//! **notifications**: one row per notification sent, in `notifications` — to whom, what
//! it said, why, when, and the correlation id of the request that caused it.
//!
//! Only `NotificationSent` changes it: it inserts the row, keyed by the notification's
//! aggregate id. The mypage's notifications section keeps the latest rows per user in
//! `mypage_notifications`.

use domain::notifications::notification::NotificationEvent;
use serde::Serialize;
use utoipa::ToSchema;

use crate::event::{timestamp, LogEvent};
use crate::table::{Projected, ViewRow};

/// A row of notifications and of a mypage's latest notifications.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationRow {
    pub notification_id: String,
    pub user_id: String,
    pub contents: String,
    pub cause: String,
    pub send_dtm: String,
    pub correlation_id: Option<String>,
    pub position: i64,
    pub updated_at: String,
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

    const OWNER: Option<&'static str> = Some("user_id");

    fn key(&self) -> &str {
        &self.notification_id
    }

    fn owner(&self) -> Option<&str> {
        Some(&self.user_id)
    }

    fn position(&self) -> i64 {
        self.position
    }

    fn updated_at(&self) -> &str {
        &self.updated_at
    }
}

impl Projected for NotificationRow {
    type Event = NotificationEvent;

    fn key_of(event: &LogEvent, _: &NotificationEvent) -> Option<String> {
        Some(event.aggregate_id.clone())
    }

    fn starts_row(business: &NotificationEvent) -> bool {
        matches!(business, NotificationEvent::NotificationSent { .. })
    }

    fn apply(
        row: &mut Option<Self>,
        event: &LogEvent,
        business: &NotificationEvent,
    ) -> Result<(), String> {
        let NotificationEvent::NotificationSent {
            user_id,
            contents,
            cause,
            send_dtm,
        } = business;
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
