//! What the binary hands every context's policies when it builds them, and lookup of
//! policies by name. Nothing here names a context's policy.

use std::sync::Arc;

use command_api::store::EventLog;

use crate::notifications::NotificationSink;
use crate::policy::SharedPolicy;

/// What policies are built with: where notifications go (the shared notifications
/// context delivers every context's).
#[derive(Clone)]
pub struct PolicySettings {
    pub sink: Arc<NotificationSink>,
}

/// The policies among `policies` named `names`, in their order.
pub fn named<L: EventLog>(
    policies: &[SharedPolicy<L>],
    names: &[impl AsRef<str>],
) -> Result<Vec<SharedPolicy<L>>, UnknownPolicy> {
    names
        .iter()
        .map(|name| {
            policies
                .iter()
                .find(|policy| policy.name() == name.as_ref())
                .cloned()
                .ok_or_else(|| UnknownPolicy {
                    name: name.as_ref().to_string(),
                    known: policies.iter().map(|policy| policy.name()).collect(),
                })
        })
        .collect()
}

/// A policy name that no context registered.
#[derive(Debug, thiserror::Error)]
#[error("unknown policy '{name}'; policies are {}", known.join(", "))]
pub struct UnknownPolicy {
    name: String,
    known: Vec<&'static str>,
}
