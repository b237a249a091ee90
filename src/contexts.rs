//! The bounded contexts this binary hosts, listed once. Each line takes what a context
//! hands every layer from the folder of the same name in that layer: its aggregates and
//! command routes (`command_api::<context>`), its views (`projections::<context>`), its
//! reads and mypage sections (`read_api::<context>`) and its policies
//! (`policies::<context>`). The rest of the binary iterates over this list.

use command_api::store::EventLog;
use command_api::Commands;
use policies::{PolicySettings, SharedPolicy};
use projections::View;
use read_api::Reads;

/// One bounded context: what it brings to each layer.
#[derive(Clone)]
pub struct Context<L: EventLog> {
    pub commands: Commands<L>,
    pub views: Vec<&'static dyn View>,
    pub reads: Reads,
    /// Builds its policies (a function: they need the process's settings).
    pub policies: fn(&PolicySettings) -> Vec<SharedPolicy<L>>,
}

/// A context from its folders, named `$name` in every layer.
macro_rules! context {
    ($name:ident) => {
        Context {
            commands: command_api::$name::commands(),
            views: projections::$name::views(),
            reads: read_api::$name::reads(),
            policies: policies::$name::policies::<L>,
        }
    };
}

/// Every context strata hosts.
pub fn all<L: EventLog>() -> Vec<Context<L>> {
    vec![
        context!(shop),
        context!(booking),
        context!(notifications),
        context!(bookstore),
        context!(hotel),
        context!(sharecar),
        context!(game),
    ]
}
