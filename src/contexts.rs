//! The bounded contexts this binary hosts, listed once. Each line takes what a context
//! hands every layer (its aggregates and command routes, …) from the folder of the
//! same name in that layer; the rest of the binary iterates over this list.

use command_api::store::EventLog;
use command_api::Commands;

/// One bounded context: what it brings to each layer.
pub struct Context<L: EventLog> {
    pub commands: Commands<L>,
}

/// A context from its folders, named `$name` in every layer.
macro_rules! context {
    ($name:ident) => {
        Context {
            commands: command_api::$name::commands(),
        }
    };
}

/// Every context strata hosts.
pub fn all<L: EventLog>() -> Vec<Context<L>> {
    vec![context!(shop), context!(booking), context!(notifications)]
}
