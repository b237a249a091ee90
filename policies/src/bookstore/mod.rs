//! The bookstore context's policies: **bookstore** ([`orders`]: an order ships and
//! earns mileage, a cancel takes both back) and **bookNews** ([`news`]: members hear of
//! new books and of restocks of books they were refused).

pub mod news;
pub mod orders;

use std::sync::Arc;

use command_api::store::EventLog;

use crate::policy::SharedPolicy;
use crate::registry::PolicySettings;

/// The bookstore's policies.
pub fn policies<L: EventLog>(_: &PolicySettings) -> Vec<SharedPolicy<L>> {
    vec![Arc::new(orders::OrdersPolicy), Arc::new(news::NewsPolicy)]
}
