//! Sign-on: SAML toward ENTs (Sesame as service provider) and toward publishers (Sesame as
//! identity provider). The engine lives in `saml`; this module mounts its public routes.

mod metadata_route;
pub mod saml;

use actix_web::web;

/// Routes of the public (browser) listener.
pub fn configure_public(cfg: &mut web::ServiceConfig) {
    cfg.route(saml::endpoints::IDP_METADATA_PATH, web::get().to(metadata_route::idp_metadata));
}
