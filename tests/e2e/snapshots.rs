//! Long streams load from a snapshot plus the events after it, and load correctly.
//!
//! No business stream grows long (an order has at most a few events), so this uses a
//! counter aggregate of its own through the same command service and store.

use crate::support::Backend;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use domain::{Rejection, RejectionKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::support::on_both_stores;

/// Counts how often it was incremented; every increment is one event.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Counter {
    count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum CounterEvent {
    Incremented,
}

impl DomainEvent for CounterEvent {
    fn event_type(&self) -> String {
        "Incremented".to_string()
    }
    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// The count this test expects, asserted inside the aggregate when it is loaded.
#[derive(Debug, thiserror::Error)]
#[error("loaded count {loaded} but expected {expected}")]
struct WrongCount {
    loaded: u64,
    expected: u64,
}

impl Rejection for WrongCount {
    fn kind(&self) -> RejectionKind {
        RejectionKind::Conflict
    }
    fn code(&self) -> &'static str {
        "wrong_count"
    }
}

/// Appends `add` events after checking that the loaded state has `expected` of them.
#[derive(Clone)]
struct Increment {
    expected: u64,
    add: u64,
}

impl Aggregate for Counter {
    const TYPE: &'static str = "Counter";
    type Command = Increment;
    type Event = CounterEvent;
    type Error = WrongCount;
    type Services = ();

    async fn handle(
        &mut self,
        command: Increment,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), WrongCount> {
        if self.count != command.expected {
            return Err(WrongCount {
                loaded: self.count,
                expected: command.expected,
            });
        }
        for _ in 0..command.add {
            sink.write(CounterEvent::Incremented, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, _: CounterEvent) {
        self.count += 1;
    }
}

impl command_api::CommandTarget for Counter {
    fn command_name(_: &Increment) -> &'static str {
        "Increment"
    }
}

async fn increment(backend: &Backend, id: Uuid, expected: u64, add: u64) {
    let context = command_api::CommandContext {
        correlation_id: "snapshots".to_string(),
        causation_id: Uuid::now_v7().to_string(),
        actor: "test".to_string(),
        idempotency: None,
        deadline: None,
    };
    let command = Increment { expected, add };
    match backend {
        Backend::Postgres(s) => s.service().execute::<Counter>(id, command, context).await,
        Backend::Sqlite(s) => s.service().execute::<Counter>(id, command, context).await,
    }
    .unwrap_or_else(|error| panic!("increment at {expected}: {error}"));
}

on_both_stores! {
    async fn a_stream_of_five_thousand_events_loads_correctly(app: TestApp) {
        let id = Uuid::now_v7();
        // Batches of 73 cross snapshot boundaries at varying offsets.
        let mut count = 0;
        while count < 5_000 {
            let add = 73.min(5_000 - count);
            increment(&app.backend, id, count, add).await;
            count += add;
        }
        // Loading checks the count inside the aggregate; one more event proves it.
        increment(&app.backend, id, 5_000, 1).await;
        let id = id.to_string();
        let stored = app.scalar("SELECT count(*) FROM events WHERE aggregate_id = $1", &id).await;
        assert_eq!(stored, 5_001);
        let snapshot = app.scalar("SELECT last_sequence FROM snapshots WHERE aggregate_id = $1", &id).await;
        assert_eq!(snapshot, 5_000, "the batch reaching 5,000 crossed a hundred: snapshot");
    }

    async fn a_load_starts_from_the_snapshot_and_applies_only_the_events_after_it(app: TestApp) {
        let id = Uuid::now_v7();
        increment(&app.backend, id, 0, 150).await;
        increment(&app.backend, id, 150, 20).await;
        // A snapshot (taken at 150) that disagrees with the events shows which the load used.
        let key = id.to_string();
        app.execute("UPDATE snapshots SET payload = '{\"count\": 7}' WHERE aggregate_id = $1", &key).await;
        increment(&app.backend, id, 7 + 20, 1).await;
    }

    async fn a_snapshot_of_an_earlier_shape_is_passed_over_for_the_events(app: TestApp) {
        let id = Uuid::now_v7();
        increment(&app.backend, id, 0, 150).await;
        let key = id.to_string();
        app.execute("UPDATE snapshots SET payload = '{\"count\": \"many\"}' WHERE aggregate_id = $1", &key).await;
        increment(&app.backend, id, 150, 1).await;
    }
}
