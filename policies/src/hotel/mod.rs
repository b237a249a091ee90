//! The hotel context's policies: **hotel** ([`rooms`]: a deleted room's stays are
//! cancelled, a cancelled stay is refunded) and **hotelNotify** ([`notify`]: the guest
//! and the host hear of every stay, cancellation and refund).

pub mod notify;
pub mod rooms;

use std::sync::Arc;

use command_api::store::EventLog;

use crate::policy::SharedPolicy;
use crate::registry::PolicySettings;

/// The hotel's policies.
pub fn policies<L: EventLog>(_: &PolicySettings) -> Vec<SharedPolicy<L>> {
    vec![Arc::new(rooms::RoomsPolicy), Arc::new(notify::NotifyPolicy)]
}
