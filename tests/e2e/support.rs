//! `TestApp`: a strata server on port 0 over its own database, and a client for it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use auth::{Role, Tokens};
use axum::Router;
use command_api::http::overload::Limits;
use command_api::outbound::Outbound;
use command_api::store::{CommitBounds, PostgresEventLog, SqliteEventLog};
use command_api::CommandContext;
use domain::booking::confirm::{Confirm, ConfirmCommand};
use domain::shop::delivery::{Delivery, DeliveryCommand};
use policies::{NotificationSink, Policies, PolicyError};
use projections::{ProjectionStore, Projector};
use read_api::Freshness;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;
use strata::settings::StoreSettings;
use strata::{serve, App};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

/// Runs a scenario once on PostgreSQL and once on SQLite, as `<name>::postgres` and
/// `<name>::sqlite`.
macro_rules! on_both_stores {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn scenario($app: $crate::support::TestApp) $body
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                scenario($crate::support::TestApp::spawn($crate::support::Store::Postgres).await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                scenario($crate::support::TestApp::spawn($crate::support::Store::Sqlite).await).await
            }
        }
    )*};
}
pub(crate) use on_both_stores;

pub enum Store {
    Postgres,
    Sqlite,
}

/// The app of a test, on the store the scenario runs on.
pub enum Backend {
    Postgres(App<PostgresEventLog>),
    Sqlite(App<SqliteEventLog>),
}

/// Runs `$body` with `$app` bound to the test's `App`, whichever its store.
macro_rules! with_app {
    ($backend:expr, $app:ident => $body:expr) => {
        match $backend {
            $crate::support::Backend::Postgres($app) => $body,
            $crate::support::Backend::Sqlite($app) => $body,
        }
    };
}
pub(crate) use with_app;

impl Backend {
    pub async fn projection_store(&self) -> anyhow::Result<ProjectionStore> {
        with_app!(self, app => app.projection_store().await)
    }

    /// Workers for the policies named, delivering notifications to `sink`.
    pub async fn policies(&self, names: &[&str], sink: Arc<NotificationSink>) -> PolicyWorkers {
        with_app!(self, app => {
            let all = app.policies(sink);
            let named = policies::registry::named(&all, names).expect("known policies");
            PolicyWorkers::from(app.policy_workers(named).await.expect("policy workers"))
        })
    }

    /// Workers for every policy, delivering notifications to `sink`.
    pub async fn all_policies(&self, sink: Arc<NotificationSink>) -> PolicyWorkers {
        with_app!(self, app => {
            let all = app.policies(sink);
            PolicyWorkers::from(app.policy_workers(all).await.expect("policy workers"))
        })
    }

    pub async fn projector(&self) -> Projector {
        with_app!(self, app => app.projector(app.views().to_vec()).await.expect("projector"))
    }

    async fn router(&self, freshness: Freshness, tokens: Arc<Tokens>, limits: Limits) -> Router {
        with_app!(self, app => {
            let views = app.view_store(4).await.expect("views");
            let router = app
                .api_router(views, freshness, tokens, streams())
                .await
                .expect("router");
            app.served(router, limits, None).await.expect("served")
        })
    }
}

/// Policy workers over the test's store.
pub enum PolicyWorkers {
    Postgres(Policies<PostgresEventLog>),
    Sqlite(Policies<SqliteEventLog>),
}

impl From<Policies<PostgresEventLog>> for PolicyWorkers {
    fn from(policies: Policies<PostgresEventLog>) -> Self {
        Self::Postgres(policies)
    }
}

impl From<Policies<SqliteEventLog>> for PolicyWorkers {
    fn from(policies: Policies<SqliteEventLog>) -> Self {
        Self::Sqlite(policies)
    }
}

impl PolicyWorkers {
    pub async fn catch_up_all(&self) -> Result<(), PolicyError> {
        match self {
            Self::Postgres(policies) => policies.catch_up_all().await,
            Self::Sqlite(policies) => policies.catch_up_all().await,
        }
    }

    pub async fn catch_up(&self, name: &str) -> Result<(), PolicyError> {
        match self {
            Self::Postgres(policies) => policies.catch_up(name).await,
            Self::Sqlite(policies) => policies.catch_up(name).await,
        }
    }

    pub async fn run(self, stop: watch::Receiver<bool>) {
        match self {
            Self::Postgres(policies) => policies.run(stop).await,
            Self::Sqlite(policies) => policies.run(stop).await,
        }
    }
}

const HOUR: Duration = Duration::from_secs(3600);

/// Whether `response` is a live stream (Server-Sent Events), whose body never ends.
pub fn is_event_stream(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get("content-type")
        .is_some_and(|kind| kind.as_bytes().starts_with(b"text/event-stream"))
}

/// Live streams within the default bound, which no shutdown ends (a test's server
/// stops with its runtime).
pub fn streams() -> read_api::Streams {
    read_api::Streams::new(read_api::live::DEFAULT_MAX_STREAMS, watch::channel(false).1)
}

/// Where test databases are created; override with `STRATA_TEST_DATABASE_URL`.
fn admin_url() -> String {
    std::env::var("STRATA_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

pub struct TestApp {
    pub address: String,
    /// Sends an admin's token with every request, so that scenarios about other
    /// things need not think of auth (the auth scenarios choose their own tokens).
    pub client: reqwest::Client,
    pub backend: Backend,
    /// Verifies the app's tokens; [`TestApp::token`] issues them.
    pub tokens: Arc<Tokens>,
    /// Every projector of the app announces its batches here; reads with
    /// `minPosition` wake on it, as in `strata serve`.
    progress: Arc<watch::Sender<i64>>,
    stop: Option<oneshot::Sender<()>>,
    /// Held for its `Drop`, which removes the database after the test.
    _database: TestDatabase,
}

/// A response read whole: status, headers, JSON body (Null when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn position(&self) -> i64 {
        self.body["position"]
            .as_i64()
            .expect("a position in the response")
    }

    pub fn id(&self, field: &str) -> Uuid {
        self.body[field]
            .as_str()
            .expect("an id")
            .parse()
            .expect("a UUID")
    }
}

impl TestApp {
    /// A server with the default limits, as `strata serve` runs.
    pub async fn spawn(store: Store) -> Self {
        let limits = strata::settings::LimitSettings::default().limits();
        Self::spawn_limited(store, limits).await
    }

    pub async fn spawn_limited(store: Store, limits: Limits) -> Self {
        Self::spawn_with(
            store,
            limits,
            Arc::new(NotificationSink::log()),
            Outbound::default(),
        )
        .await
    }

    /// A server whose `/admin/deadLetters/resend` sends notifications to `sink`.
    pub async fn spawn_delivering_to(store: Store, sink: Arc<NotificationSink>) -> Self {
        let limits = strata::settings::LimitSettings::default().limits();
        Self::spawn_with(store, limits, sink, Outbound::default()).await
    }

    /// A server whose commands call `outbound`'s targets.
    pub async fn spawn_calling(store: Store, outbound: Outbound) -> Self {
        let limits = strata::settings::LimitSettings::default().limits();
        Self::spawn_with(store, limits, Arc::new(NotificationSink::log()), outbound).await
    }

    async fn spawn_with(
        store: Store,
        limits: Limits,
        sink: Arc<NotificationSink>,
        outbound: Outbound,
    ) -> Self {
        let on_postgres = matches!(store, Store::Postgres);
        let database = TestDatabase::create(store).await;
        let settings = StoreSettings {
            database_url: database.url(),
            data_dir: database.data_dir(),
            db_pool_size: 16,
            db_acquire_timeout_ms: 5_000,
            // The default, or less where the request timeout needs it, as `strata` does.
            commit_lock_timeout_ms: (limits.request_timeout / CommitBounds::SHARE_OF_REQUEST)
                .min(CommitBounds::default().lock_timeout)
                .as_millis() as u64,
        };
        let backend = match on_postgres {
            true => Backend::Postgres(
                App::open(&settings)
                    .await
                    .expect("open")
                    .delivering_to(sink)
                    .calling(outbound),
            ),
            false => Backend::Sqlite(
                App::open(&settings)
                    .await
                    .expect("open")
                    .delivering_to(sink)
                    .calling(outbound),
            ),
        };
        with_app!(&backend, app => app.migrate().await.expect("migrate"));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = oneshot::channel::<()>();
        let progress = Arc::new(watch::Sender::new(0));
        let freshness = Freshness::new(Duration::from_secs(2)).woken_by(progress.subscribe());
        let tokens = Arc::new(Tokens::generated());
        let router = backend.router(freshness, tokens.clone(), limits).await;
        tokio::spawn(serve(listener, router, async {
            let _ = stopped.await;
        }));
        let admin = tokens.issue("admin", Role::Admin, HOUR);
        Self {
            address,
            client: with_token(reqwest::Client::builder(), &admin)
                .build()
                .expect("client"),
            backend,
            tokens,
            progress,
            stop: Some(stop),
            _database: database,
        }
    }

    /// A token of this app for `subject` in `role`, valid for an hour.
    pub fn token(&self, role: Role, subject: &str) -> String {
        self.tokens.issue(subject, role, HOUR)
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.post_with(path, body, &[]).await
    }

    pub async fn post_with(&self, path: &str, body: Value, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.client.post(format!("{}{path}", self.address));
        if !body.is_null() {
            request = request.json(&body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        read(request.send().await.expect("request sent")).await
    }

    /// A client of this app that sends `subject`'s token in `role`.
    pub fn as_user(&self, role: Role, subject: &str) -> UserClient {
        UserClient {
            address: self.address.clone(),
            client: with_token(reqwest::Client::builder(), &self.token(role, subject))
                .build()
                .expect("client"),
        }
    }

    /// `/metrics` as a scraper reads it (no token).
    pub async fn metrics(&self) -> String {
        let response = reqwest::get(format!("{}/metrics", self.address)).await;
        response
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.get_with(path, &[]).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.client.get(format!("{}{path}", self.address));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        read(request.send().await.expect("request sent")).await
    }

    pub async fn place_order(&self, customer: &str, qty: i64, price: i64) -> Reply {
        let body = serde_json::json!({
            "customerId": customer, "product": "keyboard", "qty": qty, "price": price, "payMethod": "CARD"
        });
        self.post("/orders", body).await
    }

    pub async fn create_booking(&self, room: i64, start: &str, end: &str) -> Reply {
        let body = serde_json::json!({
            "roomId": room, "useStartDtm": start, "useEndDtm": end, "bookingUserId": "user-1"
        });
        self.post("/bookings", body).await
    }

    /// Starts a delivery the way the payment policy will: through the command service.
    pub async fn start_delivery(&self, order_id: Uuid) -> Uuid {
        let delivery_id = Uuid::now_v7();
        let (command, context) = (DeliveryCommand::StartDelivery { order_id }, context());
        with_app!(&self.backend, app => {
            app.service()
                .execute_new::<Delivery>(delivery_id, command, context)
                .await
        })
        .expect("delivery started");
        delivery_id
    }

    /// Requests a confirm the way the booking policy will: through the command service.
    pub async fn request_confirm(&self, booking_id: Uuid) -> Uuid {
        let confirm_id = Uuid::now_v7();
        let user_id = "user-1".to_string();
        let command = ConfirmCommand::RequestConfirm {
            booking_id,
            user_id,
        };
        let context = context();
        with_app!(&self.backend, app => {
            app.service()
                .execute::<Confirm>(confirm_id, command, context)
                .await
        })
        .expect("confirm requested");
        confirm_id
    }

    /// Workers for every view over this app's store.
    pub async fn projector(&self) -> Projector {
        self.backend
            .projector()
            .await
            .reporting_to(self.progress.clone())
    }

    /// Workers for every policy over this app's store, notifications to the log.
    pub async fn policies(&self) -> PolicyWorkers {
        self.policies_delivering_to(Arc::new(NotificationSink::log()))
            .await
    }

    pub async fn policies_delivering_to(&self, sink: Arc<NotificationSink>) -> PolicyWorkers {
        self.backend.all_policies(sink).await
    }

    /// Runs the policies until their commands cause nothing more, then catches every
    /// view up: the state the background workers reach once the flows have run.
    pub async fn settle(&self) {
        self.settle_with(&self.policies().await).await;
    }

    /// [`TestApp::settle`] with these policy workers.
    pub async fn settle_with(&self, policies: &PolicyWorkers) {
        loop {
            let before = self.count_events().await;
            policies.catch_up_all().await.expect("policies caught up");
            if self.count_events().await == before {
                break;
            }
        }
        self.projector()
            .await
            .catch_up_all()
            .await
            .expect("views caught up");
    }

    /// The PostgreSQL URL of this app's database (None on SQLite).
    pub fn database_url(&self) -> Option<String> {
        self._database.url()
    }

    /// One stream's events as `/admin/streams` shows them (empty when unknown).
    pub async fn stream(&self, aggregate_type: &str, id: Uuid) -> Vec<Value> {
        let reply = self
            .get(&format!("/admin/streams/{aggregate_type}/{id}"))
            .await;
        match reply.status {
            StatusCode::NOT_FOUND => Vec::new(),
            _ => reply.body["items"].as_array().expect("items").clone(),
        }
    }

    /// Rebuilds every view from position 0 and asserts that each equals the view the
    /// workers built incrementally (the rebuild's own comparison, table by table).
    pub async fn assert_views_equal_a_rebuild(&self) {
        let store = self.backend.projection_store().await.expect("store");
        for view in with_app!(&self.backend, app => app.views().to_vec()) {
            let report = projections::rebuild(&store, view, 100)
                .await
                .expect("rebuilt");
            assert!(report.compared, "{report:?}");
            assert!(report.differences.is_empty(), "{report:?}");
        }
    }

    /// Appends one event straight to the event store, bypassing the command side (as
    /// another writer would); returns its global position.
    pub async fn append_raw_event(
        &self,
        aggregate_type: &str,
        aggregate_id: Uuid,
        event_type: &str,
        payload: Value,
        metadata: Value,
    ) -> i64 {
        const COLUMNS: &str = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)";
        let (payload, metadata) = (payload.to_string(), metadata.to_string());
        let id = aggregate_id.to_string();
        match &self.backend {
            Backend::Postgres(s) => {
                let sql = format!("{COLUMNS} VALUES ($1, $2, 1, $3, '1.0', CAST($4 AS jsonb), CAST($5 AS jsonb)) RETURNING global_position");
                sqlx::query_scalar(&sql)
                    .bind(aggregate_type)
                    .bind(id)
                    .bind(event_type)
                    .bind(payload)
                    .bind(metadata)
                    .fetch_one(s.service().log().pool())
                    .await
            }
            Backend::Sqlite(s) => {
                let sql = format!("{COLUMNS} VALUES ($1, $2, 1, $3, '1.0', $4, $5) RETURNING global_position");
                sqlx::query_scalar(&sql)
                    .bind(aggregate_type)
                    .bind(id)
                    .bind(event_type)
                    .bind(payload)
                    .bind(metadata)
                    .fetch_one(s.service().log().pool())
                    .await
            }
        }
        .unwrap_or_else(|error| panic!("{event_type} appended: {error}"))
    }

    /// Records a `NotificationSent` to `user` the way the notification policy will (its
    /// stored shape, with a correlation id); returns the notification's id.
    pub async fn send_notification(&self, user: &str, contents: &str, send_dtm: &str) -> Uuid {
        let notification_id = Uuid::now_v7();
        let payload = serde_json::json!({"NotificationSent": {
            "userId": user, "contents": contents, "cause": "BookingCreated", "sendDtm": send_dtm
        }});
        let metadata = serde_json::json!({"correlationId": format!("flow-{notification_id}")});
        self.append_raw_event(
            "Notification",
            notification_id,
            "NotificationSent",
            payload,
            metadata,
        )
        .await;
        notification_id
    }

    /// Asserts that each of these orders, acknowledged to a client, is in the event
    /// store once (read directly, to prove what was written).
    pub async fn assert_orders_stored(&self, order_ids: &[String]) {
        for order_id in order_ids {
            let sql =
                "SELECT count(*) FROM events WHERE aggregate_type = 'Order' AND aggregate_id = $1";
            let stored = self.scalar(sql, order_id).await;
            assert_eq!(stored, 1, "acknowledged order {order_id} is missing");
        }
    }

    /// Every row of the event store (read directly, to prove what was written).
    pub async fn count_events(&self) -> i64 {
        self.scalar("SELECT count(*) FROM events WHERE $1 = $1", "")
            .await
    }

    /// Runs one statement straight through SQL (`$1` is `argument`).
    pub async fn execute(&self, sql: &str, argument: &str) {
        match &self.backend {
            Backend::Postgres(s) => sqlx::query(sql)
                .bind(argument)
                .execute(s.service().log().pool())
                .await
                .map(drop),
            Backend::Sqlite(s) => sqlx::query(sql)
                .bind(argument)
                .execute(s.service().log().pool())
                .await
                .map(drop),
        }
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
    }

    /// One number from the database, straight through SQL (`$1` is `argument`).
    pub async fn scalar(&self, sql: &str, argument: &str) -> i64 {
        match &self.backend {
            Backend::Postgres(s) => {
                sqlx::query_scalar(sql)
                    .bind(argument)
                    .fetch_one(s.service().log().pool())
                    .await
            }
            Backend::Sqlite(s) => {
                sqlx::query_scalar(sql)
                    .bind(argument)
                    .fetch_one(s.service().log().pool())
                    .await
            }
        }
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
    }

    /// The event types stored for one aggregate, in order.
    pub async fn event_types(&self, aggregate_type: &str, id: Uuid) -> Vec<String> {
        self.stream(aggregate_type, id)
            .await
            .iter()
            .map(|e| e["eventType"].as_str().expect("eventType").to_string())
            .collect()
    }
}

/// A client builder that sends `token` as the bearer token of every request.
pub fn with_token(builder: reqwest::ClientBuilder, token: &str) -> reqwest::ClientBuilder {
    let mut headers = HeaderMap::new();
    let value = format!("Bearer {token}").parse().expect("a header value");
    headers.insert(reqwest::header::AUTHORIZATION, value);
    builder.default_headers(headers)
}

fn context() -> CommandContext {
    CommandContext {
        correlation_id: Uuid::now_v7().to_string(),
        causation_id: Uuid::now_v7().to_string(),
        actor: "test".to_string(),
        idempotency: None,
        deadline: None,
    }
}

/// A client of a [`TestApp`] in one caller's name.
pub struct UserClient {
    address: String,
    client: reqwest::Client,
}

impl UserClient {
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.post_with(path, body, &[]).await
    }

    pub async fn post_with(&self, path: &str, body: Value, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.client.post(format!("{}{path}", self.address));
        if !body.is_null() {
            request = request.json(&body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        read(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        let request = self.client.get(format!("{}{path}", self.address));
        read(request.send().await.expect("request sent")).await
    }
}

async fn read(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "a JSON body, got {status}: {}",
                String::from_utf8_lossy(&bytes)
            )
        })
    };
    Reply {
        status,
        headers,
        body,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A database that exists for one test: a uuid-named PostgreSQL database (dropped
/// afterwards) or a SQLite file in a fresh temporary directory (removed afterwards).
enum TestDatabase {
    Postgres { name: String },
    Sqlite { dir: PathBuf },
}

impl TestDatabase {
    async fn create(store: Store) -> Self {
        let name = format!("strata_test_{}", Uuid::now_v7().simple());
        match store {
            Store::Postgres => {
                let admin = sqlx::PgPool::connect(&admin_url())
                    .await
                    .expect("PostgreSQL");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&admin)
                    .await
                    .expect("create test database");
                admin.close().await;
                Self::Postgres { name }
            }
            Store::Sqlite => Self::Sqlite {
                dir: std::env::temp_dir().join(name),
            },
        }
    }

    fn url(&self) -> Option<String> {
        match self {
            Self::Postgres { name } => {
                let admin = admin_url();
                let base = admin
                    .rsplit_once('/')
                    .map(|(base, _)| base)
                    .unwrap_or(&admin);
                Some(format!("{base}/{name}"))
            }
            Self::Sqlite { .. } => None,
        }
    }

    fn data_dir(&self) -> PathBuf {
        match self {
            Self::Postgres { .. } => PathBuf::from("./data-unused"),
            Self::Sqlite { dir } => dir.clone(),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            Self::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Self::Postgres { name } => {
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                // Drop runs inside the test's runtime: use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    runtime
                        .block_on(async {
                            let admin = sqlx::PgPool::connect(&admin_url()).await?;
                            sqlx::query(&sql).execute(&admin).await?;
                            admin.close().await;
                            Ok::<_, sqlx::Error>(())
                        })
                        .map_err(std::io::Error::other)
                })
                .join();
            }
        }
    }
}
