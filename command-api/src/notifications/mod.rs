//! The notifications context's commands: none over HTTP; every context's policies send
//! notifications through [`CommandService::execute`](crate::CommandService::execute).

use cqrs_es::Aggregate;
use domain::notifications::notification::{Notification, NotificationCommand};
use utoipa::openapi::OpenApi;

use crate::dispatch::CommandTarget;
use crate::registry::Commands;
use crate::store::EventLog;

/// The notifications context's aggregate; it has no routes of its own.
pub fn commands<L: EventLog>() -> Commands<L> {
    Commands {
        aggregate_types: &[Notification::TYPE],
        routes: axum::Router::new(),
        openapi: OpenApi::default(),
    }
}

impl CommandTarget for Notification {
    fn command_name(command: &NotificationCommand) -> &'static str {
        match command {
            NotificationCommand::SendNotification { .. } => "SendNotification",
        }
    }
}
