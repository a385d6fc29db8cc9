//! `GET /ressources/{idENT}/{UAI}/{GARPersonIdentifiant}` (mutual TLS): the GAR's listing call, and
//! `GET /ressources/{idENT}/-/{GARPersonIdentifiant}`, every school of the person in one answer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;

use super::error::ApiError;
use super::listing::{self, ListingError, Scope};
use super::render::{self, Context};
use super::respond;
use crate::domain::Uai;
use crate::http::AppState;
use crate::http::caller::{CallerError, EntCaller};

/// The `{UAI}` segment that asks for every school of the person.
pub const ALL_SCHOOLS: &str = "-";

pub(super) async fn list_resources(
    req: HttpRequest,
    caller: Result<EntCaller, CallerError>,
    path: web::Path<(String, String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let resource = req.path();
    let EntCaller(caller) = caller.map_err(|e| ApiError::caller(&e, resource))?;
    let (ent_id, uai, gar_id) = path.into_inner();
    // Checked first, so that one project cannot learn anything about another's schools or people.
    if caller.id != ent_id {
        return Err(ApiError::foreign_ent(resource));
    }
    let scope = if uai == ALL_SCHOOLS {
        Scope::AllSchools
    } else {
        Scope::School(Uai::parse(&uai).map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "UAI invalide", resource))?)
    };
    serve(&req, &state, ent_id, gar_id, scope).await
}

/// Resolves, renders and answers a listing; shared with the widget's token-authenticated endpoint.
pub(super) async fn serve(
    req: &HttpRequest,
    state: &AppState,
    ent_id: String,
    gar_id: String,
    scope: Scope,
) -> Result<HttpResponse, ApiError> {
    let resource = req.path();
    let format = respond::negotiate(req);
    let with_schools = scope == Scope::AllSchools;
    let ent = ent_id.clone();
    let now = Utc::now().naive_utc();
    let listing = state
        .store(move |conn| Ok(listing::list(conn, &ent, &gar_id, &scope, now)))
        .await
        .map_err(|e| ApiError::store(&e, resource))?
        .map_err(|e| match e {
            ListingError::UnknownSchool => ApiError::unknown_school(resource),
            ListingError::UnknownPerson => ApiError::unknown_person(resource),
            ListingError::NotInSchool => ApiError::not_in_school(resource),
            ListingError::Store(e) => ApiError::store(&e, resource),
        })?;
    let public_url = state.config.public_url();
    let context = Context { public_url: &public_url, ent_id: &ent_id, with_schools };
    let body = render::render(&listing, format, &context);
    Ok(respond::with_etag(req, body, format.content_type()))
}
