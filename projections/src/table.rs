//! Views made of tables of rows, and set-based batches over them: a batch changes a
//! table with at most two round trips whatever its size. The rows its events touch are
//! read with one statement (but for rows the batch itself starts), the events are folded
//! into them in memory in reading order, and the rows that changed are written back with
//! one upsert. Rows travel as one JSON array parameter (their API form, camelCase),
//! which both stores can turn into rows (`jsonb_to_recordset`, `json_each`), so one Rust
//! path serves both.
//!
//! A row type is the one definition of its view's columns: the projector writes it, the
//! read API reads and serves it ([`ViewRow`]).
//!
//! No `position` guard is needed on writes: a batch runs under its view's locked
//! checkpoint, so nothing else writes the table meanwhile and no event is applied twice.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::marker::PhantomData;

use futures::future::BoxFuture;
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::FromRow;

use crate::event::LogEvent;
use crate::sql::{Arg, ViewTx};
use crate::view::{ApplyError, View};

/// A kind of view row, as stored and as the read API serves it.
pub trait ViewRow:
    Serialize + Send + Sync + Unpin + for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow>
{
    /// The row's columns in table order with their PostgreSQL types; the first is the
    /// key. Field names equal column names (serialized in camelCase).
    const COLUMNS: &'static [(&'static str, &'static str)];
    /// The column naming the user the row belongs to, the only customer who may read it;
    /// `None` for rows every caller may read (a catalogue).
    const OWNER: Option<&'static str>;

    /// The row's key.
    fn key(&self) -> &str;
    /// The user the row belongs to, if it belongs to one.
    fn owner(&self) -> Option<&str>;
    /// The global position of the last event applied to the row.
    fn position(&self) -> i64;
    /// When the last event applied to the row was recorded.
    fn updated_at(&self) -> &str;

    /// The select list of the row's columns.
    fn select_list() -> String {
        let columns: Vec<&str> = Self::COLUMNS.iter().map(|(column, _)| *column).collect();
        columns.join(", ")
    }
}

/// The events of one context, decoded from the log into its own event types.
pub trait ContextEvent: Sized + Send + Sync {
    /// The aggregate types whose events these are.
    const AGGREGATE_TYPES: &'static [&'static str];

    /// The event as this context's type; `None` for an aggregate type it does not know.
    fn decode(event: &LogEvent) -> Result<Option<Self>, serde_json::Error>;
}

/// A log event with its decoded context event.
pub struct Decoded<'a, E> {
    pub event: &'a LogEvent,
    pub business: E,
}

/// Decodes the events of a batch; one that cannot be decoded is poison.
pub fn decode_all<'a, E: ContextEvent>(
    events: &[&'a LogEvent],
) -> Result<Vec<Decoded<'a, E>>, ApplyError> {
    let mut decoded = Vec::with_capacity(events.len());
    for &event in events {
        match E::decode(event) {
            Ok(Some(business)) => decoded.push(Decoded { event, business }),
            Ok(None) => {}
            Err(error) => {
                return Err(ApplyError::Unappliable {
                    position: event.position,
                    reason: format!("undecodable {}: {error}", event.event_type),
                })
            }
        }
    }
    Ok(decoded)
}

/// How events change rows of a kind.
pub trait Projected: ViewRow {
    /// The events that change the rows.
    type Event: ContextEvent;

    /// The key of the row the event changes, if it changes one.
    fn key_of(event: &LogEvent, business: &Self::Event) -> Option<String>;

    /// True for an event that starts its row afresh (`OrderPlaced`, …), whatever the
    /// table held: when it comes first in a batch, its row need not be read.
    fn starts_row(business: &Self::Event) -> bool;

    /// Applies the event to its row (`None` while the table has no such row). An error
    /// says why the event cannot be applied: it is poison.
    fn apply(
        row: &mut Option<Self>,
        event: &LogEvent,
        business: &Self::Event,
    ) -> Result<(), String>;
}

/// One table of rows of kind `R`.
pub struct Table<R> {
    name: &'static str,
    /// A column the table has beyond `R`'s, and the column of `R` it copies (a mypage
    /// section's `user_id`, the owner of the row).
    owner: Option<(&'static str, &'static str)>,
    row: PhantomData<fn() -> R>,
}

/// A view of one table: its name and the table.
pub struct TableView<R> {
    name: &'static str,
    tables: [&'static str; 1],
    table: Table<R>,
}

impl<R> TableView<R> {
    pub const fn new(name: &'static str, table: Table<R>) -> Self {
        Self {
            name,
            tables: [table.name],
            table,
        }
    }
}

impl<R: Projected> View for TableView<R> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn reads(&self) -> &[&'static str] {
        R::Event::AGGREGATE_TYPES
    }

    fn tables(&self) -> &[&'static str] {
        &self.tables
    }

    fn apply_batch<'a>(
        &'a self,
        tx: &'a mut ViewTx<'_>,
        events: &'a [&'a LogEvent],
    ) -> BoxFuture<'a, Result<(), ApplyError>> {
        Box::pin(async move {
            let decoded = decode_all::<R::Event>(events)?;
            self.table.apply(tx, &decoded).await
        })
    }
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
pub fn json_strings(tx: &ViewTx<'_>) -> &'static str {
    match Dialect::of(tx) {
        Dialect::Postgres => "SELECT jsonb_array_elements_text($1::jsonb)",
        Dialect::Sqlite => "SELECT value FROM json_each($1)",
    }
}

/// The key a column's value has in a row's JSON (its camelCase field name).
fn json_key(column: &str) -> String {
    let mut key = String::with_capacity(column.len());
    let mut upper = false;
    for c in column.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                key.extend(c.to_uppercase());
                upper = false;
            }
            c => key.push(c),
        }
    }
    key
}

impl<R: Projected> Table<R> {
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            owner: None,
            row: PhantomData,
        }
    }

    /// The table, with an `owner` column holding the row's `source` column.
    pub const fn owned_by(self, owner: &'static str, source: &'static str) -> Self {
        Self {
            owner: Some((owner, source)),
            ..self
        }
    }

    /// Applies the events, in order, to the rows they touch.
    pub async fn apply(
        &self,
        tx: &mut ViewTx<'_>,
        events: &[Decoded<'_, R::Event>],
    ) -> Result<(), ApplyError> {
        let mut rows: HashMap<String, Option<R>> = HashMap::new();
        let mut stored = Vec::new();
        for Decoded { event, business } in events {
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
                rows.insert(row.key().to_owned(), Some(row));
            }
        }
        let mut changed = Vec::new();
        for Decoded { event, business } in events {
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
        let sql = format!(
            "SELECT {} FROM {} WHERE {} IN ({})",
            R::select_list(),
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
                    .map(|(column, sql_type)| format!("\"{}\" {sql_type}", json_key(column)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let values = sources
                    .map(|column| format!("\"{}\"", json_key(column)))
                    .collect::<Vec<_>>()
                    .join(", ");
                (
                    values,
                    format!("jsonb_to_recordset($1::jsonb) AS r({record})"),
                )
            }
            Dialect::Sqlite => {
                let values = sources
                    .map(|column| format!("json_extract(value, '$.{}')", json_key(column)))
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

#[cfg(test)]
mod tests {
    use super::json_key;

    #[test]
    fn a_columns_json_key_is_its_camel_case_name() {
        assert_eq!(json_key("order_id"), "orderId");
        assert_eq!(json_key("use_start_dtm"), "useStartDtm");
        assert_eq!(json_key("position"), "position");
    }
}
