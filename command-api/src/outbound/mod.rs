//! Outbound calls: synchronous HTTP calls to services outside strata, each target
//! behind a timeout per call, a bulkhead (calls in flight) and a circuit breaker. A
//! call the bulkhead or an open breaker refuses is answered at once, without touching
//! the network, with how long until the next try may go. Names no context: a context
//! asks for its target by name ([`Outbound::target`]), the binary configures them.
//!
//! The pieces are the field's own: reqwest (its timeout per request), a tokio
//! semaphore for the bulkhead (a permit is tried, never waited for: a full bulkhead
//! refuses at once, where tower's concurrency limit would queue), and the breaker of
//! [`breaker`] (the crates that offer one differ in what half-open lets through; this
//! one lets exactly one probe through, which is what `Retry-After` promises).

pub mod breaker;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Semaphore;
use utoipa::ToSchema;

use breaker::{Admitted, Breaker};
pub use breaker::{BreakerSettings, BreakerState};

/// How long a client is asked to wait after a call that failed with the breaker still
/// closed.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// How calls to one target are made and guarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSettings {
    /// The target's base URL (`http://gifts:8090`).
    pub url: String,
    /// How long one call may take.
    pub timeout: Duration,
    /// Calls in flight at once; one more is refused.
    pub max_in_flight: usize,
    pub breaker: BreakerSettings,
}

/// What the target answered: anything but a failure (a 2xx, or a 4xx refusal).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    /// The JSON body, `Null` when there is none or it is not JSON.
    pub body: Value,
}

/// Why a call gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Refused without a call: the bulkhead is full or the breaker is open.
    #[error("{target}: {reason}")]
    Refused {
        target: &'static str,
        reason: &'static str,
        retry_after: Duration,
    },
    /// The call was made and failed: no answer in time, no connection, a 5xx.
    #[error("{target}: {reason}")]
    Failed {
        target: &'static str,
        reason: String,
        retry_after: Duration,
    },
}

impl CallError {
    /// How long the client should wait before trying again.
    pub fn retry_after(&self) -> Duration {
        match self {
            Self::Refused { retry_after, .. } | Self::Failed { retry_after, .. } => *retry_after,
        }
    }
}

/// One target's breaker, as `GET /admin/outbound` shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetStatus {
    pub name: &'static str,
    /// `CLOSED`, `OPEN` or `HALF_OPEN`.
    pub state: &'static str,
    pub consecutive_failures: u32,
    /// While open: when the probe may go.
    pub open_until: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabels {
    target: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    target: &'static str,
    /// `answered`, `failed`, `bulkhead_full` or `breaker_open`.
    outcome: &'static str,
}

/// What the outbound calls of a process count; registered with its metrics.
#[derive(Clone)]
pub struct OutboundMetrics {
    calls: Family<CallLabels, Counter>,
    latency: Family<TargetLabels, Histogram>,
    /// 0 closed, 1 open, 2 half-open.
    state: Family<TargetLabels, Gauge>,
}

impl Default for OutboundMetrics {
    fn default() -> Self {
        Self {
            calls: Family::default(),
            latency: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0005, 2.0, 16))
            }),
            state: Family::default(),
        }
    }
}

impl OutboundMetrics {
    /// Registers the families under `registry`.
    pub fn register(&self, registry: &mut prometheus_client::registry::Registry) {
        registry.register(
            "outbound_calls",
            "Outbound calls by target and outcome (answered, failed, bulkhead_full, breaker_open)",
            self.calls.clone(),
        );
        registry.register(
            "outbound_call_duration_seconds",
            "Time an outbound call took, by target (calls made only)",
            self.latency.clone(),
        );
        registry.register(
            "outbound_breaker_state",
            "Each target's circuit breaker: 0 closed, 1 open, 2 half-open",
            self.state.clone(),
        );
    }
}

/// One service strata calls.
pub struct Target {
    name: &'static str,
    settings: TargetSettings,
    client: reqwest::Client,
    bulkhead: Semaphore,
    breaker: Mutex<Breaker>,
    metrics: OutboundMetrics,
}

/// An admitted call until its outcome is recorded: dropped before (its request given up
/// mid-call, a client gone), it is abandoned, so a half-open probe never stays out.
struct Unheard<'t> {
    target: &'t Target,
    call: Option<Admitted>,
}

impl Unheard<'_> {
    /// The call, to record its outcome.
    fn heard(mut self) -> Option<Admitted> {
        self.call.take()
    }
}

impl Drop for Unheard<'_> {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            self.target.breaker().abandon(call);
        }
    }
}

/// Every target of a process, by name.
#[derive(Clone, Default)]
pub struct Outbound {
    targets: Vec<Arc<Target>>,
    metrics: OutboundMetrics,
}

impl Outbound {
    /// Adds the target `name`.
    pub fn with(mut self, name: &'static str, settings: TargetSettings) -> Self {
        // A redirect is answered, not followed, and no proxy of the environment is used:
        // a call goes where it was configured to.
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("an HTTP client with rustls and no proxies builds");
        self.metrics
            .state
            .get_or_create(&TargetLabels { target: name })
            .set(0);
        self.targets.push(Arc::new(Target {
            name,
            bulkhead: Semaphore::new(settings.max_in_flight),
            breaker: Mutex::new(Breaker::new(settings.breaker)),
            settings,
            client,
            metrics: self.metrics.clone(),
        }));
        self
    }

    /// The target `name`, if this process calls it.
    pub fn target(&self, name: &str) -> Option<&Arc<Target>> {
        self.targets.iter().find(|target| target.name == name)
    }

    /// Every target's breaker; its gauge in `/metrics` is brought up to date too (an
    /// open breaker turns half-open with time, not with a call).
    pub fn statuses(&self) -> Vec<TargetStatus> {
        self.targets.iter().map(|target| target.status()).collect()
    }

    pub fn metrics(&self) -> &OutboundMetrics {
        &self.metrics
    }
}

impl Target {
    /// POSTs `body` as JSON to `path` with `Idempotency-Key: idempotency_key`, within the
    /// bulkhead, the breaker and the timeout. `understood` tells an answer (a success or
    /// a refusal the caller can act on) from a failure: a 5xx, a redirect, a body that is
    /// not what the caller expects all count against the breaker.
    pub async fn post_json(
        &self,
        path: &str,
        body: &Value,
        idempotency_key: &str,
        understood: impl Fn(&Answer) -> bool,
    ) -> Result<Answer, CallError> {
        let Ok(_in_flight) = self.bulkhead.try_acquire() else {
            return Err(self.refused(
                "bulkhead_full",
                "too many calls in flight",
                RETRY_AFTER_FAILURE,
            ));
        };
        let admitted = match self.breaker().admit(Instant::now()) {
            Ok(admitted) => Unheard {
                target: self,
                call: Some(admitted),
            },
            Err(wait) => return Err(self.refused("breaker_open", "circuit breaker open", wait)),
        };
        let started = Instant::now();
        let url = format!("{}{path}", self.settings.url.trim_end_matches('/'));
        let sent = self
            .client
            .post(url)
            .header("Idempotency-Key", idempotency_key)
            .json(body)
            .send()
            .await;
        let answer = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.json().await {
                    Ok(body) => Ok(Answer { status, body }),
                    Err(error) if error.is_timeout() => Err(self.too_slow()),
                    // A refusal need not explain itself in JSON.
                    Err(_) if (400..500).contains(&status) => Ok(Answer {
                        status,
                        body: Value::Null,
                    }),
                    Err(_) => Err(format!("answered {status} without a JSON body")),
                }
            }
            Err(error) if error.is_timeout() => Err(self.too_slow()),
            // Without the URL: it is the operator's, not the client's, to know.
            Err(error) => Err(format!("unreachable: {}", error.without_url())),
        }
        .and_then(|answer| match understood(&answer) {
            true => Ok(answer),
            false => Err(format!(
                "answered {} with what was not asked for",
                answer.status
            )),
        });
        let labels = TargetLabels { target: self.name };
        self.metrics
            .latency
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
        let now = Instant::now();
        let mut breaker = self.breaker();
        if let Some(call) = admitted.heard() {
            breaker.record(call, answer.is_ok(), now);
        }
        self.show_state(&breaker, now);
        let outcome = if answer.is_ok() { "answered" } else { "failed" };
        self.count(outcome);
        answer.map_err(|reason| {
            let retry_after = match breaker.open_until() {
                Some(until) => until.saturating_duration_since(now),
                None => RETRY_AFTER_FAILURE,
            };
            CallError::Failed {
                target: self.name,
                reason,
                retry_after,
            }
        })
    }

    fn too_slow(&self) -> String {
        format!("no answer within {} ms", self.settings.timeout.as_millis())
    }

    /// The breaker, as `/admin/outbound` shows it.
    pub fn status(&self) -> TargetStatus {
        let (now, breaker) = (Instant::now(), self.breaker());
        self.show_state(&breaker, now);
        let state = breaker.state(now);
        let open_until = match state {
            BreakerState::Open => breaker
                .open_until()
                .map(|until| Utc::now() + until.saturating_duration_since(now)),
            BreakerState::Closed | BreakerState::HalfOpen => None,
        };
        TargetStatus {
            name: self.name,
            state: state.name(),
            consecutive_failures: breaker.consecutive_failures(),
            open_until,
        }
    }

    fn breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        self.breaker.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A call refused without being made, counted as `outcome`.
    fn refused(
        &self,
        outcome: &'static str,
        reason: &'static str,
        retry_after: Duration,
    ) -> CallError {
        self.count(outcome);
        CallError::Refused {
            target: self.name,
            reason,
            retry_after,
        }
    }

    fn count(&self, outcome: &'static str) {
        let labels = CallLabels {
            target: self.name,
            outcome,
        };
        self.metrics.calls.get_or_create(&labels).inc();
    }

    fn show_state(&self, breaker: &Breaker, now: Instant) {
        let value = match breaker.state(now) {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        };
        let labels = TargetLabels { target: self.name };
        self.metrics.state.get_or_create(&labels).set(value);
    }
}
