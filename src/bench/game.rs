//! `strata bench game`: `POST /rewards/{id}/exchange` over HTTP against the reference
//! gift service (`strata gift-service`, run in this process on its own port and
//! storage): exchanges/s and latency at 16 clients, each exchange a real gift call and
//! then its commit; then the gift service stopped, until the breaker opens, and the
//! exchanges that an open breaker answers at once (503 `gift_unavailable`, no call).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use command_api::game::GIFT_TARGET;
use command_api::outbound::{BreakerSettings, Outbound, TargetSettings};
use domain::game::mission::mission_id;
use domain::game::reward::reward_id;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::{client_sending, millis, served_api, timed, Bench, Run};
use crate::settings::StoreSettings;
use crate::{gift_service, serve, App};
use read_api::ViewStore;

/// Clients exchanging at once.
const CLIENTS: usize = 16;
/// Rewards put in wallets before the run: more than the first run exchanges.
const REWARDS: usize = 12_000;

pub async fn game(store: &StoreSettings, views: ViewStore, seconds: u64) -> anyhow::Result<()> {
    let gifts = TcpListener::bind("127.0.0.1:0").await?;
    let gift_url = format!("http://{}", gifts.local_addr()?);
    let gift_data = std::env::temp_dir().join(format!("strata-bench-gifts-{}", Uuid::now_v7()));
    let data = gift_data.clone();
    let gift_service = tokio::spawn(async move { gift_service::run(gifts, &data).await });
    let outbound = Outbound::default().with(
        GIFT_TARGET,
        TargetSettings {
            url: gift_url,
            timeout: Duration::from_secs(1),
            max_in_flight: 16,
            breaker: BreakerSettings {
                failures_to_open: 5,
                open_for: Duration::from_secs(3600),
            },
        },
    );
    let backend: Bench = App::open(store).await?.calling(outbound);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    let (router, authorization) = served_api(&backend, views).await?;
    let client = client_sending(&authorization)?;
    let server = tokio::spawn(serve(listener, router, async {
        let _ = stopped.await;
    }));
    let rewards = issue_rewards(&backend, &client, &base).await?;

    println!("strata bench game: POST /rewards/{{id}}/exchange over HTTP, {seconds}s each, {CLIENTS} clients");
    println!(
        "{:<34} {:>12} {:>9} {:>9} {:>8} {:>8}",
        "case", "requests/s", "p50 ms", "p99 ms", "200", "other"
    );
    let report = |label: &str, run: &Run, exchanged: usize, other: usize| {
        println!(
            "{:<34} {:>12.0} {:>9.2} {:>9.2} {:>8} {:>8}",
            label,
            run.per_second(),
            millis(run.percentile(0.50)),
            millis(run.percentile(0.99)),
            exchanged,
            other
        );
    };
    let duration = Duration::from_secs(seconds);
    let rewards: Arc<[Uuid]> = rewards.into();
    let (run, exchanged, other) = drive(&client, &base, rewards.clone(), 0, duration).await?;
    report("gift service up", &run, exchanged, other);
    gift_service.abort();
    let _ = gift_service.await;
    let (run, exchanged, other) = drive(&client, &base, rewards, exchanged, duration).await?;
    report("gift service down, breaker open", &run, exchanged, other);
    println!("  (its first 5 calls failed and opened the breaker; the rest made no call)");
    let _ = stop.send(());
    server.await??;
    let _ = std::fs::remove_dir_all(gift_data);
    Ok(())
}

/// Missions for [`REWARDS`] customers, their rewards put in their wallets by the game
/// policy: the rewards' ids.
async fn issue_rewards(
    backend: &Bench,
    client: &reqwest::Client,
    base: &str,
) -> anyhow::Result<Vec<Uuid>> {
    let mut rewards = Vec::with_capacity(REWARDS);
    for n in 0..REWARDS {
        let customer = format!("bench-{n}");
        let body = json!({"customerId": customer, "missionCode": "BENCH"});
        let reply = client
            .post(format!("{base}/missions"))
            .json(&body)
            .send()
            .await?;
        if !reply.status().is_success() && reply.status() != reqwest::StatusCode::CONFLICT {
            bail!("POST /missions answered {}", reply.status());
        }
        rewards.push(reward_id(mission_id(&customer, "BENCH")));
    }
    let sink = Arc::new(policies::NotificationSink::log());
    let game = policies::registry::named(&backend.policies(sink), &["game"])?;
    backend.policy_workers(game).await?.catch_up_all().await?;
    Ok(rewards)
}

/// [`CLIENTS`] clients exchanging one reward after another for `duration`, the rewards
/// from `first` on (those before it are exchanged already), over again when they run
/// out: the figures, the exchanges answered 200 and the others.
async fn drive(
    client: &reqwest::Client,
    base: &str,
    rewards: Arc<[Uuid]>,
    first: usize,
    duration: Duration,
) -> anyhow::Result<(Run, usize, usize)> {
    if first >= rewards.len() {
        bail!("every reward was exchanged: raise REWARDS");
    }
    let next = Arc::new(AtomicUsize::new(0));
    let (exchanged, other) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (counted_ok, counted_other) = (exchanged.clone(), other.clone());
    let (client, base) = (client.clone(), base.to_string());
    let run = timed(CLIENTS, duration, move || {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let reward = rewards[first + n % (rewards.len() - first)];
        let (client, base) = (client.clone(), base.clone());
        let (exchanged, other) = (counted_ok.clone(), counted_other.clone());
        async move {
            let url = format!("{base}/rewards/{reward}/exchange");
            let body = json!({"productCode": "BENCH-1"});
            let status = client.post(url).json(&body).send().await?.status();
            match status {
                reqwest::StatusCode::OK => exchanged.fetch_add(1, Ordering::Relaxed),
                _ => other.fetch_add(1, Ordering::Relaxed),
            };
            Ok(())
        }
    })
    .await?;
    Ok((
        run,
        exchanged.load(Ordering::Relaxed),
        other.load(Ordering::Relaxed),
    ))
}
