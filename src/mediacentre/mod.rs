//! The médiacentre: the GAR-compatible listing of each user's resources for ENT portals, the
//! catalogue of distributable resources, and the embeddable `<sesame-mediacentre>` widget.
//!
//! Mutual-TLS listener (ENT servers):
//! - `GET /ressources/{idENT}/{UAI}/{GARPersonIdentifiant}`: the GAR's call, JSON or XML;
//! - `GET /ressources/{idENT}/-/{GARPersonIdentifiant}`: every school of the person at once;
//! - `GET /ressourcesDiffusables`: the catalogue (XML);
//! - `POST /mediacentre/v1/{idENT}/tokens`: a short-lived widget token for one user.
//!
//! Public listener (browsers):
//! - `GET /mediacentre/widget.js`: the web component;
//! - `GET /mediacentre/v1/ressources` (+ CORS preflight): the listing, with a widget token;
//! - `GET /demo/ent` (+ `/demo/ent/token`): a demo ENT page embedding the widget (only with
//!   `mediacentre.demo_page`).

mod demo_page;
mod diffusables;
mod error;
mod list;
pub mod listing;
pub mod notice_cache;
mod render;
mod respond;
pub mod token;
pub mod tokens;
mod widget;

use actix_web::middleware::Compress;
use actix_web::web;

pub use crate::domain::entry_url::access_url;
pub use error::ApiError;
use notice_cache::NoticeCache;

/// Routes for ENT servers; responses are gzipped when the client asks (OPEN-ENT-NG always does).
pub fn configure_mtls(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(NoticeCache::default()))
        .service(
            web::resource("/ressources/{idENT}/{UAI}/{GARPersonIdentifiant}")
                .wrap(Compress::default())
                .route(web::get().to(list::list_resources)),
        )
        .service(
            web::resource("/ressourcesDiffusables")
                .wrap(Compress::default())
                .route(web::get().to(diffusables::list_distributables)),
        )
        .route("/mediacentre/v1/{idENT}/tokens", web::post().to(tokens::issue_token));
}

/// Routes for browsers.
pub fn configure_public(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(NoticeCache::default()))
        .route("/mediacentre/widget.js", web::get().to(widget::widget_js))
        .service(
            web::resource(tokens::WIDGET_LISTING_PATH)
                .wrap(Compress::default())
                .route(web::get().to(widget::widget_listing))
                .route(web::method(actix_web::http::Method::OPTIONS).to(widget::widget_preflight)),
        )
        .route("/demo/ent", web::get().to(demo_page::demo_ent_page))
        .route("/demo/ent/token", web::get().to(demo_page::demo_ent_token));
}
