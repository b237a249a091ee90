//! `POST /books` (register a book) and `POST /books/{id}/stock` (add copies): managers'
//! and admins' commands.

use std::sync::Arc;

use auth::Role;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use chrono::Utc;
use domain::bookstore::book::{Book, BookCommand, RegisterBook};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dispatch::CommandService;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{required, CommandHeaders, JsonBody, ResourceId};
use crate::http::idempotency::{self, Accepted, Committed};
use crate::http::openapi::{CommandParams, JsonBodyErrors};
use crate::store::EventLog;

pub fn router<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new()
        .route("/books", post(register_book::<L>))
        .route("/books/{id}/stock", post(add_stock::<L>))
}

/// Every field is required: a missing or null one is a 422 naming it.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct RegisterBookBody {
    /// 1 to 200 characters.
    #[schema(value_type = String, required = true, example = "데미안", min_length = 1, max_length = 200, pattern = r"^[^\x00]*$")]
    title: Option<String>,
    /// 1 to 100 characters.
    #[schema(value_type = String, required = true, example = "Hermann Hesse", min_length = 1, max_length = 100, pattern = r"^[^\x00]*$")]
    author: Option<String>,
    /// 1 to 1,000,000, in the smallest unit of the currency.
    #[schema(value_type = i64, required = true, example = 12000, minimum = 1, maximum = 1000000)]
    price: Option<i64>,
    /// Copies at registration: 0 to 100,000.
    #[schema(value_type = i64, required = true, example = 5, minimum = 0, maximum = 100000)]
    stock: Option<i64>,
}

/// Copies to add.
#[derive(Deserialize, ToSchema)]
struct AddStockBody {
    /// 1 to 10,000.
    #[schema(value_type = i64, required = true, example = 10, minimum = 1, maximum = 10000)]
    qty: Option<i64>,
}

/// `POST /books`: the book is in the catalogue.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct BookRegisteredResponse {
    book_id: Uuid,
}

/// `POST /books/{id}/stock`: the copies were added.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct StockAddedResponse {
    book_id: Uuid,
    /// Copies in stock after this command.
    stock: i64,
}

/// Register a book (manager or admin).
#[utoipa::path(
    post,
    path = "/books",
    tag = "books",
    params(CommandParams),
    request_body = RegisterBookBody,
    responses(
        (status = 201, description = "Registered", body = Committed<BookRegisteredResponse>,
            headers(("Location" = String, description = "The book's bookList row"))),
        (status = 422, description = "A field is missing or invalid (`field` names it), or the \
            Idempotency-Key was first used with another body", body = ErrorBody),
        JsonBodyErrors,
    )
)]
async fn register_book<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    headers: CommandHeaders,
    body: JsonBody<RegisterBookBody>,
) -> Result<Response, ApiError> {
    headers.principal.require(&[Role::Manager, Role::Admin])?;
    let fields = body.parsed;
    let book = RegisterBook {
        title: required("title", fields.title)?,
        author: required("author", fields.author)?,
        price: required("price", fields.price)?,
        stock: required("stock", fields.stock)?,
        at: Utc::now(),
    };
    let book_id = Uuid::now_v7();
    let accepted = Accepted::created(
        format!("/books/{book_id}"),
        BookRegisteredResponse { book_id },
    );
    idempotency::run(
        service.log(),
        headers,
        body.raw,
        accepted,
        |context| async {
            let command = BookCommand::RegisterBook(book);
            let appended = service
                .execute_new::<Book>(book_id, command, context)
                .await?;
            Ok(appended.position)
        },
    )
    .await
}

/// Add copies of a book (manager or admin).
#[utoipa::path(
    post,
    path = "/books/{id}/stock",
    tag = "books",
    params(("id" = Uuid, Path, description = "The book's id"), CommandParams),
    request_body = AddStockBody,
    responses(
        (status = 200, description = "Added", body = Committed<StockAddedResponse>),
        (status = 404, description = "No such book (`book_not_found`)", body = ErrorBody),
        (status = 422, description = "The id is not a UUID, qty is missing or invalid, or the \
            Idempotency-Key was first used with another body", body = ErrorBody),
        JsonBodyErrors,
    )
)]
async fn add_stock<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    ResourceId(book_id): ResourceId,
    headers: CommandHeaders,
    body: JsonBody<AddStockBody>,
) -> Result<Response, ApiError> {
    headers.principal.require(&[Role::Manager, Role::Admin])?;
    let qty = required("qty", body.parsed.qty)?;
    let command = BookCommand::AddStock {
        qty,
        at: Utc::now(),
    };
    let (service, command) = (&service, &command);
    idempotency::run_deciding(
        service.log(),
        headers,
        body.raw,
        |context, key| async move {
            let _turn = service.turn_on(book_id).await;
            let outcome = service
                .deciding_again(|| async {
                    let mut context = context.clone();
                    let added = service
                        .decision::<Book>(book_id)
                        .await?
                        .decide(command.clone())
                        .await?;
                    let stock = added.aggregate().stock();
                    let accepted = Accepted::ok(StockAddedResponse { book_id, stock });
                    context.idempotency = key.claim(&accepted);
                    let appended = service.commit_all(&[&added], context).await?;
                    Ok((accepted, appended.position))
                })
                .await;
            service.counted("AddStock", outcome)
        },
    )
    .await
}
