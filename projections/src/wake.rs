//! Signals between processes through PostgreSQL `LISTEN/NOTIFY`: command processes
//! announce commits to projector workers ([`EVENTS`]), projector processes announce
//! committed batches to read APIs waiting for a position ([`PROGRESS`]).
//!
//! Nothing notifies inside a commit (a `NOTIFY` in every commit serialises commits on
//! PostgreSQL's notification queue lock). Instead one task per process follows its
//! in-process signal and sends one `NOTIFY` per burst: while a notify is in flight,
//! further changes coalesce into the next one.

use connections::HeldConnections;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;

/// Commits are announced here; the payload is the last position.
pub const EVENTS: &str = "strata_events";
/// Projector batches are announced here; the payload only changes.
pub const PROGRESS: &str = "strata_progress";

/// Announces every change of `signal` on `channel` until `signal` closes, on
/// `connections` (kept between statements while announcements follow each other).
pub async fn announce<T: ToString>(
    connections: HeldConnections,
    channel: &'static str,
    mut signal: watch::Receiver<T>,
) {
    while signal.changed().await.is_ok() {
        let payload = signal.borrow_and_update().to_string();
        let sent = async {
            let mut kept = connections.take().await?;
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(channel)
                .bind(payload)
                .execute(&mut *kept)
                .await?;
            connections.give_back(kept);
            Ok::<_, sqlx::Error>(())
        };
        if let Err(error) = sent.await {
            tracing::debug!(%error, channel, "could not announce; listeners will poll");
        }
    }
}

/// Follows the announcements on `channel`: the receiver changes on each one. When the
/// connection drops, `PgListener` reconnects; listeners poll meanwhile.
pub async fn listen(
    pool: &PgPool,
    channel: &'static str,
) -> Result<watch::Receiver<i64>, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    let (sender, receiver) = watch::channel(0);
    tokio::spawn(async move {
        loop {
            match listener.recv().await {
                Ok(notification) => {
                    let payload = notification.payload().parse().unwrap_or_default();
                    if sender.send(payload).is_err() {
                        return;
                    }
                }
                Err(error) => {
                    tracing::debug!(%error, channel, "listener interrupted; reconnecting");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
            }
        }
    });
    Ok(receiver)
}

/// Resolves when `signal` changes; never when there is no signal or its sender is gone
/// (the worker's poll goes on). What a worker waits on beside its poll.
pub async fn changed(signal: &mut Option<watch::Receiver<i64>>) {
    if let Some(receiver) = signal {
        if receiver.changed().await.is_ok() {
            return;
        }
    }
    std::future::pending().await
}
