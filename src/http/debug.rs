//! Routes for operator drills, mounted only when `debug.wait_route` is set.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde::Deserialize;

#[derive(Deserialize)]
struct Wait {
    ms: u64,
}

/// `GET /_debug/wait?ms=N`: answers after N milliseconds (at most a minute), so a shutdown
/// drill can check that in-flight requests finish.
async fn wait(query: web::Query<Wait>) -> HttpResponse {
    let ms = query.ms.min(60_000);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    HttpResponse::Ok().body(format!("waited {ms} ms"))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/_debug/wait", web::get().to(wait));
}
