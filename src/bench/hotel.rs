//! `strata bench hotel`: `POST /hotelBookings` over HTTP. First stays spread over many
//! rooms at 16 clients, each a night no other stay holds; then the contended case at
//! each concurrency level: in rounds, every client asks for the same night of one room
//! at once, so each round has exactly one winner and the rest are refused by the
//! time-slot guard (409). Every request is counted by its answer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use chrono::{Days, NaiveDate, Utc};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::{client_sending, millis, served_api, timed, Bench, Run};
use crate::serve;
use read_api::ViewStore;

/// The nights ahead a stay may start on (today + 1 ..= today + 364).
const NIGHTS_AHEAD: usize = 364;

pub async fn hotel(
    backend: &Bench,
    views: ViewStore,
    rooms: usize,
    concurrency: &[usize],
    seconds: u64,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    let (router, authorization) = served_api(backend, views).await?;
    let client = client_sending(&authorization)?;
    let server = tokio::spawn(serve(listener, router, async {
        let _ = stopped.await;
    }));
    let hotel = Hotel {
        client,
        base: base.clone(),
        today: Utc::now().date_naive(),
    };
    let duration = Duration::from_secs(seconds);
    println!("strata bench hotel: POST /hotelBookings over HTTP, {seconds}s each");
    println!(
        "{:<26} {:>11} {:>12} {:>9} {:>9} {:>8} {:>8} {:>7}",
        "case", "concurrency", "requests/s", "p50 ms", "p99 ms", "201", "409", "other"
    );
    let report = |label: &str, clients: usize, run: &Run, answers: &Answers| {
        println!(
            "{:<26} {:>11} {:>12.0} {:>9.2} {:>9.2} {:>8} {:>8} {:>7}",
            label,
            clients,
            run.per_second(),
            millis(run.percentile(0.50)),
            millis(run.percentile(0.99)),
            answers.booked.load(Ordering::Relaxed),
            answers.taken.load(Ordering::Relaxed),
            answers.other.load(Ordering::Relaxed),
        );
    };
    let spread = hotel.register_rooms(rooms.max(1)).await?;
    let (run, answers) = hotel.spread(spread, 16, duration).await?;
    report(
        &format!("{} rooms, free nights", rooms.max(1)),
        16,
        &run,
        &answers,
    );
    for &clients in concurrency {
        let (run, answers, rounds, one_winner) = hotel.contended(clients, duration).await?;
        report("one room, the same night", clients, &run, &answers);
        println!("  {rounds} rounds, {one_winner} with exactly one stay booked");
    }
    let _ = stop.send(());
    server.await??;
    Ok(())
}

/// The served API and the day the run started.
#[derive(Clone)]
struct Hotel {
    client: reqwest::Client,
    base: String,
    today: NaiveDate,
}

/// Requests by answer: booked (201), refused for a taken night (409), anything else.
#[derive(Default)]
struct Answers {
    booked: AtomicUsize,
    taken: AtomicUsize,
    other: AtomicUsize,
}

impl Answers {
    fn count(&self, status: StatusCode) {
        let counter = match status {
            StatusCode::CREATED => &self.booked,
            StatusCode::CONFLICT => &self.taken,
            _ => &self.other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl Hotel {
    async fn register_rooms(&self, count: usize) -> anyhow::Result<Vec<Uuid>> {
        let mut rooms = Vec::with_capacity(count);
        for i in 0..count {
            let body = json!({"name": format!("room {i}"), "price": 1000, "hostId": "bench-host"});
            let url = format!("{}/hotelRooms", self.base);
            let reply: Value = self
                .client
                .post(url)
                .json(&body)
                .send()
                .await?
                .json()
                .await?;
            let Some(id) = reply["roomId"].as_str() else {
                bail!("POST /hotelRooms answered {reply}");
            };
            rooms.push(id.parse()?);
        }
        Ok(rooms)
    }

    /// One night's stay in `room`, `night` nights from today.
    async fn book(&self, room: Uuid, night: usize) -> anyhow::Result<StatusCode> {
        let first = self.today + Days::new(night as u64);
        let body = json!({"roomId": room, "guestId": "bench", "startDate": first,
                          "endDate": first + Days::new(1), "payMethod": "CARD"});
        let url = format!("{}/hotelBookings", self.base);
        Ok(self.client.post(url).json(&body).send().await?.status())
    }

    /// Stays on `rooms` in turn, each on the room's next free night.
    async fn spread(
        &self,
        rooms: Vec<Uuid>,
        clients: usize,
        duration: Duration,
    ) -> anyhow::Result<(Run, Arc<Answers>)> {
        let (next, answers) = (Arc::new(AtomicUsize::new(0)), Arc::new(Answers::default()));
        let (hotel, counted) = (Arc::new(self.clone()), answers.clone());
        let run = timed(clients, duration, move || {
            let n = next.fetch_add(1, Ordering::Relaxed);
            let room = rooms[n % rooms.len()];
            let night = 1 + (n / rooms.len()) % NIGHTS_AHEAD;
            let (hotel, answers) = (hotel.clone(), counted.clone());
            async move {
                answers.count(hotel.book(room, night).await?);
                Ok(())
            }
        })
        .await?;
        Ok((run, answers))
    }

    /// Rounds of `clients` requests for the same night of one room, until `duration`
    /// has passed: the figures, how many rounds ran, and how many had exactly one winner.
    async fn contended(
        &self,
        clients: usize,
        duration: Duration,
    ) -> anyhow::Result<(Run, Answers, usize, usize)> {
        let answers = Answers::default();
        let (mut latencies, mut rounds, mut one_winner) = (Vec::new(), 0, 0);
        let mut room = self.register_rooms(1).await?[0];
        let started = Instant::now();
        while started.elapsed() < duration {
            if rounds > 0 && rounds % NIGHTS_AHEAD == 0 {
                room = self.register_rooms(1).await?[0];
            }
            let night = 1 + rounds % NIGHTS_AHEAD;
            let requests = (0..clients).map(|_| async {
                let begun = Instant::now();
                let status = self.book(room, night).await;
                (status, begun.elapsed())
            });
            let mut winners = 0;
            for (status, latency) in join_all(requests).await {
                let status = status?;
                winners += usize::from(status == StatusCode::CREATED);
                answers.count(status);
                latencies.push(latency);
            }
            rounds += 1;
            one_winner += usize::from(winners == 1);
        }
        let elapsed = started.elapsed();
        latencies.sort_unstable();
        let run = Run {
            operations: latencies.len(),
            elapsed,
            latencies,
        };
        Ok((run, answers, rounds, one_winner))
    }
}
