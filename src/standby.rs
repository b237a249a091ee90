//! Reads from a streaming-replication standby (`STRATA_READ_DATABASE_URL`): the read
//! API reads its views there, while commands, projectors and policies stay on the
//! primary (ADR 15).
//!
//! A view's rows and its checkpoint commit in one transaction, so the standby's copy of
//! a view is always the view at some earlier point, and its checkpoint says which: a read
//! with `minPosition` waits until the standby holds the commit at that position and its
//! view has applied it, as it would on the primary. A hot standby cannot `LISTEN`, so
//! reads are woken by the primary's progress, relayed once the standby has replayed it
//! ([`Standby::follow`]).

use std::time::Duration;

use command_api::http::Readiness;
use command_api::store::{is_migrated, PostgresEventLog};
use read_api::{Freshness, ViewStore};
use sqlx::PgPool;
use tokio::sync::watch;
use tokio::time::Instant;

/// How soon the relay first asks the standby whether it has replayed the primary's
/// progress; the pause doubles up to [`ASK_AT_MOST_EVERY`].
const FIRST_ASK_AFTER: Duration = Duration::from_millis(2);
const ASK_AT_MOST_EVERY: Duration = Duration::from_millis(32);
/// How long the relay follows one change of the primary's progress; past it, waiting
/// reads go on re-checking by themselves until their bound.
const FOLLOW_AT_MOST: Duration = Duration::from_secs(1);

/// A hot standby of the event store's database, and the primary it replays.
pub struct Standby {
    /// The read API's pool on the standby.
    views: PgPool,
    /// A small pool on the standby whose statements time out, for what must not wait
    /// on reads: readiness, metrics, the relay.
    status: PgPool,
    /// The primary's own small pool of that kind, for where its WAL stands.
    primary: PgPool,
    /// The pool the log's head is read through on the primary, as reads on the
    /// primary read it through theirs.
    log: PgPool,
}

/// Where the standby stands against the primary's WAL position `$1`:
/// - whether it has replayed up to it: it has passed it, or stands right before the page
///   header `$1` is in (the insert position of an idle primary may point past a page
///   header no record follows), or it has been promoted;
/// - the WAL between its replay position and `$1`, in bytes;
/// - the age of the last transaction it replayed, in seconds.
const REPLAY_STATE: &str = "
    SELECT coalesce(NOT pg_is_in_recovery()
             OR pg_last_wal_replay_lsn() >= $1::pg_lsn
             OR (pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn()) <= 40
                 AND pg_wal_lsn_diff($1::pg_lsn, '0/0')
                     % current_setting('wal_block_size')::int <= 40), false),
           coalesce(pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn()), 0)::bigint,
           coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)::float8";

/// How far the standby's replay is behind the primary.
pub struct ReplayLag {
    /// WAL the primary has written that the standby has not replayed.
    pub bytes: i64,
    /// Age of the last transaction the standby replayed, while WAL is left to replay
    /// (0 once it has replayed everything the primary wrote).
    pub seconds: f64,
}

impl Standby {
    /// The standby at `url` of `log`'s database, read through a pool of `pool_size`.
    pub fn open(log: &PostgresEventLog, url: &str, pool_size: u32) -> anyhow::Result<Self> {
        let (views, status) = log.open_pools_at(url, pool_size)?;
        Ok(Self {
            views,
            status,
            primary: log.status_pool().clone(),
            log: log.pool().clone(),
        })
    }

    /// The views, on the standby.
    pub fn views(&self) -> ViewStore {
        ViewStore::Postgres(self.views.clone())
    }

    /// `freshness` for reads on the standby: woken once the standby has replayed what
    /// woke `freshness` (or re-checking, without it), the log's head read on the primary
    /// so that a position the standby has not received yet is waited for.
    pub fn follow(&self, freshness: Freshness) -> Freshness {
        let freshness = freshness.head_from(ViewStore::Postgres(self.log.clone()));
        match freshness.progress() {
            Some(progress) => freshness.woken_by(self.replayed(progress)),
            None => freshness,
        }
    }

    /// Changes once the standby has replayed the primary's WAL as it stood after each
    /// change of `progress`.
    fn replayed(&self, mut progress: watch::Receiver<i64>) -> watch::Receiver<i64> {
        let (standby, primary) = (self.status.clone(), self.primary.clone());
        let (sender, replayed) = watch::channel(0);
        tokio::spawn(async move {
            while progress.changed().await.is_ok() && !sender.is_closed() {
                if let Ok(target) = current_wal(&primary).await {
                    let deadline = Instant::now() + FOLLOW_AT_MOST;
                    let mut pause = FIRST_ASK_AFTER;
                    while !has_replayed(&standby, &target).await && Instant::now() < deadline {
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(ASK_AT_MOST_EVERY);
                    }
                }
                sender.send_modify(|count| *count += 1);
            }
        });
        replayed
    }

    /// How far the standby is behind the primary now.
    pub async fn replay_lag(&self) -> Result<ReplayLag, sqlx::Error> {
        let target = current_wal(&self.primary).await?;
        let (caught_up, bytes, seconds) = replay_state(&self.status, &target).await?;
        // A promoted standby keeps its last replay position: it lags nothing.
        Ok(match caught_up {
            true => ReplayLag {
                bytes: 0,
                seconds: 0.0,
            },
            false => ReplayLag {
                bytes: bytes.max(0),
                seconds: seconds.max(0.0),
            },
        })
    }
}

/// A read API on a standby is ready when the standby answers with the migrations
/// replayed: once started, it serves reads whether or not the primary does.
impl Readiness for Standby {
    async fn is_ready(&self) -> bool {
        is_migrated(&self.status).await
    }
}

/// Where the primary's WAL stands now: its insert position, which every commit record
/// so far is before (projector batches commit without waiting for their WAL to be
/// written).
async fn current_wal(primary: &PgPool) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_current_wal_insert_lsn()::text")
        .fetch_one(primary)
        .await
}

/// Whether the standby has replayed the WAL up to `target`, or has been promoted (false
/// on an error: the reads' own re-checks take over).
async fn has_replayed(standby: &PgPool, target: &str) -> bool {
    replay_state(standby, target)
        .await
        .is_ok_and(|(caught_up, _, _)| caught_up)
}

/// [`REPLAY_STATE`] against `target`.
async fn replay_state(standby: &PgPool, target: &str) -> Result<(bool, i64, f64), sqlx::Error> {
    sqlx::query_as(REPLAY_STATE)
        .bind(target)
        .fetch_one(standby)
        .await
}
