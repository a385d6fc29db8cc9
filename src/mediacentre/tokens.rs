//! `POST /mediacentre/v1/{idENT}/tokens` (mutual TLS): an ENT's server obtains a short-lived widget
//! token for one of its users, which the user's browser then presents to the public listener.
//!
//! Request `{"GARPersonIdentifiant": "…", "UAI": "…"}` (`UAI` optional: without it the token lists
//! every school of the person). Answer `{"token", "expiresIn", "listeRessourcesUrl"}`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::token::{TokenKey, WidgetClaims};
use crate::domain::Uai;
use crate::domain::entitlement::{AllSchools, Clock, Resolution};
use crate::http::AppState;
use crate::http::caller::{CallerError, EntCaller};
use crate::store::entitlements;

/// Path of the token-authenticated listing on the public listener.
pub const WIDGET_LISTING_PATH: &str = "/mediacentre/v1/ressources";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    #[serde(rename = "GARPersonIdentifiant")]
    gar_id: String,
    #[serde(rename = "UAI", default)]
    uai: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenResponse {
    token: String,
    /// Seconds.
    expires_in: u64,
    liste_ressources_url: String,
}

pub(super) async fn issue_token(
    req: HttpRequest,
    caller: Result<EntCaller, CallerError>,
    ent_id: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let resource = req.path();
    let EntCaller(caller) = caller.map_err(|e| ApiError::caller(&e, resource))?;
    let ent_id = ent_id.into_inner();
    if caller.id != ent_id {
        return Err(ApiError::foreign_ent(resource));
    }
    let bad = |message: String| ApiError::new(StatusCode::BAD_REQUEST, message, resource);
    let request: TokenRequest = serde_json::from_slice(&body)
        .map_err(|e| bad(format!("Requête invalide : {e} (attendu {{\"GARPersonIdentifiant\": …, \"UAI\": …}})")))?;
    let uai = request.uai.as_deref().map(Uai::parse).transpose().map_err(|_| bad("UAI invalide".into()))?;
    let claims = issue(&state, &ent_id, &request.gar_id, uai).await.map_err(|e| e.at(resource))?;
    let key = TokenKey::derive(&state.keys.pseudonym_secret);
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(TokenResponse {
        token: key.seal(&claims),
        expires_in: state.config.mediacentre.widget_token_ttl_secs,
        liste_ressources_url: format!("{}{WIDGET_LISTING_PATH}", state.config.public_url()),
    }))
}

/// Why no token was issued; placed on a request path by [`IssueError::at`].
#[derive(Debug)]
pub enum IssueError {
    UnknownSchool,
    UnknownPerson,
    NotInSchool,
    Store(crate::store::StoreError),
}

impl IssueError {
    pub fn at(self, resource: &str) -> ApiError {
        match self {
            IssueError::UnknownSchool => ApiError::unknown_school(resource),
            IssueError::UnknownPerson => ApiError::unknown_person(resource),
            IssueError::NotInSchool => ApiError::not_in_school(resource),
            IssueError::Store(e) => ApiError::store(&e, resource),
        }
    }
}

/// The claims of a token for a person the ENT project has (attached to `uai` when given),
/// valid for the configured lifetime. Used by the endpoint and by the demo ENT page.
pub async fn issue(state: &AppState, ent_id: &str, gar_id: &str, uai: Option<Uai>) -> Result<WidgetClaims, IssueError> {
    let (ent, person, school) = (ent_id.to_owned(), gar_id.to_owned(), uai.clone());
    let now = Utc::now();
    let clock = Clock::new(now.naive_utc(), state.config.licences.deletion_grace_days);
    state
        .store(move |conn| {
            Ok(match &school {
                Some(uai) => match entitlements::resolve(conn, &ent, &person, uai, clock)? {
                    Resolution::Granted(_) => Ok(()),
                    Resolution::UnknownSchool => Err(IssueError::UnknownSchool),
                    Resolution::UnknownPerson => Err(IssueError::UnknownPerson),
                    Resolution::NotInSchool => Err(IssueError::NotInSchool),
                },
                None => match entitlements::resolve_all(conn, &ent, &person, clock)? {
                    AllSchools::Schools { .. } => Ok(()),
                    AllSchools::UnknownPerson => Err(IssueError::UnknownPerson),
                },
            })
        })
        .await
        .map_err(IssueError::Store)??;
    let ttl = i64::try_from(state.config.mediacentre.widget_token_ttl_secs).unwrap_or(300);
    Ok(WidgetClaims { ent_id: ent_id.to_owned(), gar_id: gar_id.to_owned(), uai, expires_at: now.timestamp() + ttl })
}
