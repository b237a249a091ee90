//! Set-based batches: a batch changes a view's table with at most two round trips
//! whatever its size. The rows its events touch are read with one statement (but for
//! rows the batch itself starts), the events are folded into them in memory in reading
//! order, and the rows that changed are written back with one upsert. Rows travel as one JSON array parameter, which both stores
//! can turn into rows (`jsonb_to_recordset`, `json_each`), so one Rust path serves both.
//!
//! No `position` guard is needed on writes: a batch runs under its view's locked
//! checkpoint, so nothing else writes the table meanwhile and no event is applied twice.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::marker::PhantomData;

use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::FromRow;

use super::{ApplyError, DecodedEvent};
use crate::event::{BusinessEvent, LogEvent};
use crate::sql::{Arg, ViewTx};

/// A kind of view row: its columns, and how events change it.
pub(crate) trait ViewRow:
    Serialize + Send + Unpin + for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow>
{
    /// The row's columns in table order with their PostgreSQL types; the first is the
    /// key. Field names equal column names.
    const COLUMNS: &'static [(&'static str, &'static str)];

    /// The row's key.
    fn id(&self) -> &str;

    /// The key of the row the event changes, if it changes one.
    fn key_of(event: &LogEvent, business: &BusinessEvent) -> Option<String>;

    /// True for an event that starts its row afresh (`OrderPlaced`, …), whatever the
    /// table held: when it comes first in a batch, its row need not be read.
    fn starts_row(business: &BusinessEvent) -> bool;

    /// Applies the event to its row (`None` while the table has no such row). An error
    /// says why the event cannot be applied: it is poison.
    fn apply(
        row: &mut Option<Self>,
        event: &LogEvent,
        business: &BusinessEvent,
    ) -> Result<(), String>;
}

/// One table of rows of kind `R`.
pub(crate) struct Table<R> {
    name: &'static str,
    /// A column the table has beyond `R`'s, and the column of `R` it copies
    /// (mypage's `user_id`, the owner of the row).
    owner: Option<(&'static str, &'static str)>,
    row: PhantomData<fn() -> R>,
}

/// How the SQL of a store turns a JSON array parameter into rows.
#[derive(Clone, Copy)]
enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    fn of(tx: &ViewTx<'_>) -> Self {
        match tx {
            ViewTx::Postgres(_) => Self::Postgres,
            ViewTx::Sqlite(_) => Self::Sqlite,
        }
    }
}

/// `SELECT`s the elements of the JSON array of strings bound as `$1`.
pub(crate) fn json_strings(tx: &ViewTx<'_>) -> &'static str {
    match Dialect::of(tx) {
        Dialect::Postgres => "SELECT jsonb_array_elements_text($1::jsonb)",
        Dialect::Sqlite => "SELECT value FROM json_each($1)",
    }
}

impl<R: ViewRow> Table<R> {
    pub(crate) const fn new(name: &'static str) -> Self {
        Self {
            name,
            owner: None,
            row: PhantomData,
        }
    }

    /// The table, with an `owner` column holding the row's `source` column.
    pub(crate) const fn owned_by(self, owner: &'static str, source: &'static str) -> Self {
        Self {
            owner: Some((owner, source)),
            ..self
        }
    }

    /// Applies the events, in order, to the rows they touch.
    pub(crate) async fn apply(
        &self,
        tx: &mut ViewTx<'_>,
        events: &[DecodedEvent<'_>],
    ) -> Result<(), ApplyError> {
        let mut rows: HashMap<String, Option<R>> = HashMap::new();
        let mut stored = Vec::new();
        for DecodedEvent { event, business } in events {
            if let Some(key) = R::key_of(event, business) {
                if let Entry::Vacant(entry) = rows.entry(key) {
                    if !R::starts_row(business) {
                        stored.push(entry.key().clone());
                    }
                    entry.insert(None);
                }
            }
        }
        if !stored.is_empty() {
            for row in self.load(tx, &stored).await? {
                rows.insert(row.id().to_owned(), Some(row));
            }
        }
        let mut changed = Vec::new();
        for DecodedEvent { event, business } in events {
            let Some(key) = R::key_of(event, business) else {
                continue;
            };
            let row = rows.entry(key.clone()).or_default();
            R::apply(row, event, business).map_err(|reason| ApplyError::Unappliable {
                position: event.position,
                reason,
            })?;
            if row.is_some() {
                changed.push(key);
            }
        }
        changed.sort_unstable();
        changed.dedup();
        let changed: Vec<&R> = changed
            .iter()
            .filter_map(|key| rows[key].as_ref())
            .collect();
        self.upsert(tx, &changed).await
    }

    async fn load(&self, tx: &mut ViewTx<'_>, keys: &[String]) -> Result<Vec<R>, sqlx::Error> {
        let keys =
            serde_json::to_string(keys).map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
        let columns = self.columns().collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {columns} FROM {} WHERE {} IN ({})",
            self.name,
            R::COLUMNS[0].0,
            json_strings(tx)
        );
        Ok(match tx {
            ViewTx::Postgres(c) => sqlx::query_as(&sql).bind(keys).fetch_all(&mut **c).await?,
            ViewTx::Sqlite(c) => sqlx::query_as(&sql).bind(keys).fetch_all(&mut **c).await?,
        })
    }

    async fn upsert(&self, tx: &mut ViewTx<'_>, rows: &[&R]) -> Result<(), ApplyError> {
        if rows.is_empty() {
            return Ok(());
        }
        let rows =
            serde_json::to_string(rows).map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
        tx.execute(&self.upsert_sql(Dialect::of(tx)), &[Arg::Text(&rows)])
            .await
            .map_err(ApplyError::Refused)?;
        Ok(())
    }

    /// `INSERT … SELECT` from the JSON array `$1`, replacing rows with the same key.
    fn upsert_sql(&self, dialect: Dialect) -> String {
        let owner = self.owner.iter();
        let targets: Vec<&str> = self
            .columns()
            .chain(owner.clone().map(|(owner, _)| *owner))
            .collect();
        let sources = self.columns().chain(owner.map(|(_, source)| *source));
        let (values, from) = match dialect {
            Dialect::Postgres => {
                let record = R::COLUMNS
                    .iter()
                    .map(|(column, sql_type)| format!("{column} {sql_type}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let values = sources.collect::<Vec<_>>().join(", ");
                (
                    values,
                    format!("jsonb_to_recordset($1::jsonb) AS r({record})"),
                )
            }
            Dialect::Sqlite => {
                let values = sources
                    .map(|column| format!("json_extract(value, '$.{column}')"))
                    .collect::<Vec<_>>()
                    .join(", ");
                // `WHERE true` tells SQLite's parser the ON CONFLICT is the upsert's.
                (values, "json_each($1) WHERE true".to_string())
            }
        };
        let key = R::COLUMNS[0].0;
        let updates = targets
            .iter()
            .filter(|column| **column != key)
            .map(|column| format!("{column} = excluded.{column}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "INSERT INTO {} ({}) SELECT {values} FROM {from} ON CONFLICT ({key}) DO UPDATE SET {updates}",
            self.name,
            targets.join(", ")
        )
    }

    fn columns(&self) -> impl Iterator<Item = &'static str> + Clone {
        R::COLUMNS.iter().map(|(column, _)| *column)
    }
}
