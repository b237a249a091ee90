//! A gift service a test controls: it accepts, refuses, delays or fails each call as the
//! test says, makes one gift per exchangeId (as the contract has it), and counts the
//! connections it accepted and the calls it received, so a test can tell a call that
//! was never made (a kept-alive connection carries many calls).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use uuid::Uuid;

/// How the server answers the next calls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// 201 with a new giftId (200 with the same one for an exchangeId seen before; 422
    /// for it with another product).
    Accept,
    /// 422: the product is refused.
    Refuse,
    /// 500: the service fails.
    Fail,
    /// Makes the gift, but answers only after the pause.
    Delay(Duration),
}

#[derive(Clone)]
struct Shared {
    mode: Arc<Mutex<Mode>>,
    /// Each exchangeId's gift and the product it is for.
    gifts: Arc<Mutex<HashMap<String, (String, String)>>>,
    calls: Arc<AtomicUsize>,
}

/// A running gift server on a loopback port.
pub struct GiftServer {
    pub url: String,
    shared: Shared,
    connections: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

impl GiftServer {
    pub async fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let shared = Shared {
            mode: Arc::new(Mutex::new(mode)),
            gifts: Arc::default(),
            calls: Arc::default(),
        };
        let connections = Arc::new(AtomicUsize::new(0));
        let router = Router::new()
            .route("/gifts", post(give))
            .with_state(shared.clone());
        let counted = connections.clone();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let service = TowerToHyperService::new(router.clone());
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            url,
            shared,
            connections,
            server,
        }
    }

    pub fn set(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = mode;
    }

    /// Connections the server has accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Calls received so far.
    pub fn calls(&self) -> usize {
        self.shared.calls.load(Ordering::SeqCst)
    }

    /// Gifts made so far (one per exchangeId).
    pub fn gifts(&self) -> usize {
        self.shared.gifts.lock().unwrap().len()
    }

    /// The gift made for `exchange_id`, if any.
    pub fn gift_of(&self, exchange_id: &str) -> Option<String> {
        let gifts = self.shared.gifts.lock().unwrap();
        gifts.get(exchange_id).map(|(gift_id, _)| gift_id.clone())
    }
}

impl Drop for GiftServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn give(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    shared.calls.fetch_add(1, Ordering::SeqCst);
    let mode = *shared.mode.lock().unwrap();
    let exchange_id = body["exchangeId"].as_str().unwrap_or_default().to_string();
    let key = headers
        .get("idempotency-key")
        .and_then(|key| key.to_str().ok());
    if key != Some(exchange_id.as_str()) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "bad_request"})),
        )
            .into_response();
    }
    match mode {
        Mode::Refuse => {
            let body = json!({"error": "unknown_product", "message": "not carried"});
            return (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
        }
        Mode::Fail => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Mode::Accept | Mode::Delay(_) => {}
    }
    let product = body["productCode"].as_str().unwrap_or_default().to_string();
    let (gift_id, gift_product, new) = {
        let mut gifts = shared.gifts.lock().unwrap();
        match gifts.get(&exchange_id) {
            Some((gift_id, gift_product)) => (gift_id.clone(), gift_product.clone(), false),
            None => {
                let gift_id = Uuid::now_v7().to_string();
                gifts.insert(exchange_id.clone(), (gift_id.clone(), product.clone()));
                (gift_id, product.clone(), true)
            }
        }
    };
    if gift_product != product {
        let body =
            json!({"error": "exchange_mismatch", "message": format!("was for {gift_product}")});
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
    }
    if let Mode::Delay(pause) = mode {
        tokio::time::sleep(pause).await;
    }
    let status = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let answer = json!({"giftId": gift_id, "exchangeId": exchange_id, "productCode": product});
    (status, Json(answer)).into_response()
}
