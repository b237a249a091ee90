//! **notifications**: one row per notification sent, in `notifications` — to whom, what
//! it said, why, when, and the correlation id of the request that caused it.
//!
//! Only `NotificationSent` changes it: it inserts the row, keyed by the notification's
//! aggregate id. The mypage view keeps the same rows per user in `mypage_notifications`
//! through [`notification_insert`] and [`apply_to`].

use domain::notification::NotificationEvent;

use crate::event::{timestamp, BusinessEvent, LogEvent};
use crate::sql::{Arg, ViewTx};

/// The insert of one notification into the table `$table`: `$1` notification_id,
/// `$2` user_id, `$3` contents, `$4` cause, `$5` send_dtm, `$6` correlation_id,
/// `$7` position, `$8` updated_at.
macro_rules! notification_insert {
    ($table:literal) => {
        concat!(
            "INSERT INTO ",
            $table,
            " (notification_id, user_id, contents, cause, send_dtm, \
             correlation_id, position, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (notification_id) DO UPDATE SET user_id = excluded.user_id, \
             contents = excluded.contents, cause = excluded.cause, \
             send_dtm = excluded.send_dtm, correlation_id = excluded.correlation_id, \
             position = excluded.position, updated_at = excluded.updated_at \
             WHERE ",
            $table,
            ".position < $7"
        )
    };
}
pub(super) use notification_insert;

/// The notifications view's insert.
const INSERT: &str = notification_insert!("notifications");

pub(super) async fn apply(
    tx: &mut ViewTx<'_>,
    event: &LogEvent,
    business: &BusinessEvent,
) -> Result<(), sqlx::Error> {
    apply_to(INSERT, tx, event, business).await
}

/// Inserts a sent notification with `insert` (a [`notification_insert`]); other events
/// change nothing.
pub(super) async fn apply_to(
    insert: &str,
    tx: &mut ViewTx<'_>,
    event: &LogEvent,
    business: &BusinessEvent,
) -> Result<(), sqlx::Error> {
    let BusinessEvent::Notification(NotificationEvent::NotificationSent {
        user_id,
        contents,
        cause,
        send_dtm,
    }) = business
    else {
        return Ok(());
    };
    let send_dtm = timestamp(send_dtm);
    let updated_at = event.recorded_at_text();
    let args = [
        Arg::Text(&event.aggregate_id),
        Arg::Text(user_id),
        Arg::Text(contents),
        Arg::Text(cause),
        Arg::Text(&send_dtm),
        event.correlation_id().map_or(Arg::Null, Arg::Text),
        Arg::Int(event.position),
        Arg::Text(&updated_at),
    ];
    tx.execute(insert, &args).await?;
    Ok(())
}
