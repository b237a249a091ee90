//! The view tables on either database. Every statement here reads a view table or
//! `projection_checkpoints`; the rows are the views' own row types
//! ([`projections::table::ViewRow`]), and whether a view has applied a position, the
//! projector's own check answers ([`projections::applied`]).

use projections::table::ViewRow;
use projections::{applied, LogPoint};
use sqlx::{FromRow, PgPool, SqlitePool};

use crate::time_slots::TakenRanges;

/// Where the views live: the event store's own database.
#[derive(Clone)]
pub enum ViewStore {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// A value bound to a statement.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
}

/// What a list read asks of a row beyond equal columns.
#[derive(Clone)]
pub enum Condition {
    /// The column is at most the value (a price ceiling).
    AtMost(&'static str, Arg),
    /// The row's resource (its key) has no active holder in `taken` overlapping
    /// `[from, to)`, both in the stored form of `taken`'s bounds.
    FreeOver {
        taken: &'static TakenRanges,
        from: String,
        to: String,
    },
}

/// Which rows of a table a read wants: equal to each filter, meeting each condition,
/// after a key, at most so many.
pub struct RowQuery<'a> {
    pub table: &'static str,
    pub filters: Vec<(&'static str, Arg)>,
    pub conditions: Vec<Condition>,
    pub after: Option<String>,
    pub order_by: &'a str,
    pub limit: Option<i64>,
}

impl RowQuery<'_> {
    /// `SELECT … WHERE … ORDER BY … LIMIT …` with its binds numbered in order; each row
    /// also carries `view`'s position as `view_position`, read in the same snapshot.
    fn to_sql<R: ViewRow>(&self, view: &str) -> (String, Vec<Arg>) {
        let mut args: Vec<Arg> = vec![Arg::Text(view.to_string())];
        let mut conditions = Vec::new();
        for (column, value) in &self.filters {
            args.push(value.clone());
            conditions.push(format!("{column} = ${}", args.len()));
        }
        for condition in &self.conditions {
            match condition {
                Condition::AtMost(column, value) => {
                    args.push(value.clone());
                    conditions.push(format!("{column} <= ${}", args.len()));
                }
                Condition::FreeOver { taken, from, to } => {
                    args.push(Arg::Text(to.clone()));
                    args.push(Arg::Text(from.clone()));
                    let resource = format!("{}.{}", self.table, key::<R>());
                    conditions.push(taken.none_overlapping(&resource, args.len() - 1));
                }
            }
        }
        if let Some(after) = &self.after {
            args.push(Arg::Text(after.clone()));
            conditions.push(format!("{} > ${}", key::<R>(), args.len()));
        }
        let mut sql = format!(
            "SELECT {}, ({CHECKPOINT_POSITION}) AS view_position FROM {}",
            R::select_list(),
            self.table
        );
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(" ORDER BY ");
        sql.push_str(self.order_by);
        if let Some(limit) = self.limit {
            args.push(Arg::Int(limit));
            sql.push_str(&format!(" LIMIT ${}", args.len()));
        }
        (sql, args)
    }
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(text) => query.bind(text),
                Arg::Int(number) => query.bind(number),
            };
        }
        query
    }};
}

const CHECKPOINT_POSITION: &str = "SELECT position FROM projection_checkpoints WHERE name = $1";

impl ViewStore {
    /// The rows `query` selects from one of `view`'s tables, and the view's position,
    /// in one statement (a second only when no row matches).
    pub async fn rows<R: ViewRow>(
        &self,
        view: &str,
        query: &RowQuery<'_>,
    ) -> Result<(Vec<R>, i64), sqlx::Error> {
        let (sql, args) = query.to_sql::<R>(view);
        let (rows, position) = match self {
            Self::Postgres(pool) => {
                let rows = bind_all!(sqlx::query(&sql), args).fetch_all(pool).await?;
                positioned::<sqlx::Postgres, R>(&rows)?
            }
            Self::Sqlite(pool) => {
                let rows = bind_all!(sqlx::query(&sql), args).fetch_all(pool).await?;
                positioned::<sqlx::Sqlite, R>(&rows)?
            }
        };
        match position {
            Some(position) => Ok((rows, position)),
            None => Ok((rows, self.position(view).await?)),
        }
    }

    /// The row of `view`'s `table` with this key, and the view's position.
    pub async fn row<R: ViewRow>(
        &self,
        view: &str,
        table: &'static str,
        key: &str,
    ) -> Result<(Option<R>, i64), sqlx::Error> {
        let query = RowQuery {
            table,
            filters: vec![(self::key::<R>(), Arg::Text(key.to_string()))],
            conditions: Vec::new(),
            after: None,
            order_by: self::key::<R>(),
            limit: None,
        };
        let (mut rows, position) = self.rows(view, &query).await?;
        Ok((rows.pop(), position))
    }

    /// Whether the view has applied every committed event up to `position`, as its
    /// projector decides it ([`projections::applied`]).
    pub async fn has_applied(&self, view: &str, position: i64) -> Result<bool, sqlx::Error> {
        match self {
            Self::Postgres(pool) => {
                applied::on_postgres(&mut *pool.acquire().await?, view, position).await
            }
            Self::Sqlite(pool) => {
                applied::on_sqlite(&mut *pool.acquire().await?, view, position).await
            }
        }
    }

    /// The position of the last event in the log: no write has a position beyond it.
    pub async fn head(&self) -> Result<i64, sqlx::Error> {
        match self {
            Self::Postgres(pool) => sqlx::query_scalar(applied::HEAD).fetch_one(pool).await,
            Self::Sqlite(pool) => sqlx::query_scalar(applied::HEAD).fetch_one(pool).await,
        }
    }

    /// Whether the log here holds an event at `position` (none at a position a
    /// rolled-back commit used up).
    pub async fn holds(&self, position: i64) -> Result<bool, sqlx::Error> {
        match self {
            Self::Postgres(pool) => {
                sqlx::query_scalar(applied::HOLDS)
                    .bind(position)
                    .fetch_one(pool)
                    .await
            }
            Self::Sqlite(pool) => {
                sqlx::query_scalar(applied::HOLDS)
                    .bind(position)
                    .fetch_one(pool)
                    .await
            }
        }
    }

    /// Every view's and policy's checkpoint, by name: where it stands in the log's
    /// reading order.
    pub async fn checkpoints(&self) -> Result<Vec<(String, LogPoint)>, sqlx::Error> {
        const ALL: &str = "SELECT name, transaction_id, position FROM projection_checkpoints";
        let rows: Vec<(String, i64, i64)> = match self {
            Self::Postgres(pool) => sqlx::query_as(ALL).fetch_all(pool).await?,
            Self::Sqlite(pool) => sqlx::query_as(ALL).fetch_all(pool).await?,
        };
        Ok(rows
            .into_iter()
            .map(|(name, transaction_id, position)| {
                let point = LogPoint {
                    transaction_id,
                    position,
                };
                (name, point)
            })
            .collect())
    }

    /// The users whose rows of `table` (a table keyed by `user_id`) changed by events
    /// after `after` up to `upto` in the log's reading order: on PostgreSQL positions
    /// commit out of order, so a row's change is placed by its event's
    /// `(transaction_id, position)`, as the views read the log (ADR 3).
    pub async fn changed_users(
        &self,
        table: &str,
        after: LogPoint,
        upto: LogPoint,
    ) -> Result<Vec<String>, sqlx::Error> {
        match self {
            Self::Postgres(pool) => {
                let sql = format!(
                    "SELECT DISTINCT t.user_id FROM events e \
                       JOIN {table} t ON t.position = e.global_position \
                      WHERE (e.transaction_id, e.global_position) > ($1::text::xid8, $2) \
                        AND (e.transaction_id, e.global_position) <= ($3::text::xid8, $4)"
                );
                sqlx::query_scalar(&sql)
                    .bind(after.transaction_id)
                    .bind(after.position)
                    .bind(upto.transaction_id)
                    .bind(upto.position)
                    .fetch_all(pool)
                    .await
            }
            Self::Sqlite(pool) => {
                let sql = format!(
                    "SELECT DISTINCT user_id FROM {table} WHERE position > $1 AND position <= $2"
                );
                sqlx::query_scalar(&sql)
                    .bind(after.position)
                    .bind(upto.position)
                    .fetch_all(pool)
                    .await
            }
        }
    }

    /// Whether `user`'s rows of `table` (a table keyed by `user_id`) changed by events
    /// after `after` in the log's reading order.
    pub async fn changed_since(
        &self,
        table: &str,
        user: &str,
        after: LogPoint,
    ) -> Result<bool, sqlx::Error> {
        match self {
            Self::Postgres(pool) => {
                let sql = format!(
                    "SELECT EXISTS (SELECT 1 FROM {table} t \
                       JOIN events e ON e.global_position = t.position \
                      WHERE t.user_id = $1 \
                        AND (e.transaction_id, e.global_position) > ($2::text::xid8, $3))"
                );
                sqlx::query_scalar(&sql)
                    .bind(user)
                    .bind(after.transaction_id)
                    .bind(after.position)
                    .fetch_one(pool)
                    .await
            }
            Self::Sqlite(pool) => {
                let sql = format!(
                    "SELECT EXISTS (SELECT 1 FROM {table} WHERE user_id = $1 AND position > $2)"
                );
                sqlx::query_scalar(&sql)
                    .bind(user)
                    .bind(after.position)
                    .fetch_one(pool)
                    .await
            }
        }
    }

    /// The position of the last event the view has applied (0 before its first).
    pub async fn position(&self, view: &str) -> Result<i64, sqlx::Error> {
        let position = match self {
            Self::Postgres(pool) => {
                sqlx::query_scalar(CHECKPOINT_POSITION)
                    .bind(view)
                    .fetch_optional(pool)
                    .await?
            }
            Self::Sqlite(pool) => {
                sqlx::query_scalar(CHECKPOINT_POSITION)
                    .bind(view)
                    .fetch_optional(pool)
                    .await?
            }
        };
        Ok(position.unwrap_or(0))
    }
}

/// The rows decoded, and the `view_position` they carry (`None` without rows, or
/// before the view has a checkpoint).
fn positioned<'r, DB: sqlx::Database, R>(
    rows: &'r [DB::Row],
) -> Result<(Vec<R>, Option<i64>), sqlx::Error>
where
    R: FromRow<'r, DB::Row>,
    i64: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
    &'static str: sqlx::ColumnIndex<DB::Row>,
{
    use sqlx::Row;
    let position = match rows.first() {
        Some(row) => row.try_get::<Option<i64>, _>("view_position")?,
        None => None,
    };
    let rows = rows.iter().map(R::from_row).collect::<Result<_, _>>()?;
    Ok((rows, position))
}

/// The key column of rows of kind `R`.
pub fn key<R: ViewRow>() -> &'static str {
    R::COLUMNS[0].0
}

#[cfg(test)]
mod tests {
    use projections::shop::OrderRow;

    use super::*;

    #[test]
    fn a_filtered_page_numbers_its_binds_in_order() {
        let query = RowQuery {
            table: "order_list",
            filters: vec![
                ("customer_id", Arg::Text("kim".into())),
                ("order_status", Arg::Text("PLACED".into())),
            ],
            conditions: Vec::new(),
            after: Some("k".into()),
            order_by: key::<OrderRow>(),
            limit: Some(51),
        };
        let (sql, args) = query.to_sql::<OrderRow>("orderList");
        assert!(sql.contains("WHERE name = $1) AS view_position"), "{sql}");
        assert!(sql.ends_with(
            "FROM order_list WHERE customer_id = $2 AND order_status = $3 AND order_id > $4 \
             ORDER BY order_id LIMIT $5"
        ));
        assert_eq!(args.len(), 5);
    }
}
