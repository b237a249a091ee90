//! Waking projector workers in other processes through PostgreSQL `LISTEN/NOTIFY`.
//!
//! Writers do not notify per append (a `NOTIFY` in every commit serialises commits on
//! PostgreSQL's notification queue lock). Instead one task per command process follows
//! the in-process "appended" signal and sends one `NOTIFY` per burst: while a notify is
//! in flight, further appends coalesce into the next one.

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;

/// The channel strata's commits are announced on; the payload is the last position.
pub const CHANNEL: &str = "strata_events";

/// Announces this process's commits to other processes until `appended` closes.
pub async fn announce(pool: PgPool, mut appended: watch::Receiver<i64>) {
    while appended.changed().await.is_ok() {
        let position = *appended.borrow_and_update();
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(position.to_string())
            .execute(&pool)
            .await;
        if let Err(error) = sent {
            tracing::debug!(%error, "could not announce appended events; workers will poll");
        }
    }
}

/// Follows other processes' announcements: the receiver changes on each one. When the
/// connection drops, `PgListener` reconnects; workers poll meanwhile.
pub async fn listen(pool: &PgPool) -> Result<watch::Receiver<i64>, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    let (sender, receiver) = watch::channel(0);
    tokio::spawn(async move {
        loop {
            match listener.recv().await {
                Ok(notification) => {
                    let position = notification.payload().parse().unwrap_or_default();
                    if sender.send(position).is_err() {
                        return;
                    }
                }
                Err(error) => {
                    tracing::debug!(%error, "listener interrupted; reconnecting");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
            }
        }
    });
    Ok(receiver)
}
