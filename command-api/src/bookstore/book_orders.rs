//! `POST /bookOrders` (order copies of a book: the order and the book's stock in one
//! commit, or the refusal recorded) and `POST /bookOrders/{id}/cancel` (the order and
//! the stock given back in one commit).
//!
//! Both load the book and decide on its stock, so two orders racing for the last copies
//! cannot both take them. In this process, orders of one book take turns on its stream
//! ([`CommandService::turn_on`]), so a hot book's orders queue instead of racing; against
//! other processes, the second commit finds the book's stream moved on, and the order is
//! decided again on the new stock ([`CommandService::deciding_again`]).

use std::sync::Arc;

use auth::Role;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use chrono::Utc;
use domain::bookstore::book::{Book, BookCommand};
use domain::bookstore::book_order::{BookOrder, BookOrderCommand, BookOrderError, OrderBook};
use domain::bookstore::member::{member_stream, Member, MemberError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dispatch::{CommandError, CommandService, Decision};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{required, CommandHeaders, JsonBody, ResourceId};
use crate::http::idempotency::{self, Accepted, Committed};
use crate::http::openapi::{CommandErrors, CommandParams, JsonBodyErrors};
use crate::store::EventLog;

pub fn router<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new()
        .route("/bookOrders", post(order_book::<L>))
        .route("/bookOrders/{id}/cancel", post(cancel_book_order::<L>))
}

/// Every field is required: a missing or null one is a 422 naming it.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct OrderBookBody {
    /// The ordering member (a customer orders for themself).
    #[schema(value_type = String, required = true, example = "customer-1", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    member_id: Option<String>,
    #[schema(value_type = Uuid, required = true)]
    book_id: Option<Uuid>,
    /// 1 to 100 copies.
    #[schema(value_type = i64, required = true, example = 1, minimum = 1, maximum = 100)]
    qty: Option<i64>,
}

/// `POST /bookOrders`: the copies were taken from the stock.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct BookOrderedResponse {
    order_id: Uuid,
    #[schema(example = "ORDERED")]
    order_status: &'static str,
    /// price × qty.
    amount: i64,
}

/// `POST /bookOrders` refused for want of stock (409): the order is recorded as
/// `OUT_OF_STOCK` under `orderId`, and its member hears of the next restock.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct OutOfStockResponse {
    #[schema(example = "out_of_stock")]
    error: &'static str,
    message: String,
    order_id: Uuid,
}

/// `POST /bookOrders/{id}/cancel`: the order was cancelled and its copies given back.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct BookOrderCancelledResponse {
    order_id: Uuid,
    #[schema(example = "CANCELLED")]
    order_status: &'static str,
}

/// Order copies of a book (a member, for themself; or an admin).
#[utoipa::path(
    post,
    path = "/bookOrders",
    tag = "bookOrders",
    params(CommandParams),
    request_body = OrderBookBody,
    responses(
        (status = 201, description = "Ordered: the copies were taken",
            body = Committed<BookOrderedResponse>,
            headers(("Location" = String, description = "The order's bookOrderList row"))),
        (status = 409, description = "Too few copies left (`out_of_stock`): the refusal is \
            recorded under `orderId`", body = Committed<OutOfStockResponse>),
        (status = 422, description = "A field is missing or invalid (`field` names it), \
            `member_not_found` (memberId), `book_not_found` (bookId), or the \
            Idempotency-Key was first used with another body", body = ErrorBody),
        JsonBodyErrors,
    )
)]
async fn order_book<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    headers: CommandHeaders,
    body: JsonBody<OrderBookBody>,
) -> Result<Response, ApiError> {
    headers.principal.require(&[Role::Customer, Role::Admin])?;
    let fields = body.parsed;
    let member_id = required("memberId", fields.member_id)?;
    let book_id = required("bookId", fields.book_id)?;
    let qty = required("qty", fields.qty)?;
    headers.principal.act_for("memberId", &member_id)?;
    let order_id = Uuid::now_v7();
    let (service, member_id) = (&service, &member_id);
    idempotency::run_deciding(
        service.log(),
        headers,
        body.raw,
        |context, key| async move {
            let _turn = service.turn_on(book_id).await;
            let outcome = service
                .deciding_again(|| async {
                    let mut context = context.clone();
                    let member = service.load::<Member>(member_stream(member_id)).await?;
                    if !member.has_joined() {
                        return Err(CommandError::rejected(&MemberError::NotFound("memberId")));
                    }
                    let book = service.decision::<Book>(book_id).await?;
                    let (Some(title), Some(price)) =
                        (book.aggregate().title(), book.aggregate().price())
                    else {
                        return Err(CommandError::rejected(&BookOrderError::BookNotFound));
                    };
                    let title = title.to_string();
                    let read = book.as_read();
                    let taken = match book.decide(BookCommand::TakeStock { order_id, qty }).await {
                        Ok(taken) => Some(taken),
                        Err(CommandError::Rejected {
                            code: "out_of_stock",
                            ..
                        }) => None,
                        Err(error) => return Err(error),
                    };
                    let order = OrderBook {
                        member_id: member_id.clone(),
                        book_id,
                        title,
                        qty,
                        price,
                        in_stock: taken.is_some(),
                        at: Utc::now(),
                    };
                    let amount = qty.saturating_mul(price);
                    let ordered = Decision::<BookOrder>::new(order_id)
                        .decide(BookOrderCommand::OrderBook(order))
                        .await?;
                    let accepted = match taken {
                        Some(_) => Accepted::created(
                            format!("/bookOrders/{order_id}"),
                            BookOrderedResponse {
                                order_id,
                                order_status: "ORDERED",
                                amount,
                            },
                        ),
                        None => Accepted::with_status(
                            StatusCode::CONFLICT,
                            OutOfStockResponse {
                                error: "out_of_stock",
                                message: format!("fewer than {qty} copies of the book are left"),
                                order_id,
                            },
                        ),
                    };
                    context.idempotency = key.claim(&accepted);
                    let appended = match &taken {
                        Some(taken) => service.commit_all(&[&ordered, taken], context).await?,
                        // Refused on the stock as read: only if it is still so.
                        None => service.commit_all(&[&ordered, &read], context).await?,
                    };
                    Ok((accepted, appended.position))
                })
                .await;
            service.counted("OrderBook", outcome)
        },
    )
    .await
}

/// Cancel a book order (its member, or an admin); its copies go back to the stock.
#[utoipa::path(
    post,
    path = "/bookOrders/{id}/cancel",
    tag = "bookOrders",
    params(("id" = Uuid, Path, description = "The order's id"), CommandParams),
    responses(
        (status = 200, description = "Cancelled", body = Committed<BookOrderCancelledResponse>),
        (status = 404, description = "No such order (`book_order_not_found`)", body = ErrorBody),
        (status = 409, description = "Already cancelled, or refused for want of stock",
            body = ErrorBody),
        (status = 422, description = "The id is not a UUID, or the Idempotency-Key was first \
            used with another body", body = ErrorBody),
        CommandErrors,
    )
)]
async fn cancel_book_order<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    ResourceId(order_id): ResourceId,
    headers: CommandHeaders,
) -> Result<Response, ApiError> {
    headers.principal.require(&[Role::Customer, Role::Admin])?;
    let requested_by = headers.principal.confined_to().map(str::to_owned);
    let accepted = Accepted::ok(BookOrderCancelledResponse {
        order_id,
        order_status: "CANCELLED",
    });
    let service = &service;
    idempotency::run(
        service.log(),
        headers,
        Value::Null,
        accepted,
        |context| async move {
            let outcome = service
                .deciding_again(|| async {
                    let cancel = BookOrderCommand::CancelBookOrder {
                        requested_by: requested_by.clone(),
                    };
                    let cancelled = service
                        .decision::<BookOrder>(order_id)
                        .await?
                        .decide(cancel)
                        .await?;
                    let Some((book_id, qty)) = cancelled.aggregate().book_and_qty() else {
                        return Err(CommandError::rejected(&BookOrderError::NotFound));
                    };
                    let _turn = service.turn_on(book_id).await;
                    let returned = service
                        .decision::<Book>(book_id)
                        .await?
                        .decide(BookCommand::ReturnStock { order_id, qty })
                        .await?;
                    service
                        .commit_all(&[&cancelled, &returned], context.clone())
                        .await
                })
                .await;
            Ok(service.counted("CancelBookOrder", outcome)?.position)
        },
    )
    .await
}
