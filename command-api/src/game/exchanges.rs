//! `POST /rewards/{id}/exchange`: a reward exchanged for a product through the gift
//! service. The reward is checked, then the gift service is called with no transaction
//! open (exchangeId = rewardId, also its `Idempotency-Key`, so a retry never makes a
//! second gift), and only once it answered with a giftId are the wallet's
//! `RewardExchanged` and the reward's `RewardRedeemed` committed together. A refusal
//! appends nothing: the reward stays as it was.

use std::sync::Arc;
use std::time::Duration;

use auth::Role;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};
use chrono::Utc;
use domain::game::reward::{Reward, RewardCommand};
use domain::game::wallet::{
    check_product_code, wallet_id, Wallet, WalletCommand, MAX_GIFT_ID_CHARS,
};
use domain::{Rejection, RejectionKind};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::GIFT_TARGET;
use crate::dispatch::{CommandContext, CommandError, CommandService, Decision};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{required, CommandHeaders, JsonBody, ResourceId};
use crate::http::idempotency::{self, Accepted, Committed, RequestKey};
use crate::http::openapi::{CommandParams, JsonBodyErrors};
use crate::outbound::{Answer, Outbound};
use crate::store::EventLog;

/// The code of every exchange the gift service could not take part in.
const GIFT_UNAVAILABLE: &str = "gift_unavailable";
/// How long a client is asked to wait when there is no gift service to call.
const NOT_CONFIGURED_RETRY: Duration = Duration::from_secs(1);
/// The most of a refusal's reason passed on to the client.
const REASON_CHARS: usize = 200;

pub fn router<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new().route("/rewards/{id}/exchange", post(exchange_reward::<L>))
}

/// What the reward is exchanged for.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ExchangeBody {
    #[schema(value_type = String, required = true, example = "COFFEE-1", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    product_code: Option<String>,
}

/// `POST /rewards/{id}/exchange`: the gift service gave the gift; the reward is spent.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct RewardExchangedResponse {
    reward_id: Uuid,
    /// The gift service's id of the gift.
    gift_id: String,
    product_code: String,
}

/// Exchange a reward for a product (the reward's customer, or an admin).
#[utoipa::path(
    post,
    path = "/rewards/{id}/exchange",
    tag = "rewards",
    params(("id" = Uuid, Path, description = "The reward's id"), CommandParams),
    request_body = ExchangeBody,
    responses(
        (status = 200, description = "Exchanged", body = Committed<RewardExchangedResponse>),
        (status = 404, description = "No such reward, or another customer's \
            (`reward_not_found`)", body = ErrorBody),
        (status = 409, description = "Not in the wallet yet (`reward_not_issued`), or \
            exchanged already (`reward_already_exchanged`)", body = ErrorBody),
        (status = 422, description = "The gift service refused the product \
            (`gift_refused`, field `productCode`), a field is invalid, or the \
            Idempotency-Key was first used with another body", body = ErrorBody),
        (status = 503, description = "The gift service is down, slow, failing, its bulkhead \
            full or its breaker open, or none is configured (`gift_unavailable`); retry after \
            `Retry-After` seconds. Nothing was written", body = ErrorBody,
            headers(("Retry-After" = u32))),
        JsonBodyErrors,
    )
)]
async fn exchange_reward<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    Extension(outbound): Extension<Outbound>,
    ResourceId(reward_id): ResourceId,
    headers: CommandHeaders,
    body: JsonBody<ExchangeBody>,
) -> Result<Response, ApiError> {
    headers.principal.require(&[Role::Customer, Role::Admin])?;
    let product_code = required("productCode", body.parsed.product_code)?;
    check_product_code(&product_code).map_err(|error| CommandError::rejected(&error))?;
    let requested_by = headers.principal.confined_to().map(str::to_owned);
    let (service, product_code) = (&service, &product_code);
    idempotency::run_deciding(
        service.log(),
        headers,
        body.raw,
        |context, key| async move {
            let exchange = async {
                let loaded = exchangeable(service, reward_id, requested_by.as_deref()).await?;
                let customer_id = loaded.customer_id.clone();
                let gift_id = gift(&outbound, reward_id, &customer_id, product_code).await?;
                let exchanged = Exchange {
                    reward_id,
                    customer_id,
                    product_code: product_code.clone(),
                    gift_id,
                };
                // The streams as read before the call: should either have moved during
                // it, the commit is refused and the exchange decided again on them anew.
                let mut loaded = Some(loaded);
                service
                    .deciding_again(|| {
                        record(service, &exchanged, loaded.take(), context.clone(), &key)
                    })
                    .await
            };
            service.counted("ExchangeReward", exchange.await)
        },
    )
    .await
}

/// A gift the gift service gave for a reward.
struct Exchange {
    reward_id: Uuid,
    customer_id: String,
    product_code: String,
    gift_id: String,
}

/// Commits the exchange: the wallet's `RewardExchanged` and the reward's
/// `RewardRedeemed`, with the request's idempotency record; decided on `loaded`, or on
/// the streams read anew.
async fn record<L: EventLog>(
    service: &CommandService<L>,
    exchange: &Exchange,
    loaded: Option<Loaded>,
    mut context: CommandContext,
    key: &RequestKey,
) -> Result<(Accepted, i64), CommandError> {
    let Loaded { wallet, reward, .. } = match loaded {
        Some(loaded) => loaded,
        None => Loaded {
            wallet: service.decision(wallet_id(&exchange.customer_id)).await?,
            reward: service.decision(exchange.reward_id).await?,
            customer_id: exchange.customer_id.clone(),
        },
    };
    let exchanged = wallet
        .decide(WalletCommand::ExchangeReward {
            reward_id: exchange.reward_id,
            product_code: exchange.product_code.clone(),
            gift_id: exchange.gift_id.clone(),
            exchanged_at: Utc::now(),
        })
        .await?;
    let redeemed = reward
        .decide(RewardCommand::RedeemReward {
            product_code: exchange.product_code.clone(),
            gift_id: exchange.gift_id.clone(),
        })
        .await?;
    let accepted = Accepted::ok(RewardExchangedResponse {
        reward_id: exchange.reward_id,
        gift_id: exchange.gift_id.clone(),
        product_code: exchange.product_code.clone(),
    });
    context.idempotency = key.claim(&accepted);
    let appended = service
        .commit_all(&[&exchanged, &redeemed], context)
        .await?;
    Ok((accepted, appended.position))
}

/// A reward and its customer's wallet as read, the reward in the wallet and not yet
/// exchanged.
struct Loaded {
    customer_id: String,
    wallet: Decision<Wallet>,
    reward: Decision<Reward>,
}

/// The reward and its wallet, when the reward is in the wallet and not yet exchanged;
/// `requested_by` (a customer) must be the reward's customer.
async fn exchangeable<L: EventLog>(
    service: &CommandService<L>,
    reward_id: Uuid,
    requested_by: Option<&str>,
) -> Result<Loaded, CommandError> {
    let reward = service.decision::<Reward>(reward_id).await?;
    let customer_id = match reward.aggregate().customer_id() {
        Some(customer) if requested_by.is_none_or(|asker| asker == customer) => {
            customer.to_string()
        }
        _ => return Err(CommandError::rejected(&RewardNotFound)),
    };
    let wallet = service.decision::<Wallet>(wallet_id(&customer_id)).await?;
    wallet
        .aggregate()
        .exchangeable(reward_id)
        .map_err(|error| CommandError::rejected(&error))?;
    Ok(Loaded {
        customer_id,
        wallet,
        reward,
    })
}

/// No reward of that id, or another customer's: told apart from none by no one.
#[derive(Debug, thiserror::Error)]
#[error("no reward of that id")]
struct RewardNotFound;

impl Rejection for RewardNotFound {
    fn kind(&self) -> RejectionKind {
        RejectionKind::NotFound
    }

    fn code(&self) -> &'static str {
        "reward_not_found"
    }
}

/// The gift service's giftId for the exchange of `reward_id` (its exchangeId): a 4xx is
/// the product refused (422 naming `productCode`); no answer, a failure, an answer that
/// is not a gift for it, a full bulkhead, an open breaker or no gift service at all is
/// 503 `gift_unavailable`.
async fn gift(
    outbound: &Outbound,
    reward_id: Uuid,
    customer_id: &str,
    product_code: &str,
) -> Result<String, CommandError> {
    let unavailable = |message: String, retry_after| CommandError::Unreachable {
        code: GIFT_UNAVAILABLE,
        message,
        retry_after,
    };
    let Some(target) = outbound.target(GIFT_TARGET) else {
        let message = "no gift service configured".to_string();
        return Err(unavailable(message, NOT_CONFIGURED_RETRY));
    };
    let exchange_id = reward_id.to_string();
    let body = json!({
        "exchangeId": exchange_id,
        "customerId": customer_id,
        "rewardId": exchange_id,
        "productCode": product_code,
    });
    let answer = target.post_json("/gifts", &body, &exchange_id, |answer| {
        answer.status / 100 == 4 || given(answer, product_code).is_some()
    });
    let answer = match answer.await {
        Ok(answer) => answer,
        Err(error) => return Err(unavailable(error.to_string(), error.retry_after())),
    };
    match given(&answer, product_code) {
        Some(gift_id) => Ok(gift_id.to_string()),
        None => {
            let reason = answer.body.get("message").and_then(Value::as_str);
            let reason: String = reason
                .unwrap_or_default()
                .chars()
                .take(REASON_CHARS)
                .collect();
            Err(CommandError::Rejected {
                kind: RejectionKind::Invalid,
                code: "gift_refused",
                field: Some("productCode"),
                message: format!(
                    "the gift service refused productCode {product_code:?} ({}{})",
                    answer.status,
                    if reason.is_empty() {
                        String::new()
                    } else {
                        format!(": {reason}")
                    }
                ),
            })
        }
    }
}

/// The giftId of a gift answer: a 200 or 201 with a giftId the wallet can keep, for
/// the product asked for (when the answer names one).
fn given<'a>(answer: &'a Answer, product_code: &str) -> Option<&'a str> {
    let gift_id = answer.body.get("giftId").and_then(Value::as_str)?;
    let product = answer.body.get("productCode").and_then(Value::as_str);
    let keepable = (1..=MAX_GIFT_ID_CHARS).contains(&gift_id.chars().count())
        && !gift_id.chars().any(char::is_control);
    let for_it = product.is_none_or(|product| product == product_code);
    (matches!(answer.status, 200 | 201) && keepable && for_it).then_some(gift_id)
}
