//! Test helpers shared by the aggregate modules.

use cqrs_es::test::AggregateResultValidator;
use cqrs_es::{Aggregate, DomainEvent};
use serde_json::Value;

use crate::{Rejection, RejectionKind};

/// The command was refused as invalid input about `field` (asserts the stable code and
/// field, not the message).
pub fn assert_invalid<A>(result: AggregateResultValidator<A>, field: &str)
where
    A: Aggregate,
    A::Error: Rejection,
{
    match result.inspect_result() {
        Ok(events) => panic!("expected {field} to be rejected, received events: {events:?}"),
        Err(err) => {
            assert_eq!(err.kind(), RejectionKind::Invalid, "{err}");
            assert_eq!(err.code(), "invalid_field", "{err}");
            assert_eq!(err.field(), Some(field), "{err}");
            assert!(
                err.to_string().contains(field),
                "message {err:?} does not name {field}"
            );
        }
    }
}

/// The event is stored as `expected`, under its stored type name, and reads back as
/// itself.
pub fn assert_stored_as<E: DomainEvent>(event: &E, expected: Value, event_types: &[&str]) {
    let stored = serde_json::to_value(event).unwrap();
    assert_eq!(stored, expected);
    let tag = stored
        .as_object()
        .and_then(|map| map.keys().next())
        .expect("an externally tagged object");
    assert_eq!(tag, &event.event_type());
    assert!(
        event_types.contains(&tag.as_str()),
        "{tag} not in EVENT_TYPES"
    );
    assert_eq!(event.event_version(), "1.0");
    let read_back: E = serde_json::from_value(stored).unwrap();
    assert_eq!(&read_back, event);
}
