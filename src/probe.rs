//! `strata probe`: asks a process's readiness probe and succeeds only on a 2xx answer.
//! The image's `HEALTHCHECK` runs it, since the slim runtime image has no curl; it
//! needs no store and reads no secret.

use std::time::Duration;

use anyhow::{bail, Context};
use strata::settings::ProbeSettings;

/// Asks the URL `settings` name and prints the answer on one line; exits 1 unless it
/// answered 2xx within the timeout (a health check's log keeps that line, so no
/// backtrace).
pub async fn run(settings: &ProbeSettings) -> anyhow::Result<()> {
    let url = settings
        .url
        .clone()
        .unwrap_or_else(|| format!("http://127.0.0.1:{}/health/ready", settings.port));
    match check(&url, Duration::from_millis(settings.timeout_ms)).await {
        Ok(status) => {
            println!("{url}: {status}");
            Ok(())
        }
        Err(error) => {
            eprintln!("{error:#}");
            std::process::exit(1)
        }
    }
}

/// The status `url` answers, when it is a success; an error naming what went wrong
/// otherwise (no connection, no answer within `timeout`, a redirect, a 4xx or 5xx).
pub async fn check(url: &str, timeout: Duration) -> anyhow::Result<reqwest::StatusCode> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("an HTTP client")?;
    let response = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("{url}: no answer"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("{url}: {status}");
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    use axum::http::StatusCode;
    use axum::routing::get;
    use axum::Router;
    use tokio::net::TcpListener;

    /// Serves `/health/ready` answering `status`, on a port of its own; its base URL.
    async fn serving(status: StatusCode) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let router = Router::new().route("/health/ready", get(move || async move { status }));
        tokio::spawn(async move { axum::serve(listener, router).await });
        base
    }

    const TIMEOUT: Duration = Duration::from_secs(2);

    #[tokio::test]
    async fn a_ready_process_passes() {
        let base = serving(StatusCode::OK).await;
        let status = check(&format!("{base}/health/ready"), TIMEOUT).await;
        assert_eq!(status.expect("ready"), StatusCode::OK);
    }

    #[tokio::test]
    async fn an_unready_process_fails() {
        let base = serving(StatusCode::SERVICE_UNAVAILABLE).await;
        let error = check(&format!("{base}/health/ready"), TIMEOUT).await;
        assert!(error.unwrap_err().to_string().contains("503"));
    }

    #[tokio::test]
    async fn a_closed_port_fails() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        drop(listener);
        let error = check(&format!("http://{address}/health/ready"), TIMEOUT).await;
        assert!(error.unwrap_err().to_string().contains("no answer"));
    }

    #[tokio::test]
    async fn a_process_that_never_answers_fails_within_the_timeout() {
        // Accepts the connection (the kernel does) but never reads or answers.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/health/ready", listener.local_addr().unwrap());
        let started = std::time::Instant::now();
        let error = check(&url, Duration::from_millis(200)).await;
        assert!(error.is_err());
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(listener);
    }
}
