//! The read side of the time-slot guard: which resources are free over `[from, to)`,
//! and which ranges of one resource are taken (without their holders), answered from a
//! view table that keeps each holder's resource, interval and status. A view lags the
//! log, so "free" is a good guess; the command API's guard has the last word.

use std::hash::{DefaultHasher, Hash, Hasher};

use projections::View;

use crate::store::{Condition, ViewStore};

/// A view of holders, one table: the columns naming each one's resource and interval
/// (stored as text whose order is time order), and which status marks an active one.
pub struct TakenRanges {
    pub view: &'static dyn View,
    pub resource: &'static str,
    pub start: &'static str,
    pub end: &'static str,
    /// The status column and the value of an active holder (`booking_status`, `BOOKED`).
    pub active: (&'static str, &'static str),
}

impl TakenRanges {
    fn table(&self) -> &'static str {
        self.view.tables()[0]
    }

    /// Rows (of a list read) whose resource has no active holder overlapping
    /// `[from, to)`.
    pub fn free_over(&'static self, from: String, to: String) -> Condition {
        Condition::FreeOver {
            taken: self,
            from,
            to,
        }
    }

    /// The SQL condition that `resource` (a qualified column) has no active holder
    /// overlapping the interval bound to `$to_bind` (its end) and `$to_bind + 1` (its
    /// start): half-open, so back-to-back intervals do not overlap.
    pub(crate) fn none_overlapping(&self, resource: &str, to_bind: usize) -> String {
        let (status, active) = self.active;
        format!(
            "NOT EXISTS (SELECT 1 FROM {table} AS taken WHERE taken.{column} = {resource} \
             AND taken.{status} = '{active}' AND taken.{start} < ${to_bind} \
             AND taken.{end} > ${from_bind})",
            table = self.table(),
            column = self.resource,
            start = self.start,
            end = self.end,
            from_bind = to_bind + 1,
        )
    }

    /// The intervals `[start, end)` of `resource`'s active holders that end after
    /// `after`, in start order.
    pub async fn of(
        &self,
        store: &ViewStore,
        resource: &str,
        after: &str,
    ) -> Result<Vec<(String, String)>, sqlx::Error> {
        let (status, active) = self.active;
        let sql = format!(
            "SELECT {start}, {end} FROM {table} WHERE {column} = $1 AND {status} = '{active}' \
             AND {end} > $2 ORDER BY {start}",
            table = self.table(),
            column = self.resource,
            start = self.start,
            end = self.end,
        );
        match store {
            ViewStore::Postgres(pool) => {
                sqlx::query_as(&sql)
                    .bind(resource)
                    .bind(after)
                    .fetch_all(pool)
                    .await
            }
            ViewStore::Sqlite(pool) => {
                sqlx::query_as(&sql)
                    .bind(resource)
                    .bind(after)
                    .fetch_all(pool)
                    .await
            }
        }
    }
}

/// The ETag version of a resource read with its taken ranges: a new holder changes the
/// response though not the resource's row. The hash is SipHash with fixed keys, the
/// same in every process of one build.
pub fn version(resource_position: i64, ranges: &[(String, String)]) -> String {
    let mut hasher = DefaultHasher::new();
    ranges.hash(&mut hasher);
    format!("{resource_position}-{:x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use projections::booking::BOOKING_LIST;

    use super::*;

    static BOOKINGS: TakenRanges = TakenRanges {
        view: &BOOKING_LIST,
        resource: "room_id",
        start: "use_start_dtm",
        end: "use_end_dtm",
        active: ("booking_status", "CREATED"),
    };

    #[test]
    fn a_free_resource_has_no_active_holder_overlapping_the_half_open_interval() {
        assert_eq!(
            BOOKINGS.none_overlapping("rooms.room_id", 3),
            "NOT EXISTS (SELECT 1 FROM booking_list AS taken WHERE taken.room_id = \
             rooms.room_id AND taken.booking_status = 'CREATED' AND taken.use_start_dtm < $3 \
             AND taken.use_end_dtm > $4)"
        );
    }
}
