//! `strata bench bookstore`: `POST /bookOrders` over HTTP, spread over many books at 16
//! clients, then against one hot book at each concurrency level. Every order takes its
//! copies from the book's stream in the order's own commit, so on one book the orders
//! take turns on one stream; the figures show whether throughput holds as clients are
//! added.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::{client_sending, millis, served_api, timed, Bench};
use crate::serve;
use read_api::ViewStore;

/// Copies each book is registered with: more than any run orders.
const STOCK: i64 = 100_000;

pub async fn bookstore(
    backend: &Bench,
    views: ViewStore,
    books: usize,
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
    let joined = client
        .post(format!("{base}/members"))
        .json(&json!({"memberId": "bench", "name": "Bench"}))
        .send()
        .await?;
    if !joined.status().is_success() && joined.status() != reqwest::StatusCode::CONFLICT {
        bail!("POST /members answered {}", joined.status());
    }
    let mut catalogue = Vec::with_capacity(books);
    for i in 0..books.max(1) {
        let body =
            json!({"title": format!("book {i}"), "author": "bench", "price": 1000, "stock": STOCK});
        let reply: Value = client
            .post(format!("{base}/books"))
            .json(&body)
            .send()
            .await?
            .json()
            .await?;
        let Some(id) = reply["bookId"].as_str() else {
            bail!("POST /books answered {reply}");
        };
        catalogue.push(id.parse::<Uuid>()?);
    }
    let duration = Duration::from_secs(seconds);
    println!("strata bench bookstore: POST /bookOrders over HTTP, {seconds}s each");
    println!(
        "{:<28} {:>11} {:>12} {:>9} {:>9} {:>8}",
        "books", "concurrency", "commands/s", "p50 ms", "p99 ms", "refused"
    );
    let report = |label: &str, concurrency: usize, run: &super::Run, refused: usize| {
        println!(
            "{:<28} {:>11} {:>12.0} {:>9.2} {:>9.2} {:>8}",
            label,
            concurrency,
            run.per_second(),
            millis(run.percentile(0.50)),
            millis(run.percentile(0.99)),
            refused
        );
    };
    let (run, refused) = drive(&client, &base, catalogue.clone(), 16, duration).await?;
    report(&format!("{} books", catalogue.len()), 16, &run, refused);
    for &clients in concurrency {
        let (run, refused) = drive(&client, &base, vec![catalogue[0]], clients, duration).await?;
        report("one hot book", clients, &run, refused);
    }
    let _ = stop.send(());
    server.await??;
    Ok(())
}

/// `concurrency` clients ordering one copy after another, of `books` in turn; the
/// figures, and how many orders were answered anything but 201 (counted, not retried).
async fn drive(
    client: &reqwest::Client,
    base: &str,
    books: Vec<Uuid>,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<(super::Run, usize)> {
    let (client, url) = (client.clone(), format!("{base}/bookOrders"));
    let (next, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let counted = refused.clone();
    let run = timed(concurrency, duration, move || {
        let book = books[next.fetch_add(1, Ordering::Relaxed) % books.len()];
        let (client, url, refused) = (client.clone(), url.clone(), counted.clone());
        async move {
            let body = json!({"memberId": "bench", "bookId": book, "qty": 1});
            let response = client.post(&url).json(&body).send().await?;
            if response.status() != reqwest::StatusCode::CREATED {
                refused.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }
    })
    .await?;
    Ok((run, refused.load(Ordering::Relaxed)))
}
