//! The abonnement web service (GAR-INTERFACES §2): distributors create, update, delete and search
//! their subscriptions, read the schools list and count allocations, exactly as with the GAR's
//! `abonnement.gar.education.fr`, on the mutual-TLS listener.
//!
//! Routes sit at the root like the GAR's host. The single-segment `/{idAbonnement}` route only
//! takes PUT, POST and DELETE (a resource guard, so other methods fall through to other routes),
//! and the fixed routes are registered first: `POST /abonnements` is a search, never an update.

mod abonnement;
mod counts;
mod create;
mod delete;
mod error;
mod filters;
pub mod national_import;
mod schools;
mod search;
mod update;
mod xml;

use actix_web::http::header::{self, Header};
use actix_web::{HttpRequest, guard, web};

pub use error::WsError;

use crate::domain::SirenIsni;
use crate::http::caller::{CallerError, DistributorCaller};

/// Mounts the service on the mutual-TLS listener.
pub fn configure_mtls(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/abonnements")
            .guard(guard::Any(guard::Get()).or(guard::Post()))
            .route(web::route().to(search::search_subscriptions)),
    )
    .service(
        web::resource("/etablissements/etablissements.xml")
            .guard(guard::Get())
            .route(web::get().to(schools::list_schools)),
    )
    .service(web::resource("/decompteaffectations").guard(guard::Get()).route(web::get().to(counts::count_allocations)))
    .service(
        web::resource("/{idAbonnement}")
            .guard(guard::Any(guard::Put()).or(guard::Post()).or(guard::Delete()))
            .route(web::put().to(create::create_subscription))
            .route(web::post().to(update::update_subscription))
            .route(web::delete().to(delete::delete_subscription)),
    );
}

/// The calling distributor's id, or the caller error rendered as the service's XML error.
fn distributor_of(caller: Result<DistributorCaller, CallerError>) -> Result<SirenIsni, WsError> {
    let DistributorCaller(caller) = caller?;
    // Registration only accepts SIREN_ISNI ids; anything else cannot own a subscription.
    SirenIsni::parse(&caller.id).map_err(|_| CallerError::Unregistered.into())
}

/// Whether the client asked for JSON (`Accept: application/json` ranked above XML); XML otherwise.
fn wants_json(req: &HttpRequest) -> bool {
    let Ok(accept) = header::Accept::parse(req) else { return false };
    for mime in accept.ranked() {
        match mime.subtype().as_str() {
            "json" => return true,
            "xml" => return false,
            _ => {}
        }
    }
    false
}

/// An answer carrying one subscription: `<abonnement xmlns=…>`, or its JSON object.
fn one_subscription(
    mut response: actix_web::HttpResponseBuilder,
    stored: &crate::store::subscriptions::StoredSubscription,
    json: bool,
) -> actix_web::HttpResponse {
    if json {
        return response.json(abonnement::to_json(stored));
    }
    let mut writer = xml::writer();
    abonnement::write(&mut writer, stored, true);
    response.content_type(xml::CONTENT_TYPE).body(writer.into_inner())
}
