//! SIGTERM under load: the server stops taking connections, finishes what it accepted,
//! and exits 0; nothing it acknowledged is missing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::processes::{admin_client, eventually, free_port, start, terminate, Processes};
use crate::support::{Store, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_finishes_accepted_requests_and_exits_0() {
    let app = TestApp::spawn(Store::Postgres).await;
    let url = app.database_url().expect("a PostgreSQL database");
    let port = free_port().await;
    let mut processes = Processes(vec![start(&url, "serve", port)]);
    let client = admin_client();
    let base = format!("http://127.0.0.1:{port}");
    eventually(&client, &format!("{base}/health/ready"), |s, _| {
        s == StatusCode::OK
    })
    .await;

    let stopped = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..32)
        .map(|n| {
            let (client, base, stopped) = (client.clone(), base.clone(), stopped.clone());
            tokio::spawn(async move {
                let order = json!({"customerId": format!("c-{n}"), "product": "pen", "qty": 1, "price": 10, "payMethod": "CARD"});
                let mut answered = Vec::new();
                while !stopped.load(Ordering::Relaxed) {
                    // A refused or closed connection: the server no longer takes requests.
                    let Ok(response) = client.post(format!("{base}/orders")).json(&order).send().await else {
                        break;
                    };
                    let status = response.status();
                    let body: Value = response.json().await.unwrap_or(Value::Null);
                    answered.push((status, body));
                }
                answered
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let exit = terminate(&mut processes, Duration::from_secs(30)).await;
    stopped.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for client in clients {
        for (status, body) in client.await.unwrap() {
            assert_eq!(
                status,
                StatusCode::CREATED,
                "an accepted request failed: {body}"
            );
            acknowledged.push(body["orderId"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(exit.code(), Some(0), "{exit:?}");
    assert!(
        acknowledged.len() > 32,
        "the load ran: {}",
        acknowledged.len()
    );
    app.assert_orders_stored(&acknowledged).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_are_dropped_and_sigterm_does_not_wait_for_them() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    let app = TestApp::spawn(Store::Postgres).await;
    let port = free_port().await;
    let server = crate::processes::command(&app.database_url().unwrap(), "serve", port)
        .env("STRATA_HEADER_READ_TIMEOUT_MS", "500")
        .env("STRATA_SHUTDOWN_GRACE_MS", "1000")
        .spawn()
        .expect("strata started");
    let mut processes = Processes(vec![server]);
    let ready = format!("http://127.0.0.1:{port}/health/ready");
    eventually(&admin_client(), &ready, |s, _| s == StatusCode::OK).await;

    let half_sent = || async {
        let mut socket = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        socket.write_all(b"G").await.expect("one byte");
        socket
    };
    let mut sockets = Vec::new();
    for _ in 0..20 {
        sockets.push(half_sent().await);
    }
    for socket in &mut sockets {
        let mut buffer = [0u8; 256];
        let read = tokio::time::timeout(Duration::from_secs(3), socket.read(&mut buffer)).await;
        let closed = matches!(read, Ok(Ok(0)) | Ok(Err(_)))
            || matches!(read, Ok(Ok(n)) if buffer[..n].starts_with(b"HTTP/1.1 408"));
        assert!(closed, "a half-sent request was dropped: {read:?}");
    }

    let _held_open: Vec<TcpStream> = futures::future::join_all((0..20).map(|_| half_sent())).await;
    // SIGTERM ends the process although idle connections stay open.
    let exit = terminate(&mut processes, Duration::from_secs(10)).await;
    assert!(exit.success(), "{exit:?}");
}
