//! The OpenAPI document each process mode serves at `/openapi.json`, with a page to
//! browse it at `/docs`. Each crate and each context generates its part from its
//! handlers' annotations (`command_api::http::ApiDoc`, a context's
//! `command_api::Commands::openapi`, `read_api::registry::openapi`,
//! [`crate::admin::AdminDoc`]); this module only merges the parts a process serves.
//!
//! `/docs` is RapiDoc, vendored in `src/web/vendor/rapidoc/` and served from the binary
//! like the web page's assets: the page works offline and loads nothing from a CDN.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa::OpenApi as _;

use crate::admin::AdminDoc;
use crate::web::Asset;

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

/// The policy of `/docs`: its own origin only. RapiDoc styles its elements inline and
/// draws icons from `data:` URLs.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                        img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                        base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `GET /openapi.json` (the document) and `GET /docs` (a page to browse it, with its
/// script; the vendored library's path names its version, so it is cached for good).
pub fn routes(doc: OpenApi) -> Router {
    Router::new()
        .route(
            "/openapi.json",
            get(move || std::future::ready(Json(doc.clone()))),
        )
        .route(
            "/docs",
            Asset::new(include_bytes!("web/docs.html"), "text/html; charset=utf-8")
                .policy(DOCS_CSP)
                .get(),
        )
        .route(
            "/docs/docs.js",
            Asset::new(
                include_bytes!("web/docs.js"),
                "text/javascript; charset=utf-8",
            )
            .get(),
        )
        .route(
            "/docs/rapidoc-9.3.8/rapidoc-min.js",
            Asset::new(
                include_bytes!("web/vendor/rapidoc/rapidoc-min.js"),
                "text/javascript; charset=utf-8",
            )
            .immutable()
            .get(),
        )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use hyper::service::Service;
    use hyper_util::service::TowerToHyperService;

    use super::*;

    const BROWSER: &str = "/docs/rapidoc-9.3.8/rapidoc-min.js";

    #[tokio::test]
    async fn the_docs_page_loads_its_browser_from_this_server_only() {
        let page = include_str!("web/docs.html");
        assert!(page.contains(&format!("src=\"{BROWSER}\"")));
        assert!(!page.contains("http://") && !page.contains("https://"));

        let router = TowerToHyperService::new(routes(OpenApi::default()));
        for (path, content_type) in [
            ("/docs", "text/html; charset=utf-8"),
            ("/docs/docs.js", "text/javascript; charset=utf-8"),
            (BROWSER, "text/javascript; charset=utf-8"),
        ] {
            let request = Request::get(path).body(Body::empty()).unwrap();
            let response = router.call(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(response.headers()[header::CONTENT_TYPE], content_type);
        }
        let request = Request::get(BROWSER).body(Body::empty()).unwrap();
        let response = router.call(request).await.unwrap();
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
    }
}
