//! A request's time limit, shared by the request and the commits it makes, so that the
//! answer a client gets when its time is up is the truth.
//!
//! The store marks a commit *sent* just before the statement that may commit it goes to
//! the database, and *unsent* again once the database has answered that nothing was
//! written. The request, when its time is up, *abandons* its commits: if none is in
//! flight, nothing was written and none will be (the store never sends an abandoned
//! commit); if one is, its outcome is unknown, and the request says so.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const OPEN: u8 = 0;
const SENT: u8 = 1;
const ABANDONED: u8 = 2;

/// When a request is answered whatever happens, and whether its commit is in flight.
#[derive(Debug, Clone)]
pub struct Deadline {
    at: Instant,
    state: Arc<AtomicU8>,
}

/// Time between the end of a commit's last statement and its answer reaching the
/// request: a commit starts its last statement no later than this before its deadline.
const ANSWER_MARGIN: Duration = Duration::from_millis(50);

impl Deadline {
    pub fn new(at: Instant) -> Self {
        Self {
            at,
            state: Arc::new(AtomicU8::new(OPEN)),
        }
    }

    pub fn at(&self) -> Instant {
        self.at
    }

    /// Whether a statement that runs at most `statement` may still start: its outcome
    /// would be known before the deadline.
    pub(crate) fn leaves_time_for(&self, statement: Duration) -> bool {
        Instant::now() + statement + ANSWER_MARGIN <= self.at
    }

    /// Marks the commit as in flight, right before its statement is sent: false when
    /// the request has been answered already, and the statement must not be sent.
    pub(crate) fn send(&self) -> bool {
        match self
            .state
            .compare_exchange(OPEN, SENT, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(state) => state == SENT,
        }
    }

    /// The database answered that the statement wrote nothing.
    pub(crate) fn unsent(&self) {
        let _ = self
            .state
            .compare_exchange(SENT, OPEN, Ordering::AcqRel, Ordering::Acquire);
    }

    /// The request's time is up: true when nothing was written and nothing will be;
    /// false when a commit is in flight, whose outcome is unknown.
    pub fn abandon(&self) -> bool {
        match self
            .state
            .compare_exchange(OPEN, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(state) => state == ABANDONED,
        }
    }
}

/// Whether a commit of a request with `deadline` (none: a policy's) may send a
/// statement that runs at most `statement`, marking it in flight if so.
pub(crate) fn may_send(deadline: Option<&Deadline>, statement: Duration) -> bool {
    deadline.is_none_or(|deadline| deadline.leaves_time_for(statement) && deadline.send())
}

/// After a statement of a commit that wrote nothing: `error` says whether it did.
pub(crate) fn unsent_unless_unknown(deadline: Option<&Deadline>, error: &super::StoreError) {
    if let (Some(deadline), false) = (
        deadline,
        matches!(error, super::StoreError::OutcomeUnknown(_)),
    ) {
        deadline.unsent();
    }
}

/// Commits `transaction` if its request can still be told the outcome of a `COMMIT` that
/// takes at most `statement`; otherwise drops it, rolled back, with nothing written.
pub(crate) async fn commit<DB: sqlx::Database>(
    transaction: sqlx::Transaction<'_, DB>,
    deadline: Option<&Deadline>,
    statement: Duration,
) -> Result<(), super::StoreError> {
    if !may_send(deadline, statement) {
        return Err(super::StoreError::TimedOut);
    }
    transaction.commit().await.map_err(|error| {
        let failure = super::StoreError::of_commit(&error);
        unsent_unless_unknown(deadline, &failure);
        failure
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_abandoned_before_its_commit_is_sent_never_sends_it() {
        let deadline = Deadline::new(Instant::now() + Duration::from_secs(10));
        assert!(deadline.abandon(), "nothing in flight: nothing written");
        assert!(!deadline.send(), "an abandoned commit is never sent");
    }

    #[test]
    fn a_request_whose_commit_is_in_flight_cannot_say_nothing_was_written() {
        let deadline = Deadline::new(Instant::now() + Duration::from_secs(10));
        assert!(deadline.send());
        assert!(!deadline.abandon(), "in flight: the outcome is unknown");
    }

    #[test]
    fn a_commit_the_database_refused_leaves_the_request_free_to_say_nothing_was_written() {
        let deadline = Deadline::new(Instant::now() + Duration::from_secs(10));
        assert!(deadline.send());
        deadline.unsent();
        assert!(deadline.abandon());
    }

    #[test]
    fn no_statement_starts_that_could_end_after_the_deadline() {
        let deadline = Deadline::new(Instant::now() + Duration::from_secs(1));
        assert!(deadline.leaves_time_for(Duration::from_millis(500)));
        assert!(!deadline.leaves_time_for(Duration::from_secs(2)));
        assert!(!may_send(Some(&deadline), Duration::from_secs(2)));
        assert!(
            may_send(None, Duration::from_secs(2)),
            "a policy has no deadline"
        );
    }
}
