//! Rebuilding a view from position 0 while the live one keeps serving.
//!
//! The rebuild applies the whole log to shadow copies of the view's tables (and of the
//! checkpoint table) through the ordinary batch code: on PostgreSQL in a schema of its
//! own, the only one on the connection's `search_path`, which reads the log through a
//! view of the live `events` (so a statement of the rebuild cannot reach a live table
//! unless it names the live schema, even if the shadow schema is dropped under it; the
//! shadow tables get only their key while being built, and the live tables' other
//! indexes at the end), on SQLite in
//! `TEMP` tables, which shadow the main ones on that connection. It reads up to the
//! log's head, however far the live view had got. Then, in one transaction that holds
//! the live checkpoint, it brings the shadow up to the live view's position if the live
//! view is ahead, compares the two table by table (a rebuild that disagrees with the
//! incremental view points at a bug or a changed handler; a live view that is behind
//! the rebuild, or stopped, is not compared), puts the shadow tables in place of the live ones (PostgreSQL moves them
//! into the live schema; SQLite copies their rows) and commits: readers see the old
//! view until that commit and the new one after it. Rebuilds write views only: no
//! policy, no notification.

use serde::Serialize;
use sqlx::{Connection, PgConnection};

use crate::sql::ViewTx;
use crate::subscription::{
    apply_range, Batch, LogPoint, ProjectionError, ProjectionStore, WorkerConnection,
    READ_CHECKPOINT,
};
use crate::view::View;

/// How soon a rebuild reads again when an older transaction holds the read watermark
/// below the log's head.
const WATERMARK_PAUSE: std::time::Duration = std::time::Duration::from_millis(5);
/// How often a rebuild looks at the live view it waits for.
const LIVE_VIEW_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);
/// How long a rebuild waits for a live view behind it that makes no progress.
const LIVE_VIEW_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// What a rebuild found and did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RebuildReport {
    pub view: String,
    /// Events the rebuild applied.
    pub events: usize,
    /// Of those, the events applied in the swap's transaction, to catch up with the
    /// live view (the live view's worker waits for them).
    pub events_at_swap: usize,
    /// The global position both views stood at when they were compared and swapped.
    pub position: i64,
    /// False when the live view had stopped at a poison event or was behind the
    /// rebuild (a view that never ran, say): nothing to compare with.
    pub compared: bool,
    /// Rows that differ between the rebuilt and the live view, per table.
    pub differences: Vec<TableDifference>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TableDifference {
    pub table: String,
    /// Rows of the rebuilt view that the live view lacks or has otherwise.
    pub only_in_rebuilt: i64,
    /// Rows of the live view that the rebuilt view lacks or has otherwise.
    pub only_in_live: i64,
}

/// Where the live and the shadow tables are, as SQL qualifiers.
struct Schemas {
    live: String,
    shadow: String,
}

/// Rebuilds `view` from the start of the log and swaps it in.
pub async fn rebuild(
    store: &ProjectionStore,
    view: &'static dyn View,
    batch_size: i64,
) -> Result<RebuildReport, ProjectionError> {
    Rebuild::start(store, view).await?.run(batch_size).await
}

/// A rebuild of one view that holds the view's rebuild lock: no other process rebuilds
/// it until this one ends (its connection, which holds the lock, closes with it, also
/// when the rebuild fails or panics).
pub struct Rebuild {
    connection: WorkerConnection,
    view: &'static dyn View,
}

/// `pg_try_advisory_lock`'s key for rebuilds of the view `$1`.
const PG_TRY_REBUILD_LOCK: &str = "SELECT pg_try_advisory_lock(hashtext('strata rebuild ' || $1))";
const PG_REBUILD_UNLOCK: &str = "SELECT pg_advisory_unlock(hashtext('strata rebuild ' || $1))";

impl Rebuild {
    /// Takes `view`'s rebuild lock, or answers [`ProjectionError::RebuildRunning`] when
    /// another process holds it (SQLite serves one process, which rebuilds a view once
    /// at a time itself).
    pub async fn start(
        store: &ProjectionStore,
        view: &'static dyn View,
    ) -> Result<Self, ProjectionError> {
        let mut connection = store.connect().await?;
        if let WorkerConnection::Postgres(c) = &mut connection {
            let locked: bool = sqlx::query_scalar(PG_TRY_REBUILD_LOCK)
                .bind(view.name())
                .fetch_one(&mut *c)
                .await?;
            if !locked {
                return Err(ProjectionError::RebuildRunning(view));
            }
        }
        Ok(Self { connection, view })
    }

    /// Builds the shadow from the whole log, compares, swaps; then lets the lock go.
    pub async fn run(self, batch_size: i64) -> Result<RebuildReport, ProjectionError> {
        let Self {
            mut connection,
            view,
        } = self;
        let outcome = build_and_swap(&mut connection, view, batch_size).await;
        if let WorkerConnection::Postgres(c) = &mut connection {
            // Closing the connection lets the lock go too, but only once the server has
            // seen it close: a rebuild started right after must find it free.
            // Should this fail too, the connection's close lets the lock go.
            let _ = sqlx::query(PG_REBUILD_UNLOCK)
                .bind(view.name())
                .execute(&mut *c)
                .await;
        }
        outcome
    }
}

async fn build_and_swap(
    connection: &mut WorkerConnection,
    view: &'static dyn View,
    batch_size: i64,
) -> Result<RebuildReport, ProjectionError> {
    connection.register(view).await?;
    let schemas = create_shadow(connection, view).await?;
    let built = build_in_shadow(connection, &schemas, view, batch_size).await;
    // Also after a failure: a shadow left behind would only take room.
    let dropped = drop_shadow(connection, &schemas).await;
    let report = built?;
    dropped?;
    tracing::info!(view = %view, ?report, "view rebuilt");
    Ok(report)
}

async fn build_in_shadow(
    connection: &mut WorkerConnection,
    schemas: &Schemas,
    view: &'static dyn View,
    batch_size: i64,
) -> Result<RebuildReport, ProjectionError> {
    // The shadow's own checkpoint: unqualified names now resolve in the shadow only.
    connection.register(view).await?;
    // The whole log, up to its head: however far the live view got (a view that never
    // ran has applied nothing), and past transactions that hold the read watermark back.
    let head = connection.head().await?;
    let mut events = 0;
    loop {
        match connection.run_batch(view, batch_size).await? {
            Batch::Applied { events: applied } => events += applied,
            Batch::Failed => return Err(ProjectionError::Stopped(view)),
            Batch::CaughtUp | Batch::Busy => {
                if connection.has_applied(view.name(), head).await? {
                    break;
                }
                tokio::time::sleep(WATERMARK_PAUSE).await;
            }
        }
    }
    index_shadow(connection, schemas, view).await?;
    await_running_view(connection, schemas, view).await?;
    swap(connection, schemas, view, events).await
}

/// Gives a live view that a worker keeps running the time to reach the rebuild, so the
/// two can be compared. A view that never ran is not waited for, nor one that stands
/// still (no worker runs it) for [`LIVE_VIEW_PATIENCE`].
async fn await_running_view(
    connection: &mut WorkerConnection,
    schemas: &Schemas,
    view: &'static dyn View,
) -> Result<(), sqlx::Error> {
    let live_sql = live_checkpoint_sql(schemas);
    let mut tx = connection.as_view_tx();
    // Unqualified, the checkpoints are the shadow's on this connection.
    let shadow = live_checkpoint(&mut tx, READ_CHECKPOINT, view).await?.0;
    let mut last_progress = (LogPoint::START, tokio::time::Instant::now());
    loop {
        let (live, failed) = live_checkpoint(&mut tx, &live_sql, view).await?;
        if failed || live == LogPoint::START || live >= shadow {
            return Ok(());
        }
        if live != last_progress.0 {
            last_progress = (live, tokio::time::Instant::now());
        } else if last_progress.1.elapsed() >= LIVE_VIEW_PATIENCE {
            return Ok(());
        }
        tokio::time::sleep(LIVE_VIEW_PAUSE).await;
    }
}

/// The live view's checkpoint and whether it is stopped at a poison event, as `sql`
/// reads it (the caller adds `FOR UPDATE` where it must hold it).
async fn live_checkpoint(
    tx: &mut ViewTx<'_>,
    sql: &str,
    view: &'static dyn View,
) -> Result<(LogPoint, bool), sqlx::Error> {
    let checkpoint = tx.read_checkpoint(sql, view.name()).await?;
    Ok(checkpoint.map_or((LogPoint::START, true), |c| (c.point, c.failed)))
}

fn live_checkpoint_sql(schemas: &Schemas) -> String {
    format!(
        "SELECT transaction_id, position, state FROM {}.projection_checkpoints WHERE name = $1",
        schemas.live
    )
}

/// Empty copies of the view's tables and of the checkpoints, which unqualified names
/// resolve to on this connection.
async fn create_shadow(
    connection: &mut WorkerConnection,
    view: &'static dyn View,
) -> Result<Schemas, sqlx::Error> {
    let tables = view
        .tables()
        .iter()
        .copied()
        .chain(["projection_checkpoints"]);
    match connection {
        WorkerConnection::Postgres(c) => {
            let live: String = sqlx::query_scalar("SELECT current_schema()")
                .fetch_one(&mut *c)
                .await?;
            // A name of its own: another rebuild's DROP SCHEMA can never reach it.
            let shadow = format!(
                "strata_rebuild_{}_{}",
                view.name().to_lowercase(),
                uuid::Uuid::now_v7().simple()
            );
            let schemas = Schemas { live, shadow };
            let shadow = &schemas.shadow;
            let mut ddl = vec![
                format!("DROP SCHEMA IF EXISTS {shadow} CASCADE"),
                format!("CREATE SCHEMA {shadow}"),
            ];
            for table in tables {
                let live = &schemas.live;
                ddl.push(format!(
                    "CREATE TABLE {shadow}.{table} (LIKE {live}.{table} INCLUDING ALL EXCLUDING INDEXES)"
                ));
                // The key only: the upserts need it, and the other indexes are cheaper
                // to build once at the end than to keep up row by row.
                for index in pg_indexes(c, &schemas, table).await? {
                    if index.primary {
                        ddl.push(index.definition);
                        ddl.push(format!(
                            "ALTER TABLE {shadow}.{table} ADD CONSTRAINT {0} PRIMARY KEY USING INDEX {0}",
                            index.name
                        ));
                    }
                }
            }
            ddl.push(format!(
                "CREATE VIEW {shadow}.events AS SELECT * FROM {}.events",
                schemas.live
            ));
            ddl.push(format!("SET search_path TO {shadow}"));
            for statement in &ddl {
                sqlx::query(statement).execute(&mut *c).await?;
            }
            Ok(schemas)
        }
        WorkerConnection::Sqlite(c) => {
            for table in tables {
                let create: String = sqlx::query_scalar(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $1",
                )
                .bind(table)
                .fetch_one(&mut *c)
                .await?;
                let temp = create.replacen("CREATE TABLE", "CREATE TEMP TABLE", 1);
                let drop = format!("DROP TABLE IF EXISTS temp.{table}");
                sqlx::query(&drop).execute(&mut *c).await?;
                sqlx::query(&temp).execute(&mut *c).await?;
            }
            Ok(Schemas {
                live: "main".to_string(),
                shadow: "temp".to_string(),
            })
        }
    }
}

/// An index of a live table, as created on its shadow (under the same name).
struct ShadowIndex {
    name: String,
    definition: String,
    primary: bool,
}

async fn pg_indexes(
    c: &mut PgConnection,
    schemas: &Schemas,
    table: &str,
) -> Result<Vec<ShadowIndex>, sqlx::Error> {
    let (live, shadow) = (&schemas.live, &schemas.shadow);
    let indexes: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT i.relname::text, pg_get_indexdef(x.indexrelid), x.indisprimary
           FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
          WHERE x.indrelid = to_regclass($1)",
    )
    .bind(format!("{live}.{table}"))
    .fetch_all(&mut *c)
    .await?;
    let (on_live, on_shadow) = (
        format!(" ON {live}.{table} "),
        format!(" ON {shadow}.{table} "),
    );
    Ok(indexes
        .into_iter()
        .map(|(name, definition, primary)| ShadowIndex {
            name,
            definition: definition.replacen(&on_live, &on_shadow, 1),
            primary,
        })
        .collect())
}

/// Gives the built shadow tables the live ones' other indexes, before the swap takes
/// its locks (PostgreSQL; SQLite's TEMP tables are copied, not swapped in).
async fn index_shadow(
    connection: &mut WorkerConnection,
    schemas: &Schemas,
    view: &'static dyn View,
) -> Result<(), sqlx::Error> {
    let WorkerConnection::Postgres(c) = connection else {
        return Ok(());
    };
    for table in view.tables() {
        for index in pg_indexes(c, schemas, table).await? {
            if !index.primary {
                sqlx::query(&index.definition).execute(&mut *c).await?;
            }
        }
    }
    Ok(())
}

async fn drop_shadow(
    connection: &mut WorkerConnection,
    schemas: &Schemas,
) -> Result<(), sqlx::Error> {
    match connection {
        WorkerConnection::Postgres(c) => {
            sqlx::query("RESET search_path").execute(&mut *c).await?;
            let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", schemas.shadow);
            sqlx::query(&sql).execute(&mut *c).await.map(drop)
        }
        // TEMP tables end with the connection, which the caller drops.
        WorkerConnection::Sqlite(_) => Ok(()),
    }
}

/// Holds the live checkpoint, brings the shadow to it, compares, copies, commits.
async fn swap(
    connection: &mut WorkerConnection,
    schemas: &Schemas,
    view: &'static dyn View,
    events: usize,
) -> Result<RebuildReport, ProjectionError> {
    let read_live = live_checkpoint_sql(schemas);
    match connection {
        WorkerConnection::Postgres(c) => {
            let mut tx = c.begin().await?;
            let lock_live = format!("{read_live} FOR UPDATE");
            let report = swap_in(
                &mut ViewTx::Postgres(&mut tx),
                &lock_live,
                schemas,
                view,
                events,
            )
            .await?;
            tx.commit().await?;
            Ok(report)
        }
        WorkerConnection::Sqlite(c) => {
            // BEGIN IMMEDIATE already excludes every other writer.
            let mut tx = c.begin_with("BEGIN IMMEDIATE").await?;
            let report = swap_in(
                &mut ViewTx::Sqlite(&mut tx),
                &read_live,
                schemas,
                view,
                events,
            )
            .await?;
            tx.commit().await?;
            Ok(report)
        }
    }
}

async fn swap_in(
    tx: &mut ViewTx<'_>,
    lock_live: &str,
    schemas: &Schemas,
    view: &'static dyn View,
    built: usize,
) -> Result<RebuildReport, ProjectionError> {
    let (live, live_failed) = live_checkpoint(tx, lock_live, view).await?;
    let mut events_at_swap = 0;
    let mut shadow = tx
        .lock_checkpoint(view)
        .await?
        .map(|checkpoint| checkpoint.point)
        .unwrap_or(LogPoint::START);
    // Only a running view that got at least as far as the rebuild can be compared with
    // it; one behind it is simply replaced and resumes from the rebuild's position.
    let compared = !live_failed && live >= shadow;
    if compared {
        while let Some((applied, point)) = apply_range(tx, view, shadow, live, 1_000).await? {
            events_at_swap += applied;
            shadow = point;
        }
    }
    let mut differences = Vec::new();
    for table in view.tables() {
        if compared {
            let difference = compare(tx, schemas, table).await?;
            if difference.only_in_live + difference.only_in_rebuilt > 0 {
                differences.push(difference);
            }
        }
        replace_live(tx, schemas, table).await?;
    }
    let resume = format!(
        "UPDATE {}.projection_checkpoints SET transaction_id = $2, position = $3, state = 'running',
                failed_position = NULL, last_error = NULL WHERE name = $1",
        schemas.live
    );
    let args = [
        crate::sql::Arg::Text(view.name()),
        crate::sql::Arg::Int(shadow.transaction_id),
        crate::sql::Arg::Int(shadow.position),
    ];
    tx.execute(&resume, &args).await?;
    Ok(RebuildReport {
        view: view.name().to_string(),
        events: built + events_at_swap,
        events_at_swap,
        position: shadow.position,
        compared,
        differences,
    })
}

/// Puts the shadow table in the live one's place. On PostgreSQL the shadow table moves
/// into the live schema (its indexes carry the live names), so the swap costs no copy;
/// readers blocked on the dropped table then resolve the name to the new one. SQLite
/// copies the rows.
async fn replace_live(
    tx: &mut ViewTx<'_>,
    schemas: &Schemas,
    table: &str,
) -> Result<(), sqlx::Error> {
    let (live, shadow) = (&schemas.live, &schemas.shadow);
    let statements = match tx {
        ViewTx::Postgres(_) => [
            format!("DROP TABLE {live}.{table}"),
            format!("ALTER TABLE {shadow}.{table} SET SCHEMA {live}"),
        ],
        ViewTx::Sqlite(_) => [
            format!("DELETE FROM {live}.{table}"),
            format!("INSERT INTO {live}.{table} SELECT * FROM {shadow}.{table}"),
        ],
    };
    for statement in &statements {
        tx.execute(statement, &[]).await?;
    }
    Ok(())
}

/// Counts the rows of each side that the other lacks or has otherwise. PostgreSQL
/// full-joins the two tables on their key (one pass); SQLite runs `EXCEPT` both ways.
async fn compare(
    tx: &mut ViewTx<'_>,
    schemas: &Schemas,
    table: &str,
) -> Result<TableDifference, sqlx::Error> {
    let (live, shadow) = (&schemas.live, &schemas.shadow);
    let (only_in_rebuilt, only_in_live): (i64, i64) = match tx {
        ViewTx::Postgres(c) => {
            let key: Vec<String> = sqlx::query_scalar(
                "SELECT pg_get_indexdef(x.indexrelid, k, true)
                   FROM pg_index x, generate_series(1, x.indnkeyatts) k
                  WHERE x.indrelid = to_regclass($1) AND x.indisprimary ORDER BY k",
            )
            .bind(format!("{live}.{table}"))
            .fetch_all(&mut **c)
            .await?;
            let on = key
                .iter()
                .map(|column| format!("s.{column} = l.{column}"))
                .collect::<Vec<_>>()
                .join(" AND ");
            let sql = format!(
                "SELECT count(s.{0}), count(l.{0}) FROM {shadow}.{table} s FULL JOIN {live}.{table} l
                     ON {on} WHERE ROW(s.*) IS DISTINCT FROM ROW(l.*)",
                key[0]
            );
            sqlx::query_as(&sql).fetch_one(&mut **c).await?
        }
        ViewTx::Sqlite(c) => {
            let except = |from: &str, to: &str| {
                format!("SELECT count(*) FROM (SELECT * FROM {from}.{table} EXCEPT SELECT * FROM {to}.{table})")
            };
            let sql = format!(
                "SELECT ({}), ({})",
                except(shadow, live),
                except(live, shadow)
            );
            sqlx::query_as(&sql).fetch_one(&mut **c).await?
        }
    };
    Ok(TableDifference {
        table: table.to_string(),
        only_in_rebuilt,
        only_in_live,
    })
}
