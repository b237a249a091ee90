//! `strata` as child processes over a test's PostgreSQL database, for the scenarios
//! that span processes (split mode, signals).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use auth::{Role, Tokens};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::support::with_token;

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

/// The secret every process a test starts signs and verifies tokens with.
const SECRET: &str = "a test secret of at least thirty-two bytes";

/// A client for the test's processes that sends an admin's token.
pub fn admin_client() -> reqwest::Client {
    client_as(Role::Admin, "admin")
}

/// A client for the test's processes that sends a token of `subject` in `role`.
pub fn client_as(role: Role, subject: &str) -> reqwest::Client {
    let tokens = Tokens::from_secret(SECRET.as_bytes()).expect("a long enough secret");
    let token = tokens.issue(subject, role, Duration::from_secs(3600));
    with_token(reqwest::Client::builder(), &token)
        .build()
        .expect("client")
}

/// Starts `strata <role> --port <port>` on the database.
pub fn start(database_url: &str, role: &str, port: u16) -> Child {
    start_with(database_url, role, port, &[])
}

/// [`start`] with more environment variables.
pub fn start_with(database_url: &str, role: &str, port: u16, env: &[(&str, &str)]) -> Child {
    command(database_url, role, port)
        .envs(env.iter().copied())
        .spawn()
        .expect("strata started")
}

/// `strata <role> --port <port>` on the database, signing tokens with the tests'
/// secret, logging warnings to the test's stderr.
pub fn command(database_url: &str, role: &str, port: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_strata"));
    command
        .args([role, "--port", &port.to_string()])
        .env("DATABASE_URL", database_url)
        .env("STRATA_DB_POOL_SIZE", "8")
        .env("STRATA_JWT_SECRET", SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    command
}

/// POSTs `body` as JSON and reads the JSON answer, which must be a success: a refusal
/// fails the test with its status and body.
pub async fn post_json(client: &reqwest::Client, url: &str, body: &Value) -> Value {
    let response = client.post(url).json(body).send().await.expect("an answer");
    let status = response.status();
    let answer: Value = response.json().await.expect("a JSON answer");
    assert!(
        status.is_success(),
        "POST {url} answered {status}: {answer}"
    );
    answer
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

/// `count` command APIs on the database, ready; and their base URLs.
pub async fn command_apis(database_url: &str, count: usize) -> (Processes, Vec<String>) {
    let mut processes = Processes(Vec::new());
    let mut bases = Vec::new();
    for _ in 0..count {
        let port = free_port().await;
        processes.0.push(start(database_url, "command-api", port));
        bases.push(format!("http://127.0.0.1:{port}"));
    }
    for base in &bases {
        eventually(
            &admin_client(),
            &format!("{base}/health/ready"),
            |status, _| status == StatusCode::OK,
        )
        .await;
    }
    (processes, bases)
}

/// Sends SIGTERM to the first of `processes` and waits, at most `within`, for it to exit.
pub async fn terminate(processes: &mut Processes, within: Duration) -> std::process::ExitStatus {
    let pid = processes.0[0].id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let mut server = processes.0.remove(0);
    let exit = tokio::task::spawn_blocking(move || server.wait());
    tokio::time::timeout(within, exit)
        .await
        .expect("exits in time")
        .unwrap()
        .unwrap()
}
