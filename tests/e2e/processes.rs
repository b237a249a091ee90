//! `strata` as child processes over a test's PostgreSQL database, for the scenarios
//! that span processes (split mode, signals).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::TcpListener;

/// Child processes, killed when the test ends however it ends.
pub struct Processes(pub Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A port nothing listens on (yet).
pub async fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("address").port()
}

/// Starts `strata <role> --port <port>` on the database.
pub fn start(database_url: &str, role: &str, port: u16) -> Child {
    start_with(database_url, role, port, &[])
}

/// [`start`] with more environment variables.
pub fn start_with(database_url: &str, role: &str, port: u16, env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args([role, "--port", &port.to_string()])
        .env("DATABASE_URL", database_url)
        .env("STRATA_DB_POOL_SIZE", "8")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("strata started")
}

/// POSTs `body` as JSON and reads the JSON answer.
pub async fn post_json(client: &reqwest::Client, url: &str, body: &Value) -> Value {
    let response = client.post(url).json(body).send().await.expect("an answer");
    response.json().await.expect("a JSON answer")
}

/// GETs `url` until `done` holds for the reply (the processes work in the background).
pub async fn eventually(
    client: &reqwest::Client,
    url: &str,
    done: impl Fn(StatusCode, &Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = client.get(url).send().await {
            let status = response.status();
            let body = response.json::<Value>().await.unwrap_or(Value::Null);
            if done(status, &body) {
                return body;
            }
        }
        assert!(Instant::now() < deadline, "{url} never answered as wanted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
