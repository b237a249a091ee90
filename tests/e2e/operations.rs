//! Health and the audit stream.

use reqwest::StatusCode;
use uuid::Uuid;

use crate::support::on_both_stores;

on_both_stores! {
    async fn health_answers_live_and_ready(app: TestApp) {
        assert_eq!(app.get("/health/live").await.status, StatusCode::OK);
        let ready = app.get("/health/ready").await;
        assert_eq!(ready.status, StatusCode::OK);
        assert_eq!(ready.body["status"], "ready");
    }

    async fn admin_routes_carry_the_correlation_id_like_every_route(app: TestApp) {
        let reply = app.get("/admin/projections").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.header("x-correlation-id").is_some());
        let missing = app.get("/admin/nowhere").await;
        assert_eq!(missing.body["error"], "route_not_found");
    }

    async fn unknown_streams_and_aggregate_types_answer_404(app: TestApp) {
        let stream = app.get(&format!("/admin/streams/Order/{}", Uuid::now_v7())).await;
        assert_eq!(stream.status, StatusCode::NOT_FOUND);
        assert_eq!(stream.body["error"], "stream_not_found");
        let kind = app.get(&format!("/admin/streams/Invoice/{}", Uuid::now_v7())).await;
        assert_eq!(kind.body["error"], "unknown_aggregate_type");
    }
}
