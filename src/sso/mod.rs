//! Sign-on: SAML toward ENTs (Sesame as service provider) and toward publishers (Sesame as
//! identity provider). The engine lives in `saml`; registration of partners and release contracts
//! in `registry` and `contracts`; the flow (entry URL, assertion consumer services, release) in
//! `launch` and `acs`.

mod acs;
mod console_login;
pub mod contracts;
pub mod launch;
mod metadata_route;
pub mod metrics;
mod pages;
pub mod refresh;
pub mod registry;
pub mod saml;
mod to_ent;

use actix_web::web;

use saml::endpoints::{
    CONSOLE_ACS_PATH, CONSOLE_METADATA_PATH, IDP_METADATA_PATH, IDP_SSO_PATH, SP_ACS_PATH, SP_METADATA_PATH,
};

/// Path of the entry URL ENTs link resources to (`urlAccesRessource`).
pub use crate::domain::entry_url::ENTRY_PATH;

/// Routes of the public (browser) listener.
pub fn configure_public(cfg: &mut web::ServiceConfig) {
    cfg.route(IDP_METADATA_PATH, web::get().to(metadata_route::idp_metadata))
        .route(IDP_SSO_PATH, web::get().to(launch::idp_sso_redirect))
        .route(IDP_SSO_PATH, web::post().to(launch::idp_sso_post))
        .route(SP_METADATA_PATH, web::get().to(acs::sp_metadata))
        .route(SP_ACS_PATH, web::post().to(acs::resources_acs))
        .route(CONSOLE_METADATA_PATH, web::get().to(acs::console_metadata))
        .route(CONSOLE_ACS_PATH, web::post().to(acs::console_acs))
        .route("/console/login/ent", web::get().to(console_login::sign_in))
        .route(ENTRY_PATH, web::get().to(launch::domaine_gar))
        .route("/logout", web::get().to(launch::logout));
}
