//! `strata gift-service`: a small reference gift service, so that the game's exchange
//! can be tried end to end, and its circuit breaker watched by stopping this process.
//! It is a service of its own (its own port and storage), with the contract strata
//! calls:
//!
//! `POST /gifts` `{exchangeId, customerId, rewardId, productCode}` with
//! `Idempotency-Key: <exchangeId>` → 201 `{giftId, exchangeId, productCode}` for a new
//! exchange, 200 with the same answer for one it has seen (a retry after a lost answer
//! never makes a second gift); 422 `unknown_product` for a product code it does not
//! carry (1 to 64 letters, digits, `-` or `_`); 422 `exchange_mismatch` for a seen
//! exchangeId with another product (its gift is for the first); 400 when the key and
//! the exchangeId differ or the body is not the contract's (ids of 1 to 64 characters,
//! a body of at most 64 KiB).

use std::path::Path;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use tokio::net::TcpListener;
use uuid::Uuid;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS gifts (
        exchange_id  TEXT PRIMARY KEY,
        gift_id      TEXT NOT NULL,
        customer_id  TEXT NOT NULL,
        reward_id    TEXT NOT NULL,
        product_code TEXT NOT NULL,
        created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    ) STRICT";

/// The most characters a product code has.
const MAX_PRODUCT_CODE_CHARS: usize = 64;
/// The most characters an exchangeId, customerId or rewardId has.
const MAX_ID_CHARS: usize = 64;
/// The largest body taken.
const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// A gift asked for, as the contract has it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct GiftRequest {
    exchange_id: String,
    customer_id: String,
    reward_id: String,
    product_code: String,
}

/// Serves the gift service on `listener`, its gifts kept in `data_dir/gifts.db`, until
/// the process ends.
pub async fn run(listener: TcpListener, data_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let file = data_dir.join("gifts.db");
    let options = SqliteConnectOptions::new()
        .filename(&file)
        .create_if_missing(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    sqlx::query(SCHEMA).execute(&pool).await?;
    tracing::info!(address = %listener.local_addr()?, file = %file.display(), "gift service listening");
    axum::serve(listener, router(pool)).await?;
    Ok(())
}

fn router(pool: SqlitePool) -> Router {
    Router::new()
        .route("/gifts", post(give))
        .route("/health", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .with_state(pool)
}

async fn give(
    State(pool): State<SqlitePool>,
    headers: HeaderMap,
    body: Result<Json<GiftRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let gift = match body {
        Ok(Json(gift))
            if gift
                .ids()
                .all(|id| (1..=MAX_ID_CHARS).contains(&id.chars().count())) =>
        {
            gift
        }
        _ => {
            let message = "not the gift contract's body";
            return refusal(StatusCode::BAD_REQUEST, "bad_request", message);
        }
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|key| key.to_str().ok());
    if key != Some(gift.exchange_id.as_str()) {
        let message = "Idempotency-Key must be the exchangeId";
        return refusal(StatusCode::BAD_REQUEST, "bad_request", message);
    }
    if !carried(&gift.product_code) {
        let message = format!("no product {:?}", gift.product_code);
        return refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_product",
            &message,
        );
    }
    match record(&pool, &gift).await {
        Ok(Made { product_code, .. }) if product_code != gift.product_code => {
            let message = format!("exchange {} was for {product_code}", gift.exchange_id);
            refusal(
                StatusCode::UNPROCESSABLE_ENTITY,
                "exchange_mismatch",
                &message,
            )
        }
        Ok(Made { gift_id, new, .. }) => {
            let status = if new {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let answer = json!({"giftId": gift_id, "exchangeId": gift.exchange_id,
                                "productCode": gift.product_code});
            (status, Json(answer)).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "gift not recorded");
            let message = "the gift could not be recorded";
            refusal(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
        }
    }
}

/// The gift of an exchange.
struct Made {
    gift_id: String,
    /// The product it was made for (the first request's).
    product_code: String,
    /// Made by this request.
    new: bool,
}

impl GiftRequest {
    fn ids(&self) -> impl Iterator<Item = &str> {
        [&self.exchange_id, &self.customer_id, &self.reward_id]
            .into_iter()
            .map(String::as_str)
    }
}

/// The gift of the exchange: made now, or the one made before.
async fn record(pool: &SqlitePool, gift: &GiftRequest) -> Result<Made, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO gifts (exchange_id, gift_id, customer_id, reward_id, product_code)
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (exchange_id) DO NOTHING",
    )
    .bind(&gift.exchange_id)
    .bind(Uuid::now_v7().to_string())
    .bind(&gift.customer_id)
    .bind(&gift.reward_id)
    .bind(&gift.product_code)
    .execute(pool)
    .await?;
    let (gift_id, product_code): (String, String) =
        sqlx::query_as("SELECT gift_id, product_code FROM gifts WHERE exchange_id = ?")
            .bind(&gift.exchange_id)
            .fetch_one(pool)
            .await?;
    Ok(Made {
        gift_id,
        product_code,
        new: inserted.rows_affected() == 1,
    })
}

/// Whether the service carries `product_code`: 1 to 64 letters, digits, `-` or `_`.
fn carried(product_code: &str) -> bool {
    (1..=MAX_PRODUCT_CODE_CHARS).contains(&product_code.len())
        && product_code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"error": code, "message": message}))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_carries_plain_product_codes_only() {
        assert!(carried("COFFEE-1"));
        assert!(carried("gift_card_10"));
        assert!(!carried(""));
        assert!(!carried("커피"));
        assert!(!carried(&"A".repeat(65)));
    }
}
