//! `GET /idp/metadata`: Sesame's identity provider metadata, for publishers to register. The
//! URL is also the default entity ID, as the GAR requires of its partners.

use actix_web::{HttpResponse, web};

use super::saml::metadata::CONTENT_TYPE;
use crate::http::AppState;

pub async fn idp_metadata(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        // Short enough that a staged rotation certificate reaches partners well before it is used.
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(state.saml.idp_metadata().to_owned())
}
