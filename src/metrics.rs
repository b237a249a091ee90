//! `GET /metrics`: the process's figures in Prometheus' text format (OpenMetrics) —
//! request latency by route and status, commands by name and outcome (the policies'
//! among them), events appended, where each view and policy stands (checkpoint, head, lag in events and
//! seconds), and on PostgreSQL the age of the oldest open transaction, which holds
//! every subscriber's read watermark back (ADR 3), the group commit's batches
//! (ADR 9), each outbound target's calls, latency and breaker (ADR 11), and how far a
//! read API's standby is behind the primary (ADR 15).
//!
//! Each process owns its registry (no global state); the subscription gauges are read
//! from the database at most once a second, by one scrape at a time, through a small
//! pool of their own whose statements time out: scrapes never take the commands'
//! connections.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use command_api::dispatch::CommandLabels;
use command_api::outbound::Outbound;
use command_api::store::BatchCounts;
use projections::{ProjectionStatus, ProjectionStore};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

use crate::standby::Standby;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SubscriptionLabels {
    name: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PolicyLabels {
    policy: String,
}

type Seconds = Gauge<f64, AtomicU64>;

/// What the command service counts.
pub struct CommandCounters {
    pub by_outcome: Family<CommandLabels, Counter>,
    pub events_appended: Counter,
    /// The group commit's batches, where the store batches commits.
    pub batches: Option<BatchCounts>,
    /// The calls to services outside strata, by target.
    pub outbound: Outbound,
}

/// The metrics of one process.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Histogram>,
    checkpoint: Family<SubscriptionLabels, Gauge>,
    head: Family<SubscriptionLabels, Gauge>,
    lag_events: Family<SubscriptionLabels, Gauge>,
    lag_seconds: Family<SubscriptionLabels, Seconds>,
    dead_letters: Family<PolicyLabels, Gauge>,
    /// 1 while the subscription gauges could not be read at the last scrape: they show
    /// older values.
    stale: Gauge,
    /// PostgreSQL only: SQLite has no transaction that holds readers back.
    oldest_transaction: Option<Seconds>,
    /// Whose breakers' gauges are brought up to date at each scrape.
    outbound: Outbound,
    /// The standby reads come from, and how far its replay is behind the primary
    /// (seconds, bytes).
    standby: Option<(Arc<Standby>, Seconds, Gauge)>,
    store: ProjectionStore,
    /// When the subscription gauges were last read from the database: a scrape reads
    /// them at most once per [`REFRESH_EVERY`], and one scrape at a time; the others
    /// serve what was read last.
    refreshed: tokio::sync::Mutex<Option<Instant>>,
}

/// How old the subscription gauges may be when scraped.
const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl Metrics {
    /// Metrics over `store`, with the command service's own counters.
    /// With `standby`, its replay lag too.
    pub fn new(
        store: ProjectionStore,
        commands: CommandCounters,
        standby: Option<Arc<Standby>>,
    ) -> Arc<Self> {
        let requests = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let metrics = Self {
            registry: Registry::with_prefix("strata"),
            requests,
            checkpoint: Family::default(),
            head: Family::default(),
            lag_events: Family::default(),
            lag_seconds: Family::default(),
            dead_letters: Family::default(),
            stale: Gauge::default(),
            oldest_transaction: matches!(store, ProjectionStore::Postgres(_))
                .then(Seconds::default),
            outbound: commands.outbound.clone(),
            standby: standby.map(|standby| (standby, Seconds::default(), Gauge::default())),
            store,
            refreshed: tokio::sync::Mutex::new(None),
        };
        Arc::new(metrics.registered(commands))
    }

    fn registered(mut self, commands: CommandCounters) -> Self {
        let registry = &mut self.registry;
        registry.register(
            "commands",
            "Commands by name and outcome (accepted, rejected, conflict, duplicate, unavailable, failed)",
            commands.by_outcome,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response, by method, route and status",
            self.requests.clone(),
        );
        registry.register(
            "events_appended",
            "Events this process appended",
            commands.events_appended,
        );
        if let Some(batches) = commands.batches {
            registry.register(
                "commit_batches",
                "Statements the group commit wrote (ADR 9)",
                batches.batches,
            );
            registry.register(
                "commits_batched",
                "Commits those statements carried",
                batches.commits,
            );
            registry.register(
                "commits_queued",
                "Commits waiting for the group commit's writer",
                batches.queued,
            );
            registry.register(
                "commit_writers_stalled",
                "1 while commits wait and the database has decided none for longer than a \
                 statement may run (the process is not ready meanwhile)",
                batches.stalled,
            );
        }
        commands.outbound.metrics().register(registry);
        registry.register(
            "subscription_checkpoint",
            "Global position of the last event each view or policy applied",
            self.checkpoint.clone(),
        );
        registry.register(
            "subscription_head",
            "Global position of the last event in the log",
            self.head.clone(),
        );
        registry.register(
            "subscription_lag_events",
            "Events in the log each view or policy has not applied yet (positions between \
             its checkpoint and the head)",
            self.lag_events.clone(),
        );
        registry.register(
            "subscription_lag_seconds",
            "Age of the oldest event each view or policy has not applied yet",
            self.lag_seconds.clone(),
        );
        registry.register(
            "dead_letters",
            "What each policy could not do and skipped (GET /admin/deadLetters)",
            self.dead_letters.clone(),
        );
        registry.register(
            "subscription_metrics_stale",
            "1 when the subscription gauges (or the standby's replay lag) could not be read \
             from the database at the last refresh and show older values",
            self.stale.clone(),
        );
        if let Some(gauge) = &self.oldest_transaction {
            registry.register(
                "oldest_transaction_seconds",
                "Age of the oldest open PostgreSQL transaction, which holds the read watermark back",
                gauge.clone(),
            );
        }
        if let Some((_, seconds, bytes)) = &self.standby {
            registry.register(
                "standby_replay_lag_seconds",
                "Age of the last transaction the read API's standby replayed, by the standby's \
                 clock, while it has WAL left to replay (0 when it has replayed all the primary \
                 wrote)",
                seconds.clone(),
            );
            registry.register(
                "standby_replay_lag_bytes",
                "WAL the primary has written that the read API's standby has not replayed",
                bytes.clone(),
            );
        }
        self
    }

    /// Times every route of `router` and serves `/metrics` beside them.
    pub fn serve(self: &Arc<Self>, router: Router) -> Router {
        router
            .route_layer(middleware::from_fn_with_state(self.clone(), record))
            .route("/metrics", get(scrape).with_state(self.clone()))
    }

    async fn refresh(&self) {
        let read = async {
            let statuses = self.store.statuses(crate::admin::HELD_BACK_AFTER).await?;
            let dead_letters = policies::dead_letters::counts(&self.store).await?;
            Ok::<_, sqlx::Error>((statuses, dead_letters))
        };
        // Side by side: a standby that does not answer must not hold the rest back.
        let (read, standby_read) = tokio::join!(read, self.refresh_standby());
        let (statuses, dead_letters) = match read {
            Ok(read) => read,
            Err(error) => {
                tracing::warn!(%error, "subscription metrics not refreshed: they show older values");
                self.stale.set(1);
                return;
            }
        };
        self.stale.set(i64::from(!standby_read));
        statuses.items.iter().for_each(|status| self.set(status));
        // Every policy, so that one whose dead letters were all sent again shows 0.
        let policies = statuses
            .items
            .iter()
            .filter(|status| status.kind == "policy");
        for policy in policies {
            let count = dead_letters
                .iter()
                .find(|(name, _)| *name == policy.name)
                .map_or(0, |(_, count)| *count);
            let labels = PolicyLabels {
                policy: policy.name.clone(),
            };
            self.dead_letters.get_or_create(&labels).set(count);
        }
        if let Some(gauge) = &self.oldest_transaction {
            let age_ms = statuses.oldest_transaction.map_or(0, |open| open.age_ms);
            gauge.set(age_ms as f64 / 1000.0);
        }
    }

    /// Reads the standby's replay lag, if reads come from one; false when it could not.
    async fn refresh_standby(&self) -> bool {
        let Some((standby, seconds, bytes)) = &self.standby else {
            return true;
        };
        match standby.replay_lag().await {
            Ok(lag) => {
                seconds.set(lag.seconds);
                bytes.set(lag.bytes);
                true
            }
            Err(error) => {
                tracing::warn!(%error, "the standby's replay lag not refreshed: it shows older values");
                false
            }
        }
    }

    fn set(&self, status: &ProjectionStatus) {
        let labels = SubscriptionLabels {
            name: status.name.clone(),
            kind: status.kind.clone(),
        };
        self.checkpoint
            .get_or_create(&labels)
            .set(status.checkpoint);
        self.head.get_or_create(&labels).set(status.head);
        self.lag_events
            .get_or_create(&labels)
            .set(status.lag_events);
        let lag = status.lag_ms as f64 / 1000.0;
        self.lag_seconds.get_or_create(&labels).set(lag);
    }
}

async fn record(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string())
        .unwrap_or_default();
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = RequestLabels {
        method,
        route,
        status: response.status().as_u16(),
    };
    let seconds = started.elapsed().as_secs_f64();
    metrics.requests.get_or_create(&labels).observe(seconds);
    response
}

async fn scrape(State(metrics): State<Arc<Metrics>>) -> Response {
    metrics.outbound.statuses();
    if let Ok(mut refreshed) = metrics.refreshed.try_lock() {
        if refreshed.is_none_or(|at| at.elapsed() >= REFRESH_EVERY) {
            metrics.refresh().await;
            *refreshed = Some(Instant::now());
        }
    }
    let mut text = String::new();
    match encode(&mut text, &metrics.registry) {
        Ok(()) => ([(CONTENT_TYPE, OPENMETRICS)], text).into_response(),
        Err(error) => {
            tracing::error!(%error, "metrics not encoded");
            axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
