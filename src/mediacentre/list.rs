//! `GET /ressources/{idENT}/{UAI}/{GARPersonIdentifiant}` (mutual TLS): the GAR's listing call, and
//! `GET /ressources/{idENT}/-/{GARPersonIdentifiant}`, every school of the person in one answer.
//!
//! The hottest path of Sesame: the caller's certificate, the grants and the notices are read in
//! one trip to the blocking pool (on one snapshot with SQLite).

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;

use super::error::ApiError;
use super::listing::{self, Listing, ListingError, Notices, Scope};
use super::notice_cache::NoticeCache;
use super::render::{self, Context};
use super::respond;
use crate::domain::Uai;
use crate::domain::entitlement::Clock;
use crate::http::AppState;
use crate::http::caller::{Caller, CallerError, PeerCertificate};
use crate::pki::CertificateInfo;
use crate::store::partners::CallerKind;
use crate::store::{AnyConnection, StoreError, read_snapshot};

/// The `{UAI}` segment that asks for every school of the person.
pub const ALL_SCHOOLS: &str = "-";

/// Who asks for a listing.
pub(super) enum Access {
    /// An ENT server, by its certificate: checked against the `idENT` it asks about.
    Certificate(CertificateInfo),
    /// A browser with a widget token, already opened: the token names the ENT project.
    Token,
}

pub(super) async fn list_resources(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    state: web::Data<AppState>,
    cache: web::Data<NoticeCache>,
) -> Result<HttpResponse, ApiError> {
    let resource = req.path();
    let Some(PeerCertificate(certificate)) = req.conn_data::<PeerCertificate>().cloned() else {
        return Err(ApiError::caller(&CallerError::NoCertificate, resource));
    };
    let (ent_id, uai, gar_id) = path.into_inner();
    let scope = if uai == ALL_SCHOOLS {
        Scope::AllSchools
    } else {
        Scope::School(Uai::parse(&uai).map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "UAI invalide", resource))?)
    };
    serve(&req, &state, cache.into_inner(), Access::Certificate(certificate), ent_id, gar_id, scope).await
}

/// Why a listing was refused, found in the blocking work.
enum Refusal {
    Caller(CallerError),
    ForeignEnt,
    Listing(ListingError),
}

/// Identifies the caller (certificate access), resolves, renders and answers a listing; shared
/// with the widget's token-authenticated endpoint.
pub(super) async fn serve(
    req: &HttpRequest,
    state: &AppState,
    cache: std::sync::Arc<NoticeCache>,
    access: Access,
    ent_id: String,
    gar_id: String,
    scope: Scope,
) -> Result<HttpResponse, ApiError> {
    let resource = req.path();
    let format = respond::negotiate(req);
    let with_schools = scope == Scope::AllSchools;
    let ent = ent_id.clone();
    let identify_by = state.config.tls.identify_by;
    let refresh = Duration::from_secs(state.config.mediacentre.catalogue_refresh_secs);
    let clock = Clock::new(Utc::now().naive_utc(), state.config.licences.deletion_grace_days);
    let outcome = state
        .store(move |conn| {
            let work = |conn: &mut AnyConnection| -> Result<Result<Listing, Refusal>, StoreError> {
                if let Access::Certificate(certificate) = &access {
                    // Checked first, so that one project learns nothing about another's schools or people.
                    match Caller::find(conn, identify_by, certificate)? {
                        None => return Ok(Err(Refusal::Caller(CallerError::Unregistered))),
                        Some(c) if c.kind != CallerKind::Ent => {
                            return Ok(Err(Refusal::Caller(CallerError::WrongKind("an ENT project"))));
                        }
                        Some(c) if c.id != ent => return Ok(Err(Refusal::ForeignEnt)),
                        Some(_) => {}
                    }
                }
                let notices = Notices { cache: &cache, refresh };
                match listing::list(conn, &notices, &ent, &gar_id, &scope, clock) {
                    Ok(listing) => Ok(Ok(listing)),
                    Err(ListingError::Store(e)) => Err(e),
                    Err(refused) => Ok(Err(Refusal::Listing(refused))),
                }
            };
            // SQLite: one read transaction for all the queries (one WAL read lock, one snapshot).
            // PostgreSQL: plain statements; a transaction would cost round trips a listing does
            // not need.
            match conn {
                AnyConnection::Sqlite(_) => read_snapshot(conn, work),
                AnyConnection::Postgresql(_) => work(conn),
            }
        })
        .await
        .map_err(|e| ApiError::store(&e, resource))?;
    let listing = outcome.map_err(|refusal| match refusal {
        Refusal::Caller(e) => ApiError::caller(&e, resource),
        Refusal::ForeignEnt => ApiError::foreign_ent(resource),
        Refusal::Listing(ListingError::UnknownSchool) => ApiError::unknown_school(resource),
        Refusal::Listing(ListingError::UnknownPerson) => ApiError::unknown_person(resource),
        Refusal::Listing(ListingError::NotInSchool) => ApiError::not_in_school(resource),
        Refusal::Listing(ListingError::Store(e)) => ApiError::store(&e, resource),
    })?;
    let public_url = state.config.public_url();
    let context = Context { public_url: &public_url, ent_id: &ent_id, with_schools };
    let body = render::render(&listing, format, &context);
    Ok(respond::with_etag(req, body, format.content_type()))
}
