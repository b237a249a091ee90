//! The notification sink: `notificationSink` follows the log and hands every recorded
//! `NotificationSent` to the log (the default) or to an HTTP webhook
//! (`STRATA_NOTIFY_WEBHOOK`). The log is the outbox: a notification is delivered after
//! its event is stored, at least once, and the checkpoint moves only past delivered
//! ones; a rebuild of the views never moves it, so a replay never delivers again.
//!
//! The webhook gets `POST` JSON with the notification id as `Idempotency-Key`. Each
//! delivery is tried a few times with backoff; after several failures in a row the
//! circuit opens and deliveries fail at once, without a request, until a cool-down
//! (doubling up to a bound) lets one probe through. Bookings never wait on any of this:
//! the sink is a subscriber of its own.
//!
//! Each user's notifications go out in log order; different users' side by side. When a
//! delivery fails, the sink retries from it, so notifications after it that did go out
//! may go out again: the receiver tells them apart by their `Idempotency-Key`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use std::sync::Arc;

use chrono::{DateTime, Utc};
use command_api::store::EventLog;
use domain::notifications::notification::NotificationEvent;
use futures::future::BoxFuture;
use projections::table::ContextEvent;
use projections::{LogEvent, ProjectionStore};
use serde::Serialize;
use serde_json::Value;

use crate::dead_letters;
use crate::issue::{PolicyError, Reaction};
use crate::policy::{Issue, Policy};

/// A notification as the webhook receives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutgoingNotification {
    pub notification_id: String,
    pub user_id: String,
    pub contents: String,
    pub cause: String,
    pub send_dtm: DateTime<Utc>,
    pub correlation_id: Option<String>,
}

/// Why a notification was not delivered; it is retried.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("the webhook keeps failing; circuit open for {0:?} more")]
    Open(Duration),
    #[error("the webhook failed: {0}")]
    Failed(String),
}

/// Why a dead letter was not sent again.
#[derive(Debug, thiserror::Error)]
pub enum ResendError {
    #[error("no dead letter has this key")]
    NotFound,
    #[error("only a notification the webhook refused can be sent again, not a {0} dead letter")]
    NotResendable(String),
    #[error("the webhook refused the notification again with {0}")]
    Refused(u16),
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// The dead letter's event is missing or unreadable: a bug or corrupt data.
    #[error("the dead letter's notification cannot be read: {0}")]
    Corrupt(String),
    #[error("the store failed: {0}")]
    Store(#[from] sqlx::Error),
}

/// The notification a dead letter refers to: its event's stream, payload and metadata.
const NOTIFICATION_AT: &str =
    "SELECT aggregate_id, payload, metadata FROM events WHERE global_position = $1";

/// How a webhook is called.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub url: String,
    /// How long one request may take.
    pub timeout: Duration,
    /// Requests per delivery before it counts as failed.
    pub attempts: u32,
    /// Failed requests in a row that open the circuit.
    pub open_after: u32,
    /// The first cool-down of an open circuit; it doubles with each failed probe.
    pub cooldown: Duration,
    pub max_cooldown: Duration,
}

impl WebhookSettings {
    /// A 5 s timeout, 3 attempts, the circuit opening after 5 failures for 1 s up to 30 s.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            timeout: Duration::from_secs(5),
            attempts: 3,
            open_after: 5,
            cooldown: Duration::from_secs(1),
            max_cooldown: Duration::from_secs(30),
        }
    }
}

/// What the receiver made of a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// The receiver answered with a client error (not 408 or 429): sending it again
    /// would not help.
    Refused(u16),
}

/// Where notifications go.
pub struct NotificationSink {
    webhook: Option<Webhook>,
}

struct Webhook {
    client: reqwest::Client,
    settings: WebhookSettings,
    breaker: Mutex<Breaker>,
}

impl NotificationSink {
    /// Notifications go to the log (`strata::notifications`, level info).
    pub fn log() -> Self {
        Self { webhook: None }
    }

    pub fn webhook(settings: WebhookSettings) -> Self {
        // A redirect is answered, not followed: a 3xx would re-POST the notification to
        // any host, with the webhook's URL (and any token in it) as the Referer.
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .build()
            .expect("an HTTP client with rustls and no proxies builds");
        let breaker = Mutex::new(Breaker::closed(settings.cooldown));
        Self {
            webhook: Some(Webhook {
                client,
                settings,
                breaker,
            }),
        }
    }

    /// Requests sent to the webhook so far (0 for the log): a dead webhook behind an
    /// open circuit adds none.
    pub fn requests_sent(&self) -> u64 {
        self.webhook
            .as_ref()
            .map_or(0, |webhook| webhook.lock().requests)
    }

    /// Sends the notification of the dead letter `key` again, and forgets the dead
    /// letter once the receiver took it; refused again, it stays, with the new refusal.
    pub async fn resend(&self, store: &ProjectionStore, key: &str) -> Result<(), ResendError> {
        let dead = dead_letters::find(store, key)
            .await?
            .ok_or(ResendError::NotFound)?;
        if !dead.resendable {
            return Err(ResendError::NotResendable(dead.code));
        }
        let (id, payload, metadata): (String, Value, Value) = match store {
            ProjectionStore::Postgres(pool) => {
                let query = sqlx::query_as(NOTIFICATION_AT).bind(dead.position);
                query.fetch_optional(pool).await?
            }
            ProjectionStore::Sqlite(pool) => {
                let query = sqlx::query_as(NOTIFICATION_AT).bind(dead.position);
                query.fetch_optional(pool).await?
            }
        }
        .ok_or_else(|| ResendError::Corrupt(format!("no event at {}", dead.position)))?;
        let event = serde_json::from_value(payload)
            .map_err(|error| ResendError::Corrupt(error.to_string()))?;
        let correlation_id = metadata.get("correlationId").and_then(Value::as_str);
        let notification = outgoing(id, event, correlation_id);
        // Tried once: an operator waits for the answer.
        let delivered = match &self.webhook {
            None => self.deliver(&notification).await?,
            Some(webhook) => webhook.deliver(&notification, 1).await?,
        };
        match delivered {
            Delivery::Delivered => Ok(dead_letters::forget(store, key).await?),
            Delivery::Refused(status) => {
                dead_letters::refused_again(store, key, &refusal(status)).await?;
                Err(ResendError::Refused(status))
            }
        }
    }

    pub async fn deliver(
        &self,
        notification: &OutgoingNotification,
    ) -> Result<Delivery, SinkError> {
        match &self.webhook {
            None => {
                tracing::info!(
                    target: "strata::notifications",
                    notification_id = %notification.notification_id,
                    user_id = %notification.user_id,
                    cause = %notification.cause,
                    contents = %notification.contents,
                    "notification"
                );
                Ok(Delivery::Delivered)
            }
            Some(webhook) => {
                webhook
                    .deliver(notification, webhook.settings.attempts)
                    .await
            }
        }
    }
}

impl Webhook {
    fn lock(&self) -> std::sync::MutexGuard<'_, Breaker> {
        self.breaker
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Up to `attempts` requests, with a pause that doubles between them.
    async fn deliver(
        &self,
        notification: &OutgoingNotification,
        attempts: u32,
    ) -> Result<Delivery, SinkError> {
        let mut pause = Duration::from_millis(100);
        let mut last_error = String::new();
        for attempt in 1..=attempts {
            self.lock().admit(Instant::now()).map_err(SinkError::Open)?;
            match self.post(notification).await {
                Ok(delivery) => {
                    self.lock().succeeded(self.settings.cooldown);
                    return Ok(delivery);
                }
                Err(error) => {
                    last_error = error;
                    self.lock().failed(Instant::now(), &self.settings);
                }
            }
            if attempt < attempts {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
        }
        Err(SinkError::Failed(last_error))
    }

    /// One request; `Err` for what a retry may cure (no answer, 408, 429, 5xx).
    async fn post(&self, notification: &OutgoingNotification) -> Result<Delivery, String> {
        self.lock().requests += 1;
        let response = self
            .client
            .post(&self.settings.url)
            .header("Idempotency-Key", &notification.notification_id)
            .json(notification)
            .send()
            .await
            // The URL may carry a token: it stays out of errors, logs and the admin page.
            .map_err(|error| cause_of(&error.without_url()))?;
        let status = response.status();
        if status.is_success() {
            Ok(Delivery::Delivered)
        } else if status.is_server_error() || matches!(status.as_u16(), 408 | 429) {
            Err(format!("the webhook answered {status}"))
        } else {
            Ok(Delivery::Refused(status.as_u16()))
        }
    }
}

/// The circuit: closed while requests succeed; open for a cool-down after
/// `open_after` failures in a row; then one request probes it.
#[derive(Debug)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
    cooldown: Duration,
    requests: u64,
}

impl Breaker {
    fn closed(cooldown: Duration) -> Self {
        Self {
            failures: 0,
            open_until: None,
            cooldown,
            requests: 0,
        }
    }

    /// Ok when a request may go out now; else how long the circuit stays open.
    fn admit(&self, now: Instant) -> Result<(), Duration> {
        match self.open_until {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    fn succeeded(&mut self, cooldown: Duration) {
        self.failures = 0;
        self.open_until = None;
        self.cooldown = cooldown;
    }

    fn failed(&mut self, now: Instant, settings: &WebhookSettings) {
        self.failures += 1;
        if self.failures >= settings.open_after {
            self.open_until = Some(now + self.cooldown);
            self.cooldown = (self.cooldown * 2).min(settings.max_cooldown);
        }
    }
}

/// The `notificationSink` policy: it issues no command, it delivers.
pub(super) struct SinkPolicy {
    pub(super) sink: Arc<NotificationSink>,
}

impl<L: EventLog> Policy<L> for SinkPolicy {
    fn name(&self) -> &'static str {
        "notificationSink"
    }

    fn reads(&self) -> &[&'static str] {
        NotificationEvent::AGGREGATE_TYPES
    }

    /// Whom a notification is for: each user's notifications are delivered in log order.
    fn key_of(&self, event: &LogEvent) -> Result<String, serde_json::Error> {
        Ok(match NotificationEvent::decode(event)? {
            Some(NotificationEvent::NotificationSent { user_id, .. }) => user_id,
            None => event.aggregate_id.clone(),
        })
    }

    fn react<'a>(
        &'a self,
        reaction: &'a Reaction<'a, L>,
    ) -> BoxFuture<'a, Result<Vec<Issue<L>>, PolicyError>> {
        Box::pin(async move {
            if let Some(event) = reaction.decode::<NotificationEvent>()? {
                deliver(reaction, event, &self.sink).await?;
            }
            Ok(Vec::new())
        })
    }
}

/// Delivers a recorded notification; a refusal is recorded and skipped.
async fn deliver<L: EventLog>(
    reaction: &Reaction<'_, L>,
    event: NotificationEvent,
    sink: &NotificationSink,
) -> Result<(), PolicyError> {
    let notification = outgoing(
        reaction.event.aggregate_id.clone(),
        event,
        reaction.event.correlation_id(),
    );
    match sink.deliver(&notification).await? {
        Delivery::Delivered => Ok(()),
        Delivery::Refused(status) => {
            let key = format!(
                "policy {} deliver {}",
                reaction.policy, notification.notification_id
            );
            tracing::warn!(notification_id = %notification.notification_id, status, "webhook refused a notification; kept as a dead letter");
            reaction
                .record_rejection(&key, dead_letters::WEBHOOK_REFUSED, &refusal(status))
                .await
        }
    }
}

/// The notification `id` as the webhook receives it.
fn outgoing(
    id: String,
    event: NotificationEvent,
    correlation_id: Option<&str>,
) -> OutgoingNotification {
    let NotificationEvent::NotificationSent {
        user_id,
        contents,
        cause,
        send_dtm,
    } = event;
    OutgoingNotification {
        notification_id: id,
        user_id,
        contents,
        cause,
        send_dtm,
        correlation_id: correlation_id.map(str::to_string),
    }
}

fn refusal(status: u16) -> String {
    format!("the webhook refused the notification with {status}")
}

/// What went wrong, down to its first cause (`connection refused`, a TLS failure): the
/// top of reqwest's errors says only "error sending request".
fn cause_of(error: &dyn std::error::Error) -> String {
    let mut said = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        said = format!("{said}: {cause}");
        source = cause.source();
    }
    said
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_circuit_opens_after_failures_in_a_row_and_its_cooldown_doubles() {
        let mut settings = WebhookSettings::new("http://127.0.0.1:9");
        settings.open_after = 2;
        let mut breaker = Breaker::closed(settings.cooldown);
        let start = Instant::now();
        breaker.failed(start, &settings);
        assert!(breaker.admit(start).is_ok());
        breaker.failed(start, &settings);
        assert_eq!(breaker.admit(start), Err(Duration::from_secs(1)));
        let probe = start + Duration::from_secs(1);
        assert!(breaker.admit(probe).is_ok());
        breaker.failed(probe, &settings);
        assert_eq!(breaker.admit(probe), Err(Duration::from_secs(2)));
        breaker.succeeded(settings.cooldown);
        assert!(breaker.admit(probe).is_ok());
    }
}
