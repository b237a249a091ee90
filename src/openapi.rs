//! The OpenAPI document each process mode serves at `/openapi.json`, with a page to
//! browse it at `/docs`. Each crate and each context generates its part from its
//! handlers' annotations (`command_api::http::ApiDoc`, a context's
//! `command_api::Commands::openapi`, `read_api::registry::openapi`,
//! [`crate::admin::AdminDoc`]); this module only merges the parts a process serves.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa::OpenApi as _;
use utoipa_scalar::{Scalar, Servable};

use crate::admin::AdminDoc;

/// The name of the bearer-token security scheme in the documents.
const BEARER: &str = "bearer";

/// Everything in one (`strata serve`): commands, reads, `/admin/*` and `/health/*`;
/// `commands` are the contexts' parts, `reads` the read API's document.
pub fn all(commands: Vec<OpenApi>, reads: OpenApi) -> OpenApi {
    let mut doc = command(commands).merge_from(secured(reads));
    doc.info.title = "strata API".to_string();
    doc.info.description = Some(
        "Commands, reads over the materialized views, and operations. Every error is JSON \
         `{error, message, field?}` with a stable `error` code."
            .to_string(),
    );
    doc
}

/// The command API with `/admin/*` and `/health/*` (`strata command-api`); `commands`
/// are the contexts' parts.
pub fn command(commands: Vec<OpenApi>) -> OpenApi {
    let platform = command_api::http::ApiDoc::openapi().merge_from(AdminDoc::openapi());
    secured(commands.into_iter().fold(platform, OpenApi::merge_from))
}

/// The read API with `/health/*` (`strata read-api`); `reads` is the read API's
/// document.
pub fn read(reads: OpenApi) -> OpenApi {
    secured(reads.merge_from(command_api::http::HealthDoc::openapi()))
}

/// Every operation needs a bearer JWT unless it says otherwise (`/health/*` does).
fn secured(mut doc: OpenApi) -> OpenApi {
    let bearer = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .bearer_format("JWT")
        .description(Some(
            "HS256, signed with STRATA_JWT_SECRET; claims sub, role (customer, manager, \
             host or admin) and exp",
        ))
        .build();
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(BEARER, SecurityScheme::Http(bearer));
    doc.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
    doc
}

/// `GET /openapi.json` (the document) and `GET /docs` (a page to browse it).
pub fn routes(doc: OpenApi) -> Router {
    let page = Scalar::with_url("/docs", doc.clone()).title(doc.info.title.clone());
    Router::new()
        .route(
            "/openapi.json",
            get(move || std::future::ready(Json(doc.clone()))),
        )
        .merge(page)
}
