//! The game context's policies: **game** ([`rewards`]: an achieved mission's reward is
//! allocated, issued into the customer's wallet and linked to its mission) and
//! **gameNotify** ([`notify`]: the customer hears of each reward in their wallet and of
//! each exchange). None of them ever calls the gift service.

pub mod notify;
pub mod rewards;

use std::sync::Arc;

use command_api::store::EventLog;

use crate::policy::SharedPolicy;
use crate::registry::PolicySettings;

/// The game's policies.
pub fn policies<L: EventLog>(_: &PolicySettings) -> Vec<SharedPolicy<L>> {
    vec![
        Arc::new(rewards::RewardsPolicy),
        Arc::new(notify::NotifyPolicy),
    ]
}
