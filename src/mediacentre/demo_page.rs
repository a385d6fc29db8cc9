//! `GET /demo/ent`: placeholder.
use actix_web::HttpResponse;
pub(super) async fn demo_ent_page() -> HttpResponse {
    HttpResponse::NotFound().finish()
}
