//! One SQL text for both stores: view updaters write `$1, $2, …` (numbered in order of
//! first use) and plain types, which PostgreSQL and SQLite both accept, and run it
//! through [`ViewTx`] on whichever connection the worker holds.

use sqlx::{PgConnection, SqliteConnection};

/// A value bound to a statement.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Text(&'a str),
    Int(i64),
}

/// The transaction a batch runs in, on either store.
pub enum ViewTx<'t> {
    Postgres(&'t mut PgConnection),
    Sqlite(&'t mut SqliteConnection),
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match *arg {
                Arg::Text(text) => query.bind(text),
                Arg::Int(number) => query.bind(number),
            };
        }
        query
    }};
}

impl ViewTx<'_> {
    /// The first column of the first row a query returns, as text.
    pub async fn fetch_text(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Option<String>, sqlx::Error> {
        Ok(match self {
            Self::Postgres(connection) => {
                bind_all!(sqlx::query_scalar(sql), args)
                    .fetch_optional(&mut **connection)
                    .await?
            }
            Self::Sqlite(connection) => {
                bind_all!(sqlx::query_scalar(sql), args)
                    .fetch_optional(&mut **connection)
                    .await?
            }
        })
    }

    /// The first column of every row a query returns, as text.
    pub async fn fetch_texts(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<String>, sqlx::Error> {
        Ok(match self {
            Self::Postgres(connection) => {
                bind_all!(sqlx::query_scalar(sql), args)
                    .fetch_all(&mut **connection)
                    .await?
            }
            Self::Sqlite(connection) => {
                bind_all!(sqlx::query_scalar(sql), args)
                    .fetch_all(&mut **connection)
                    .await?
            }
        })
    }

    /// Runs a statement; returns the number of rows it changed.
    pub async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Self::Postgres(connection) => bind_all!(sqlx::query(sql), args)
                .execute(&mut **connection)
                .await?
                .rows_affected(),
            Self::Sqlite(connection) => bind_all!(sqlx::query(sql), args)
                .execute(&mut **connection)
                .await?
                .rows_affected(),
        })
    }
}
