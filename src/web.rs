//! The web page at `/`: the mypage, the manager's desk and the operations page, served
//! from assets embedded in the binary at build time (SPEC §8). Nothing is fetched from
//! elsewhere, and the page's Content-Security-Policy says so to the browser.
//!
//! The page is plain HTML, CSS and one script (`web/app.js`) that calls the same API
//! as any client, with the bearer token the user signed in with; the server renders
//! nothing per user, so these routes need no token. `/docs` ([`crate::openapi`]) serves
//! its API browser, vendored under `web/vendor/`, through [`Asset`] too.

use std::hash::{DefaultHasher, Hash, Hasher};

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::Router;

/// The page's policy: its own origin only, no inline script or style, no framing.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                        img-src 'self'; connect-src 'self'; base-uri 'none'; \
                        form-action 'none'; frame-ancestors 'none'";

/// `GET /` and the page's assets.
pub fn routes() -> Router {
    Router::new()
        .route(
            "/",
            Asset::new(include_bytes!("web/index.html"), "text/html; charset=utf-8")
                .policy(PAGE_CSP)
                .get(),
        )
        .route(
            "/assets/app.js",
            Asset::new(
                include_bytes!("web/app.js"),
                "text/javascript; charset=utf-8",
            )
            .get(),
        )
        .route(
            "/assets/style.css",
            Asset::new(include_bytes!("web/style.css"), "text/css; charset=utf-8").get(),
        )
        .route(
            "/assets/icon.svg",
            Asset::new(include_bytes!("web/icon.svg"), "image/svg+xml").get(),
        )
}

/// A file compiled into the binary, served with its content type and caching.
#[derive(Clone, Copy)]
pub(crate) struct Asset {
    body: &'static [u8],
    content_type: &'static str,
    /// A path that names a version (a vendored library's) never changes: cached for a
    /// year. Otherwise the browser asks again each time and gets a 304 while the
    /// binary is the same.
    immutable: bool,
    csp: Option<&'static str>,
}

impl Asset {
    pub(crate) const fn new(body: &'static [u8], content_type: &'static str) -> Self {
        Self {
            body,
            content_type,
            immutable: false,
            csp: None,
        }
    }

    /// Cached for a year: for a path that holds its version.
    pub(crate) const fn immutable(self) -> Self {
        Self {
            immutable: true,
            ..self
        }
    }

    /// An HTML page's Content-Security-Policy.
    pub(crate) const fn policy(self, csp: &'static str) -> Self {
        Self {
            csp: Some(csp),
            ..self
        }
    }

    /// The `GET` (and `HEAD`) route that serves it.
    pub(crate) fn get<S: Clone + Send + Sync + 'static>(self) -> MethodRouter<S> {
        get(move |request: HeaderMap| std::future::ready(self.respond(&request)))
    }

    fn respond(self, request: &HeaderMap) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        if let Some(csp) = self.csp {
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(csp),
            );
        }
        if self.immutable {
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            return (headers, self.body).into_response();
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        let etag = self.etag();
        let unchanged = request
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|tag| tag.trim() == etag || tag.trim() == "*");
        if let Ok(value) = HeaderValue::from_str(&etag) {
            headers.insert(header::ETAG, value);
        }
        if unchanged {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        (headers, self.body).into_response()
    }

    /// A digest of the content: the same for the same binary's file (the page's
    /// assets are a few kilobytes, hashed per request).
    fn etag(self) -> String {
        let mut hasher = DefaultHasher::new();
        self.body.hash(&mut hasher);
        format!("\"{:016x}\"", hasher.finish())
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use hyper::service::Service;
    use hyper_util::service::TowerToHyperService;

    use super::*;

    async fn get(path: &str, if_none_match: Option<&str>) -> Response {
        let mut request = Request::get(path);
        if let Some(tag) = if_none_match {
            request = request.header(header::IF_NONE_MATCH, tag);
        }
        let router = TowerToHyperService::new(routes());
        router
            .call(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_page_is_html_that_loads_only_its_own_assets() {
        let response = get("/", None).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
        assert!(response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'"));
        let html = include_str!("web/index.html");
        assert!(!html.contains("http://") && !html.contains("https://"));
    }

    #[tokio::test]
    async fn each_asset_has_its_content_type() {
        for (path, content_type) in [
            ("/assets/app.js", "text/javascript; charset=utf-8"),
            ("/assets/style.css", "text/css; charset=utf-8"),
            ("/assets/icon.svg", "image/svg+xml"),
        ] {
            let response = get(path, None).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(response.headers()[header::CONTENT_TYPE], content_type);
        }
    }

    #[tokio::test]
    async fn an_unchanged_asset_is_not_sent_again() {
        let first = get("/assets/app.js", None).await;
        let etag = first.headers()[header::ETAG].to_str().unwrap().to_string();
        let again = get("/assets/app.js", Some(&etag)).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        let other = get("/assets/app.js", Some("\"other\"")).await;
        assert_eq!(other.status(), StatusCode::OK);
    }
}
