//! `POST /members`: a customer joins the bookstore, in their own name.

use std::sync::Arc;

use auth::Role;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use chrono::Utc;
use domain::bookstore::member::{member_stream, Member, MemberCommand};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dispatch::CommandService;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{required, CommandHeaders, JsonBody};
use crate::http::idempotency::{self, Accepted, Committed};
use crate::http::openapi::{CommandParams, JsonBodyErrors};
use crate::store::EventLog;

pub fn router<L: EventLog>() -> Router<Arc<CommandService<L>>> {
    Router::new().route("/members", post(join::<L>))
}

/// Every field is required: a missing or null one is a 422 naming it.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct JoinBody {
    /// The customer's own id (the token's sub).
    #[schema(value_type = String, required = true, example = "customer-1", min_length = 1, max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")]
    member_id: Option<String>,
    /// 1 to 100 characters.
    #[schema(value_type = String, required = true, example = "Kim", min_length = 1, max_length = 100, pattern = r"^[^\x00]*$")]
    name: Option<String>,
}

/// `POST /members`: the customer is a member.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct JoinedResponse {
    member_id: String,
}

/// Join the bookstore (a customer, for their own sub; or an admin).
#[utoipa::path(
    post,
    path = "/members",
    tag = "members",
    params(CommandParams),
    request_body = JoinBody,
    responses(
        (status = 201, description = "Joined", body = Committed<JoinedResponse>,
            headers(("Location" = String, description = "The member's memberList row"))),
        (status = 409, description = "Already a member (`member_already_joined`)",
            body = ErrorBody),
        (status = 422, description = "A field is missing or invalid (`field` names it), or the \
            Idempotency-Key was first used with another body", body = ErrorBody),
        JsonBodyErrors,
    )
)]
async fn join<L: EventLog>(
    State(service): State<Arc<CommandService<L>>>,
    headers: CommandHeaders,
    body: JsonBody<JoinBody>,
) -> Result<Response, ApiError> {
    headers.principal.require(&[Role::Customer, Role::Admin])?;
    let fields = body.parsed;
    let member_id = required("memberId", fields.member_id)?;
    let name = required("name", fields.name)?;
    headers.principal.act_for("memberId", &member_id)?;
    let accepted = Accepted::created(
        format!("/members/{member_id}"),
        JoinedResponse {
            member_id: member_id.clone(),
        },
    );
    idempotency::run(
        service.log(),
        headers,
        body.raw,
        accepted,
        |context| async {
            let stream = member_stream(&member_id);
            let command = MemberCommand::JoinMembership {
                member_id,
                name,
                at: Utc::now(),
            };
            let appended = service
                .execute_new::<Member>(stream, command, context)
                .await?;
            Ok(appended.position)
        },
    )
    .await
}
