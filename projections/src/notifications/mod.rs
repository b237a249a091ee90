//! The notifications context's views (a context every other context's policies send
//! through): **notifications**, and the `notifications` section of the mypage
//! (**mypageNotifications**, the latest 20 per user).

mod mypage_notifications;
mod notification_list;

use cqrs_es::Aggregate;
use domain::notifications::notification::{Notification, NotificationEvent};

pub use mypage_notifications::MYPAGE_NOTIFICATIONS;
pub use notification_list::NotificationRow;

use crate::event::LogEvent;
use crate::table::{ContextEvent, Table, TableView};
use crate::view::View;

/// notifications: one row per notification sent.
pub static NOTIFICATIONS: TableView<NotificationRow> =
    TableView::new("notifications", Table::new("notifications"));

/// The notifications context's views.
pub fn views() -> Vec<&'static dyn View> {
    vec![&NOTIFICATIONS, &MYPAGE_NOTIFICATIONS]
}

impl ContextEvent for NotificationEvent {
    const AGGREGATE_TYPES: &'static [&'static str] = &[Notification::TYPE];

    fn decode(event: &LogEvent) -> Result<Option<Self>, serde_json::Error> {
        match event.aggregate_type.as_str() {
            Notification::TYPE => event.payload_as().map(Some),
            _ => Ok(None),
        }
    }
}
