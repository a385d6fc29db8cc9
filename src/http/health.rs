//! Liveness and readiness probes for load balancers and orchestrators.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::server::AppState;
use crate::store;

/// `GET /healthz`: the process answers.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database answers and its schema is current.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.store(store::has_pending_migrations).await {
        Ok(false) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Ok(true) => HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "unavailable", "reason": "database migrations pending" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "unavailable", "reason": "database unreachable" }))
        }
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz)).route("/readyz", web::get().to(readyz));
}
