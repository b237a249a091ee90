//! The notifications context's policy: **notificationSink** hands every recorded
//! notification to the log or a webhook ([`NotificationSink`]). Every context's
//! policies send notifications through the `Notification` aggregate; this delivers them.

mod sink;

use std::sync::Arc;

use command_api::store::EventLog;

pub use sink::{
    Delivery, NotificationSink, OutgoingNotification, ResendError, SinkError, WebhookSettings,
};

use crate::policy::SharedPolicy;
use crate::registry::PolicySettings;

/// The notifications context's policies.
pub fn policies<L: EventLog>(settings: &PolicySettings) -> Vec<SharedPolicy<L>> {
    let sink = settings.sink.clone();
    vec![Arc::new(sink::SinkPolicy { sink })]
}
