//! The OpenAPI documents: every route of SPEC §4 is in the one `strata serve` serves,
//! every operation in it is routed, each split process serves its own part, and `/docs`
//! is a page. The documents do not depend on the store, so this runs on SQLite only.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::support::{streams, with_app, Store, TestApp};

/// SPEC §4's commands, reads and operations, with the path templates the routes declare.
const SPEC_ROUTES: [(&str, &str); 53] = [
    ("post", "/orders"),
    ("post", "/orders/{id}/cancel"),
    ("post", "/deliveries/{id}/cancel"),
    ("post", "/bookings"),
    ("post", "/bookings/{id}/cancel"),
    ("post", "/confirms/{id}/complete"),
    ("post", "/confirms/{id}/deny"),
    ("get", "/orderLists"),
    ("get", "/orderLists/{id}"),
    ("get", "/mypages/{id}"),
    ("get", "/mypages/{id}/changes"),
    ("get", "/bookingLists"),
    ("get", "/bookingLists/{id}"),
    ("get", "/notifications"),
    ("post", "/books"),
    ("post", "/books/{id}/stock"),
    ("post", "/members"),
    ("post", "/bookOrders"),
    ("post", "/bookOrders/{id}/cancel"),
    ("get", "/books"),
    ("get", "/books/{id}"),
    ("get", "/bookOrders"),
    ("get", "/bookOrders/{id}"),
    ("get", "/members"),
    ("get", "/members/{id}"),
    ("post", "/hotelRooms"),
    ("post", "/hotelRooms/{id}/delete"),
    ("post", "/hotelBookings"),
    ("post", "/hotelBookings/{id}/cancel"),
    ("get", "/hotelRooms"),
    ("get", "/hotelRooms/{id}"),
    ("get", "/hotelBookings"),
    ("get", "/hotelBookings/{id}"),
    ("post", "/cars"),
    ("post", "/carOrders"),
    ("post", "/carOrders/{id}/cancel"),
    ("get", "/cars"),
    ("get", "/cars/{id}"),
    ("get", "/carOrders"),
    ("get", "/carOrders/{id}"),
    ("post", "/missions"),
    ("post", "/rewards/{id}/exchange"),
    ("get", "/missions"),
    ("get", "/missions/{id}"),
    ("get", "/rewards"),
    ("get", "/rewards/{id}"),
    ("get", "/admin/outbound"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("get", "/admin/projections"),
    ("get", "/admin/projections/changes"),
    ("post", "/admin/projections/{name}/rebuild"),
    ("get", "/admin/streams/{aggregate_type}/{id}"),
];

#[tokio::test]
async fn the_openapi_document_has_every_route_and_docs_is_a_page() {
    let app = TestApp::spawn(Store::Sqlite).await;
    let reply = app.get("/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/json")));
    let doc = reply.body;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));

    let missing: Vec<_> = SPEC_ROUTES
        .iter()
        .filter(|(method, path)| doc["paths"][path][method].is_null())
        .collect();
    assert!(missing.is_empty(), "not in /openapi.json: {missing:?}");

    // The mypage's schema lists every context's section beside the page's own fields.
    let page = &doc["components"]["schemas"]["MyPage"]["properties"];
    for field in [
        "userId",
        "orders",
        "bookings",
        "notifications",
        "position",
        "updatedAt",
    ] {
        assert!(page[field].is_object(), "MyPage has no {field}: {page}");
    }

    // The other way round: every documented operation is one the server routes.
    for (method, path) in operations(&doc) {
        let url = format!("{}{}", app.address, with_sample_parameters(&path));
        let request = match method.as_str() {
            "get" => app.client.get(url),
            "post" => app.client.post(url),
            other => panic!("{other} {path}: a method no route uses"),
        };
        let response = request.send().await.expect("request sent");
        let status = response.status();
        // A live stream never ends: that it answered as a stream is the answer.
        let body: Value = match crate::support::is_event_stream(&response) {
            true => Value::Null,
            false => response.json().await.unwrap_or(Value::Null),
        };
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_ne!(body["error"], "route_not_found", "{method} {path}");
    }

    // Bearer JWTs for everything but what an operation leaves open (`security: [{}]`),
    // and the server agrees with the document about which is which.
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(doc["security"], json!([{"bearer": []}]));
    let anonymous = reqwest::Client::new();
    for (method, path) in operations(&doc) {
        let open = doc["paths"][&path][&method]["security"] == json!([{}]);
        let url = format!("{}{}", app.address, with_sample_parameters(&path));
        let request = match method.as_str() {
            "get" => anonymous.get(url),
            _ => anonymous.post(url),
        };
        let status = request.send().await.expect("request sent").status();
        assert_eq!(
            status == StatusCode::UNAUTHORIZED,
            !open,
            "{method} {path}: {status}"
        );
    }
    assert!(doc["paths"]["/health/ready"]["get"]["security"] == json!([{}]));

    let docs = app
        .client
        .get(format!("{}/docs", app.address))
        .send()
        .await
        .expect("request sent");
    assert_eq!(docs.status(), StatusCode::OK);
    let content_type = docs.headers()["content-type"].to_str().expect("ASCII");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(docs.text().await.expect("a body").contains("<html"));
}

#[tokio::test]
async fn each_split_process_serves_the_document_of_its_own_routes() {
    let app = TestApp::spawn(Store::Sqlite).await;
    let (commands, reads) = with_app!(&app.backend, app_of_store => {
        let commands = app_of_store
            .command_api_router(app.tokens.clone(), streams())
            .await
            .expect("router");
        let freshness = read_api::Freshness::new(Duration::from_secs(2));
        let views = app_of_store.view_store(1).await.expect("views");
        let reads = app_of_store.read_api_router(views, freshness, app.tokens.clone(), streams(), None);
        (commands, reads)
    });

    let command_doc = openapi_of(commands).await;
    let read_doc = openapi_of(reads).await;
    for (method, path) in SPEC_ROUTES {
        let is_health = path.starts_with("/health/");
        let is_read = method == "get" && !is_health && !path.starts_with("/admin/");
        let in_command = !command_doc["paths"][path][method].is_null();
        let in_read = !read_doc["paths"][path][method].is_null();
        assert_eq!(
            in_command, !is_read,
            "{method} {path} in the command API's document"
        );
        assert_eq!(
            in_read,
            is_read || is_health,
            "{method} {path} in the read API's document"
        );
    }
}

/// Every `(method, path)` under `paths`.
fn operations(doc: &Value) -> Vec<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            let methods = item.as_object().expect("a path item");
            methods.keys().map(|method| (method.clone(), path.clone()))
        })
        .collect()
}

/// `path` with each `{parameter}` replaced by a value of the right shape.
fn with_sample_parameters(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{aggregate_type}" => "Order",
            "{name}" => "noSuchView",
            s if s.starts_with('{') => "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Serves `router` on a port of its own and fetches its `/openapi.json`.
async fn openapi_of(router: axum::Router) -> Value {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(strata::serve(listener, router, std::future::pending()));
    let response = reqwest::get(format!("http://{address}/openapi.json"))
        .await
        .expect("request sent");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("a JSON document")
}
