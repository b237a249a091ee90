//! All configuration, read once from flags and `STRATA_*` / `DATABASE_URL` variables.

use std::path::PathBuf;
use std::time::Duration;

use auth::{Role, Tokens};
use clap::{Args, Parser, Subcommand, ValueEnum};
use command_api::game::GIFT_TARGET;
use command_api::http::overload::Limits;
use command_api::outbound::{BreakerSettings, Outbound, TargetSettings};
use command_api::store::CommitBounds;
use policies::WebhookSettings;

/// strata: an event-sourced CQRS backend. With no subcommand it runs `serve`.
#[derive(Debug, Parser)]
#[command(name = "strata", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub store: StoreSettings,
    #[command(flatten)]
    pub reads: ReadSettings,
    #[command(flatten)]
    pub notify: NotifySettings,
    #[command(flatten)]
    pub gift: GiftSettings,
    #[command(flatten)]
    pub limits: LimitSettings,
    #[command(flatten)]
    pub auth: AuthSettings,
    /// How long a client's `Idempotency-Key` is remembered: a retry within it gets the
    /// first response; after it (and the next minute's sweep), the key is forgotten.
    #[arg(
        long,
        env = "STRATA_IDEMPOTENCY_KEY_TTL_SECONDS",
        default_value_t = 24 * 3600,
        value_parser = clap::value_parser!(u64).range(1..=10 * 365 * 24 * 3600),
        global = true
    )]
    pub idempotency_key_ttl_seconds: u64,
    /// The address the API and probes listen on.
    #[arg(long, env = "STRATA_HOST", default_value = "0.0.0.0", global = true)]
    pub host: std::net::IpAddr,
    /// `strata` without a subcommand runs `serve`, and takes its flags.
    #[command(flatten)]
    pub serve: ServeSettings,
    /// Log format; `RUST_LOG` sets the filter (default `info`).
    #[arg(long, env = "STRATA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human, global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole backend in one process (the default).
    Serve(ServeSettings),
    /// Run only the command API (split mode).
    CommandApi(CommandApiSettings),
    /// Run only the read API over the views (split mode).
    ReadApi(ReadApiSettings),
    /// Run projector workers: every view and policy unless narrowed with --view or --policy.
    Projector(ProjectorSettings),
    /// Apply the database migrations and exit.
    Migrate,
    /// Rebuild a view from the start of the log, compare it with the live one, swap it in.
    Replay(ReplaySettings),
    /// Print performance figures against the configured PostgreSQL (commands, bookstore,
    /// hotel, game, rebuild, reads, lag).
    Bench(BenchSettings),
    /// Print a bearer token signed with STRATA_JWT_SECRET.
    Token(TokenSettings),
    /// Run the reference gift service the game's exchanges call (a service of its own:
    /// its own port and storage), to try the exchange and its circuit breaker locally.
    GiftService(GiftServiceSettings),
    /// Ask a process's readiness probe: exit 0 when it answers 2xx, 1 otherwise (the
    /// image's health check; the slim image has no curl).
    Probe(ProbeSettings),
}

/// Where events live.
#[derive(Debug, Clone, Args)]
pub struct StoreSettings {
    /// PostgreSQL URL (postgres://…). Without it, the embedded SQLite store is used.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Directory of the embedded SQLite store.
    #[arg(long, env = "STRATA_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// Largest number of PostgreSQL connections this process opens.
    #[arg(long, env = "STRATA_DB_POOL_SIZE", default_value_t = 32, global = true)]
    pub db_pool_size: u32,
    /// How long a request waits for a database connection before answering 503.
    #[arg(
        long,
        env = "STRATA_DB_ACQUIRE_TIMEOUT_MS",
        default_value_t = 2000,
        global = true
    )]
    pub db_acquire_timeout_ms: u64,
    /// How long a commit waits for a lock another transaction holds (the next event of
    /// its stream, a guard's claim) before it fails alone with 503 `timed_out`, nothing
    /// written (PostgreSQL). A commit statement runs at most twice this; at most a
    /// quarter of the request timeout.
    #[arg(
        long,
        env = "STRATA_COMMIT_LOCK_TIMEOUT_MS",
        default_value_t = CommitBounds::default().lock_timeout.as_millis() as u64,
        value_parser = clap::value_parser!(u64).range(1..),
        global = true
    )]
    pub commit_lock_timeout_ms: u64,
}

/// How the read API answers.
#[derive(Debug, Clone, Args)]
pub struct ReadSettings {
    /// How long a read with `minPosition` (or `X-Min-Position`) waits for its view to
    /// apply that position before answering 503.
    #[arg(
        long,
        env = "STRATA_MIN_POSITION_WAIT_MS",
        default_value_t = 2000,
        global = true
    )]
    pub min_position_wait_ms: u64,
    /// How many reads with `minPosition` wait at once; past them, a read that would wait
    /// is answered 503 at once.
    #[arg(
        long,
        env = "STRATA_MIN_POSITION_WAITERS",
        default_value_t = read_api::http::freshness::DEFAULT_WAITERS,
        global = true
    )]
    pub min_position_waiters: usize,
    /// PostgreSQL connections the read API reads the views through (a pool apart from
    /// the commands').
    #[arg(
        long,
        env = "STRATA_READ_POOL_SIZE",
        default_value_t = 8,
        global = true
    )]
    pub read_pool_size: u32,
    /// A hot standby of the PostgreSQL database (a streaming-replication replica) that
    /// the read API reads its views from; commands, projectors and policies stay on
    /// `DATABASE_URL`. Reads with `minPosition` wait until the standby has replayed it.
    #[arg(
        long,
        env = "STRATA_READ_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub read_database_url: Option<String>,
}

/// How much one process takes on at once.
#[derive(Debug, Clone, Args)]
pub struct LimitSettings {
    /// Requests in flight beyond which new ones are answered 503 with `Retry-After`
    /// (`/health/*` and `/metrics` are never refused).
    #[arg(
        long,
        env = "STRATA_MAX_IN_FLIGHT",
        default_value_t = LimitSettings::default().max_in_flight,
        global = true
    )]
    pub max_in_flight: usize,
    /// How long one request may take before it is answered 503.
    #[arg(
        long,
        env = "STRATA_REQUEST_TIMEOUT_MS",
        default_value_t = LimitSettings::default().request_timeout_ms,
        global = true
    )]
    pub request_timeout_ms: u64,
    /// A connection that has not sent a request's headers within this many ms is closed.
    #[arg(
        long,
        env = "STRATA_HEADER_READ_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub header_read_timeout_ms: u64,
    /// Connections beyond this many are closed as soon as they are accepted.
    #[arg(
        long,
        env = "STRATA_MAX_CONNECTIONS",
        default_value_t = 4096,
        global = true
    )]
    pub max_connections: usize,
    /// Live streams (`/mypages/{id}/changes`, `/admin/projections/changes`) open at once
    /// beyond which a new one is answered 503 with `Retry-After`.
    #[arg(
        long,
        env = "STRATA_MAX_STREAMS",
        default_value_t = LimitSettings::default().max_streams,
        global = true
    )]
    pub max_streams: usize,
    /// After SIGTERM, connections still open this many ms later are closed.
    #[arg(
        long,
        env = "STRATA_SHUTDOWN_GRACE_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub shutdown_grace_ms: u64,
}

impl LimitSettings {
    /// How the server treats connections.
    pub fn connections(&self) -> crate::ConnectionLimits {
        crate::ConnectionLimits {
            header_read_timeout: Duration::from_millis(self.header_read_timeout_ms),
            max_connections: self.max_connections,
            shutdown_grace: Duration::from_millis(self.shutdown_grace_ms),
        }
    }
}

impl Default for LimitSettings {
    /// 512 requests in flight, 10 s per request; headers within 10 s, 4,096
    /// connections, 1,024 live streams, 10 s of shutdown grace.
    fn default() -> Self {
        Self {
            max_in_flight: 512,
            request_timeout_ms: 10_000,
            header_read_timeout_ms: 10_000,
            max_connections: 4096,
            max_streams: read_api::live::DEFAULT_MAX_STREAMS,
            shutdown_grace_ms: 10_000,
        }
    }
}

impl LimitSettings {
    pub fn limits(&self) -> Limits {
        Limits {
            max_in_flight: self.max_in_flight,
            request_timeout: Duration::from_millis(self.request_timeout_ms),
        }
    }
}

/// How callers prove who they are.
#[derive(Clone, Args)]
pub struct AuthSettings {
    /// The secret bearer tokens are signed with (HS256), at least 32 bytes; prefer the
    /// environment variable. Without it, `serve` generates one for its run and prints a
    /// token per role; `command-api` and `read-api` refuse to start, since the
    /// processes of a split deployment must share one.
    #[arg(long, env = "STRATA_JWT_SECRET", global = true, hide_env_values = true)]
    jwt_secret: Option<String>,
}

impl AuthSettings {
    /// Tokens over the configured secret, if one is configured. The error never quotes
    /// the secret.
    pub fn tokens(&self) -> anyhow::Result<Option<Tokens>> {
        self.jwt_secret
            .as_ref()
            .map(|secret| {
                Tokens::from_secret(secret.as_bytes())
                    .map_err(|weak| anyhow::anyhow!("STRATA_JWT_SECRET: {weak}"))
            })
            .transpose()
    }
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = self.jwt_secret.as_ref().map(|_| "<redacted>");
        f.debug_struct("AuthSettings")
            .field("jwt_secret", &secret)
            .finish()
    }
}

#[derive(Debug, Clone, Args)]
pub struct GiftServiceSettings {
    /// The port the gift service listens on.
    #[arg(long, default_value_t = 8090)]
    pub port: u16,
    /// Where the gift service keeps its gifts (`gifts.db`, SQLite).
    #[arg(long, default_value = "./gift-data")]
    pub gift_data_dir: PathBuf,
}

/// What `strata probe` asks, and how long it waits.
#[derive(Debug, Clone, Args)]
pub struct ProbeSettings {
    /// The port of the process on this host (the image sets `STRATA_PORT` for every mode).
    #[arg(long, env = "STRATA_PORT", default_value_t = 8080)]
    pub port: u16,
    /// The URL to ask instead of `http://127.0.0.1:{port}/health/ready`.
    #[arg(long)]
    pub url: Option<String>,
    /// How long to wait for the answer.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub timeout_ms: u64,
}

/// The longest a token `strata token` issues is valid: ten years.
const MAX_TOKEN_SECONDS: u64 = 10 * 365 * 24 * 3600;

#[derive(Debug, Clone, Args)]
pub struct TokenSettings {
    /// The token's role: customer, manager, host or admin.
    #[arg(long)]
    pub role: Role,
    /// The token's subject: a customer's customerId / bookingUserId / userId, a
    /// manager's id (recorded on their decisions).
    #[arg(long)]
    pub sub: String,
    /// How long the token is valid, in seconds: 1 to 315,360,000 (ten years).
    #[arg(long, default_value_t = 24 * 3600,
          value_parser = clap::value_parser!(u64).range(1..=MAX_TOKEN_SECONDS))]
    pub valid_for_seconds: u64,
}

/// The gift service the game's exchanges call (an outbound call): where it is, and
/// how each call is guarded.
#[derive(Debug, Clone, Args)]
pub struct GiftSettings {
    /// The gift service's base URL (`POST {url}/gifts`). Without it, exchanges answer
    /// 503 `gift_unavailable`.
    #[arg(long, env = "STRATA_GIFT_URL", global = true, hide_env_values = true)]
    pub gift_url: Option<String>,
    /// How long one gift call may take.
    #[arg(long, env = "STRATA_GIFT_TIMEOUT_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=60_000), global = true)]
    pub gift_timeout_ms: u64,
    /// Gift calls in flight at once; one more is answered 503 at once.
    #[arg(long, env = "STRATA_GIFT_MAX_IN_FLIGHT", default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=10_000), global = true)]
    pub gift_max_in_flight: u64,
    /// Failed gift calls in a row that open the circuit breaker.
    #[arg(long, env = "STRATA_GIFT_BREAKER_FAILURES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000), global = true)]
    pub gift_breaker_failures: u32,
    /// How long an open breaker refuses gift calls before one probe goes through.
    #[arg(long, env = "STRATA_GIFT_BREAKER_OPEN_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=3_600_000), global = true)]
    pub gift_breaker_open_ms: u64,
}

impl GiftSettings {
    /// The outbound targets these settings give: the gift service, when configured. Its
    /// URL must be http:// or https:// with a host, and a call must be able to end
    /// before the request that makes it is answered (`request_timeout`).
    pub fn outbound(&self, request_timeout: Duration) -> anyhow::Result<Outbound> {
        let Some(url) = &self.gift_url else {
            return Ok(Outbound::default());
        };
        http_url("STRATA_GIFT_URL", url)?;
        if Duration::from_millis(self.gift_timeout_ms) >= request_timeout {
            anyhow::bail!(
                "STRATA_GIFT_TIMEOUT_MS ({} ms) must be less than STRATA_REQUEST_TIMEOUT_MS \
                 ({} ms): an exchange must be answered after its gift call ends",
                self.gift_timeout_ms,
                request_timeout.as_millis()
            );
        }
        Ok(Outbound::default().with(
            GIFT_TARGET,
            TargetSettings {
                url: url.clone(),
                timeout: Duration::from_millis(self.gift_timeout_ms),
                max_in_flight: self.gift_max_in_flight as usize,
                breaker: BreakerSettings {
                    failures_to_open: self.gift_breaker_failures,
                    open_for: Duration::from_millis(self.gift_breaker_open_ms),
                },
            },
        ))
    }
}

/// Where the notification sink delivers.
#[derive(Debug, Clone, Args)]
pub struct NotifySettings {
    /// Webhook that receives every notification (POST JSON, `Idempotency-Key` = the
    /// notification id). Without it, notifications go to the log.
    #[arg(
        long,
        env = "STRATA_NOTIFY_WEBHOOK",
        global = true,
        hide_env_values = true
    )]
    pub notify_webhook: Option<String>,
    /// How long one webhook request may take.
    #[arg(
        long,
        env = "STRATA_NOTIFY_TIMEOUT_MS",
        default_value_t = 5000,
        global = true
    )]
    pub notify_timeout_ms: u64,
}

impl NotifySettings {
    /// The webhook's settings, when one is configured.
    /// The webhook, if one is set: an http:// or https:// URL with a host (checked at
    /// start-up; the error never repeats the URL, which may carry a token).
    pub fn webhook(&self) -> anyhow::Result<Option<WebhookSettings>> {
        let Some(url) = &self.notify_webhook else {
            return Ok(None);
        };
        http_url("STRATA_NOTIFY_WEBHOOK", url)?;
        Ok(Some(WebhookSettings {
            timeout: Duration::from_millis(self.notify_timeout_ms),
            ..WebhookSettings::new(url.clone())
        }))
    }
}

/// Goes on when the URL `variable` names is http:// or https:// with a host: a service
/// strata calls, checked at start-up rather than at the first call.
fn http_url(variable: &str, url: &str) -> anyhow::Result<()> {
    let valid = reqwest::Url::parse(url)
        .is_ok_and(|parsed| ["http", "https"].contains(&parsed.scheme()) && parsed.has_host());
    if !valid {
        anyhow::bail!("{variable} must be an http:// or https:// URL with a host");
    }
    Ok(())
}

impl ReadSettings {
    pub fn min_position_wait(&self) -> Duration {
        Duration::from_millis(self.min_position_wait_ms)
    }
}

impl StoreSettings {
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.db_acquire_timeout_ms)
    }

    pub fn commit_bounds(&self) -> CommitBounds {
        CommitBounds {
            lock_timeout: Duration::from_millis(self.commit_lock_timeout_ms),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeSettings {
    /// Port to listen on.
    #[arg(long, env = "STRATA_PORT", default_value_t = 8080)]
    pub port: u16,
}

#[derive(Debug, Clone, Args)]
pub struct CommandApiSettings {
    /// Port to listen on.
    #[arg(long, env = "STRATA_PORT", default_value_t = 8081)]
    pub port: u16,
}

#[derive(Debug, Clone, Args)]
pub struct ReadApiSettings {
    /// Port to listen on.
    #[arg(long, env = "STRATA_PORT", default_value_t = 8082)]
    pub port: u16,
}

#[derive(Debug, Clone, Args)]
pub struct ProjectorSettings {
    /// Port for /health/* (all interfaces).
    #[arg(long, env = "STRATA_PORT", default_value_t = 8083)]
    pub port: u16,
    /// A view to project, by its name in `/admin/projections` (orderList, mypageOrders,
    /// notifications, …; repeatable).
    #[arg(long = "view", value_name = "NAME")]
    pub views: Vec<String>,
    /// A policy to run, by its name in `/admin/projections` (shop, booking, notify,
    /// notificationSink, …; repeatable).
    #[arg(long = "policy", value_name = "NAME")]
    pub policies: Vec<String>,
}

impl ProjectorSettings {
    /// Whether neither views nor policies are named: then every one runs.
    pub fn runs_everything(&self) -> bool {
        self.views.is_empty() && self.policies.is_empty()
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum BenchScenario {
    /// Side by side at each `--concurrency` (the default): single-row INSERTs, POST
    /// /orders and cancels over HTTP driven by wrk, and cqrs-es in process.
    Commands,
    /// POST /bookOrders over many books at 16 clients, then against one hot book at each
    /// `--concurrency` level: commands/s, latency and orders not answered 201.
    Bookstore {
        /// Books to spread the first run over.
        #[arg(long, default_value_t = 100)]
        books: usize,
    },
    /// POST /hotelBookings: free nights over many rooms at 16 clients, then rounds in
    /// which every client asks for the same night of one room, at each `--concurrency`
    /// level: requests/s, latency, answers by status, rounds with exactly one winner.
    Hotel {
        /// Rooms to spread the first run over.
        #[arg(long, default_value_t = 100)]
        rooms: usize,
    },
    /// POST /rewards/{id}/exchange at 16 clients against the reference gift service run
    /// in process, then with it stopped and the breaker open: requests/s and latency.
    Game,
    /// Bulk-load events, catch orderList up, then rebuild it: events/s and peak RSS.
    Rebuild {
        /// Events to load (half orders, half their payments).
        #[arg(long, default_value_t = 1_000_000)]
        events: i64,
    },
    /// GET /orderLists/{id} and a customer's page over HTTP against the same queries
    /// through sqlx (the raw ceiling), then single orders driven by wrk against a bare
    /// axum + sqlx handler.
    Reads {
        /// Orders in orderList (bulk-loaded when fewer).
        #[arg(long, default_value_t = 100_000)]
        orders: i64,
        /// Clients at once.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Seconds of load per read.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Orders at a fixed rate; how long until each shows in orderList (with --delivery:
    /// until its delivery, started by the shop policy, does).
    Lag {
        /// Orders per second; without it, half the peak the bench measures first
        /// (16 clients placing orders for 3 s).
        #[arg(long)]
        rate: Option<u64>,
        /// Seconds of measured load.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Seconds of load at the same rate before measuring, while connections open.
        #[arg(long, default_value_t = 2)]
        warm_up: u64,
        /// Run the shop policy too, and time each order until orderList shows the
        /// delivery the policy started for it (the whole saga).
        #[arg(long)]
        delivery: bool,
    },
    /// Live streams (GET /mypages/{id}/changes), one customer each, against the served
    /// API with every view's projector: the memory, CPU and database statements they
    /// cost while idle, then a burst of orders at 16 clients and, per order, the time
    /// from its 201 to the change event on its customer's stream.
    Streams {
        /// Streams open at once, each a customer's own (`bench-user-{i}`).
        #[arg(long, default_value_t = 1000)]
        streams: usize,
        /// Orders in the burst, spread over the streams' customers in turn.
        #[arg(long, default_value_t = 2000)]
        orders: usize,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ReplaySettings {
    /// The view to rebuild, by its name in `/admin/projections` (orderList, …).
    #[arg(long, value_name = "NAME")]
    pub view: String,
}

#[derive(Debug, Clone, Args)]
pub struct BenchSettings {
    /// What to measure; `commands` when absent.
    #[command(subcommand)]
    pub scenario: Option<BenchScenario>,
    /// Seconds of load at each concurrency.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Concurrency levels, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    pub concurrency: Vec<usize>,
    /// Run on a database that holds events the benchmarks did not write (they add
    /// their own to it).
    #[arg(long)]
    pub any_database: bool,
}
