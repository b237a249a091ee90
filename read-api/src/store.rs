//! The view tables on either database, and their rows as the API shows them (SPEC §3,
//! camelCase). Every statement here reads a view table or `projection_checkpoints`;
//! whether a view has applied a position, the projector's own check answers
//! ([`projections::applied`]).

use projections::applied;
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, PgPool, SqlitePool};
use utoipa::ToSchema;

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

/// A kind of view row: the table columns it is read from, and its key.
pub trait ViewRow:
    Serialize + Send + Unpin + for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow>
{
    /// The select list; the first column is the key.
    const COLUMNS: &'static str;
    /// The key column.
    const KEY: &'static str;
    /// The column naming the customer the row belongs to.
    const OWNER: &'static str;

    fn key(&self) -> &str;
    /// The customer the row belongs to: the only one of them who may read it.
    fn owner(&self) -> &str;
    /// The global position of the last event applied to the row.
    fn position(&self) -> i64;
}

/// Which rows of a table a read wants: equal to each filter, after a key, at most so many.
pub struct RowQuery<'a> {
    pub table: &'static str,
    pub filters: Vec<(&'static str, Arg)>,
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
        if let Some(after) = &self.after {
            args.push(Arg::Text(after.clone()));
            conditions.push(format!("{} > ${}", R::KEY, args.len()));
        }
        let mut sql = format!(
            "SELECT {}, ({CHECKPOINT_POSITION}) AS view_position FROM {}",
            R::COLUMNS,
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
            filters: vec![(R::KEY, Arg::Text(key.to_string()))],
            after: None,
            order_by: R::KEY,
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

/// A row of orderList (and of a mypage's orders).
#[derive(Debug, Serialize, FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderRow {
    pub order_id: String,
    pub customer_id: String,
    pub product: String,
    pub qty: i64,
    pub price: i64,
    pub pay_method: String,
    pub order_status: String,
    pub cancelled_by: Option<String>,
    pub payment_id: Option<String>,
    pub payment_status: Option<String>,
    pub delivery_id: Option<String>,
    pub delivery_status: Option<String>,
    pub position: i64,
    pub updated_at: String,
}

impl ViewRow for OrderRow {
    const COLUMNS: &'static str = "order_id, customer_id, product, qty, price, pay_method, \
        order_status, cancelled_by, payment_id, payment_status, delivery_id, delivery_status, \
        position, updated_at";
    const KEY: &'static str = "order_id";
    const OWNER: &'static str = "customer_id";

    fn key(&self) -> &str {
        &self.order_id
    }

    fn owner(&self) -> &str {
        &self.customer_id
    }

    fn position(&self) -> i64 {
        self.position
    }
}

/// A row of bookingList (and of a mypage's bookings).
#[derive(Debug, Serialize, FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookingRow {
    pub booking_id: String,
    pub room_id: i64,
    pub use_start_dtm: String,
    pub use_end_dtm: String,
    pub booking_user_id: String,
    pub booking_dtm: String,
    pub booking_status: String,
    pub confirm_id: Option<String>,
    pub confirm_status: Option<String>,
    pub confirm_dtm: Option<String>,
    pub confirm_user_id: Option<String>,
    pub position: i64,
    pub updated_at: String,
}

impl ViewRow for BookingRow {
    const COLUMNS: &'static str = "booking_id, room_id, use_start_dtm, use_end_dtm, \
        booking_user_id, booking_dtm, booking_status, confirm_id, confirm_status, confirm_dtm, \
        confirm_user_id, position, updated_at";
    const KEY: &'static str = "booking_id";
    const OWNER: &'static str = "booking_user_id";

    fn key(&self) -> &str {
        &self.booking_id
    }

    fn owner(&self) -> &str {
        &self.booking_user_id
    }

    fn position(&self) -> i64 {
        self.position
    }
}

/// A row of notifications (and of a mypage's latest notifications).
#[derive(Debug, Serialize, FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationRow {
    pub notification_id: String,
    pub user_id: String,
    pub contents: String,
    pub cause: String,
    pub send_dtm: String,
    pub correlation_id: Option<String>,
    pub position: i64,
    pub updated_at: String,
}

impl ViewRow for NotificationRow {
    const COLUMNS: &'static str =
        "notification_id, user_id, contents, cause, send_dtm, correlation_id, position, updated_at";
    const KEY: &'static str = "notification_id";
    const OWNER: &'static str = "user_id";

    fn key(&self) -> &str {
        &self.notification_id
    }

    fn owner(&self) -> &str {
        &self.user_id
    }

    fn position(&self) -> i64 {
        self.position
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filtered_page_numbers_its_binds_in_order() {
        let query = RowQuery {
            table: "order_list",
            filters: vec![
                ("customer_id", Arg::Text("kim".into())),
                ("order_status", Arg::Text("PLACED".into())),
            ],
            after: Some("k".into()),
            order_by: OrderRow::KEY,
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
