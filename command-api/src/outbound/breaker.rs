//! A circuit breaker: consecutive failures open it for a while; then one half-open
//! probe closes it (success) or opens it again (failure). While it is open, and while
//! its probe is out, calls are refused without touching the network.
//!
//! The state machine is plain data over instants the caller passes in, so its rules
//! are tested without a clock.

use std::time::{Duration, Instant};

/// How a breaker is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Failures in a row that open the breaker.
    pub failures_to_open: u32,
    /// How long it stays open before it lets one probe through.
    pub open_for: Duration,
}

/// Where a breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    /// The name `/admin/outbound` shows.
    pub fn name(self) -> &'static str {
        match self {
            Self::Closed => "CLOSED",
            Self::Open => "OPEN",
            Self::HalfOpen => "HALF_OPEN",
        }
    }
}

/// A breaker's state and what it counts.
#[derive(Debug)]
pub struct Breaker {
    settings: BreakerSettings,
    consecutive_failures: u32,
    /// While open: when the next probe may go.
    open_until: Option<Instant>,
    /// Whether the half-open probe is out.
    probing: bool,
}

/// A call the breaker let through; its outcome goes back through [`Breaker::record`].
#[derive(Debug, PartialEq, Eq)]
#[must_use = "the outcome of an admitted call must be recorded"]
pub enum Admitted {
    Call,
    /// The one half-open call: its outcome closes or reopens the breaker.
    Probe,
}

impl Breaker {
    pub fn new(settings: BreakerSettings) -> Self {
        Self {
            settings,
            consecutive_failures: 0,
            open_until: None,
            probing: false,
        }
    }

    pub fn state(&self, now: Instant) -> BreakerState {
        match self.open_until {
            None => BreakerState::Closed,
            Some(until) if now < until => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        }
    }

    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    /// While open or probing: when the next probe may go.
    pub fn open_until(&self) -> Option<Instant> {
        self.open_until
    }

    /// Lets a call through, or says how long until one may go.
    pub fn admit(&mut self, now: Instant) -> Result<Admitted, Duration> {
        match self.state(now) {
            BreakerState::Closed => Ok(Admitted::Call),
            BreakerState::Open => Err(self.open_until.map_or(Duration::ZERO, |until| until - now)),
            // The probe's outcome is due within its call's timeout: ask again shortly.
            BreakerState::HalfOpen if self.probing => Err(Duration::ZERO),
            BreakerState::HalfOpen => {
                self.probing = true;
                Ok(Admitted::Probe)
            }
        }
    }

    /// An admitted call given up before it came to anything (its request was dropped):
    /// it says nothing of the target, but a probe given up lets the next call probe.
    pub fn abandon(&mut self, call: Admitted) {
        if call == Admitted::Probe {
            self.probing = false;
        }
    }

    /// What an admitted call came to: `succeeded` when the target answered (a refusal
    /// included), not when it failed or did not answer in time.
    pub fn record(&mut self, call: Admitted, succeeded: bool, now: Instant) {
        if call == Admitted::Probe {
            self.probing = false;
        }
        if succeeded {
            // A call admitted before the breaker opened says nothing of the target now:
            // only the probe closes an open breaker.
            if call == Admitted::Probe || self.open_until.is_none() {
                self.consecutive_failures = 0;
                self.open_until = None;
            }
            return;
        }
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let opens =
            call == Admitted::Probe || self.consecutive_failures >= self.settings.failures_to_open;
        if opens {
            self.open_until = Some(now + self.settings.open_for);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN_FOR: Duration = Duration::from_secs(10);

    fn breaker() -> Breaker {
        Breaker::new(BreakerSettings {
            failures_to_open: 5,
            open_for: OPEN_FOR,
        })
    }

    fn fail(breaker: &mut Breaker, times: u32, now: Instant) {
        for _ in 0..times {
            let call = breaker.admit(now).expect("admitted");
            breaker.record(call, false, now);
        }
    }

    #[test]
    fn five_failures_in_a_row_open_it_and_calls_are_refused_until_the_open_period_ends() {
        let (mut breaker, now) = (breaker(), Instant::now());
        fail(&mut breaker, 4, now);
        assert_eq!(breaker.state(now), BreakerState::Closed);
        fail(&mut breaker, 1, now);
        assert_eq!(breaker.state(now), BreakerState::Open);
        let later = now + Duration::from_secs(4);
        assert_eq!(breaker.admit(later), Err(Duration::from_secs(6)));
    }

    #[test]
    fn a_success_between_failures_starts_the_count_again() {
        let (mut breaker, now) = (breaker(), Instant::now());
        fail(&mut breaker, 4, now);
        let call = breaker.admit(now).unwrap();
        breaker.record(call, true, now);
        fail(&mut breaker, 4, now);
        assert_eq!(breaker.state(now), BreakerState::Closed);
        assert_eq!(breaker.consecutive_failures(), 4);
    }

    #[test]
    fn after_the_open_period_one_probe_goes_and_its_success_closes_it() {
        let (mut breaker, now) = (breaker(), Instant::now());
        fail(&mut breaker, 5, now);
        let later = now + OPEN_FOR;
        assert_eq!(breaker.state(later), BreakerState::HalfOpen);
        let probe = breaker.admit(later).expect("the probe");
        assert_eq!(probe, Admitted::Probe);
        assert!(breaker.admit(later).is_err(), "one probe at a time");
        breaker.record(probe, true, later);
        assert_eq!(breaker.state(later), BreakerState::Closed);
        assert_eq!(breaker.admit(later), Ok(Admitted::Call));
    }

    #[test]
    fn a_late_success_of_a_call_from_before_the_opening_does_not_close_it() {
        let (mut breaker, now) = (breaker(), Instant::now());
        let early = breaker.admit(now).unwrap();
        fail(&mut breaker, 5, now);
        breaker.record(early, true, now);
        assert_eq!(breaker.state(now), BreakerState::Open);
    }

    #[test]
    fn a_probe_given_up_lets_the_next_call_probe() {
        let (mut breaker, now) = (breaker(), Instant::now());
        fail(&mut breaker, 5, now);
        let later = now + OPEN_FOR;
        let probe = breaker.admit(later).unwrap();
        breaker.abandon(probe);
        assert_eq!(breaker.admit(later), Ok(Admitted::Probe));
    }

    #[test]
    fn a_failed_probe_opens_it_for_another_period() {
        let (mut breaker, now) = (breaker(), Instant::now());
        fail(&mut breaker, 5, now);
        let later = now + OPEN_FOR;
        let probe = breaker.admit(later).unwrap();
        breaker.record(probe, false, later);
        assert_eq!(breaker.state(later), BreakerState::Open);
        assert_eq!(breaker.open_until(), Some(later + OPEN_FOR));
    }
}
