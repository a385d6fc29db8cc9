//! Sesame's service providers toward ENTs: their metadata, and their assertion consumer services.
//! `POST /sp/acs` answers a request Sesame sent (from `/domaineGar`) and opens a sign-on session;
//! `POST /console/acs` also takes unsolicited (IdP-initiated) responses, and opens a console
//! session for assignment managers only. A refusal is a page with the reason's status, logged
//! (by the engine) and counted by reason.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;

use super::metrics;
use super::pages::{self, Message};
use super::saml::SpEntity;
use super::saml::metadata::CONTENT_TYPE;
use super::saml::verify::{AcsError, Refusal, SignedIn, receive_response};
use crate::http::AppState;
use crate::http::session;
use crate::store::managers;
use crate::store::sessions::SessionKind;

pub async fn sp_metadata(state: web::Data<AppState>) -> HttpResponse {
    metadata(&state, SpEntity::Resources)
}

pub async fn console_metadata(state: web::Data<AppState>) -> HttpResponse {
    metadata(&state, SpEntity::Console)
}

fn metadata(state: &AppState, entity: SpEntity) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(state.saml.sp_metadata(entity))
}

/// The HTTP-POST binding's form.
#[derive(Deserialize)]
pub struct PostedResponse {
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
}

/// `POST /sp/acs`.
pub async fn resources_acs(state: web::Data<AppState>, form: web::Form<PostedResponse>) -> HttpResponse {
    let signed_in = match receive(&state, form.into_inner(), SpEntity::Resources, "sp").await {
        Ok(signed_in) => signed_in,
        Err(page) => return page,
    };
    let (ent, gar) = (&signed_in.response.ent_id, &signed_in.response.gar_person_id);
    match session::open(&state, SessionKind::Launch, ent, gar).await {
        Ok(cookie) => see_other(local_path(signed_in.relay.as_deref()).unwrap_or("/")).cookie(cookie).finish(),
        Err(e) => {
            tracing::error!(ent = %ent, error = %e, "opening a sign-on session failed");
            pages::unavailable()
        }
    }
}

/// `POST /console/acs`.
pub async fn console_acs(state: web::Data<AppState>, form: web::Form<PostedResponse>) -> HttpResponse {
    let signed_in = match receive(&state, form.into_inner(), SpEntity::Console, "console").await {
        Ok(signed_in) => signed_in,
        Err(page) => return page,
    };
    let (ent, gar) = (signed_in.response.ent_id.clone(), signed_in.response.gar_person_id.clone());
    let (ent_id, gar_id) = (ent.clone(), gar.clone());
    let manager = match state.store(move |conn| managers::find(conn, &ent_id, &gar_id)).await {
        Ok(manager) => manager,
        Err(e) => {
            tracing::error!(ent = %ent, error = %e, "looking up an assignment manager failed");
            return pages::unavailable();
        }
    };
    if manager.is_none_or(|m| m.schools.is_empty()) {
        tracing::warn!(ent = %ent, reason = "console.not_manager", "console sign-in refused: not an assignment manager");
        metrics::refused("console", "console.not_manager");
        return pages::page(
            StatusCode::FORBIDDEN,
            &Message {
                title_fr: "Console réservée aux responsables d'affectation",
                title_en: "For assignment managers only",
                paragraphs: &[(
                    "Votre ENT vous a bien identifié, mais vous n'êtes responsable d'affectation d'aucun établissement. La direction de votre établissement peut vous confier ce rôle dans l'annuaire de l'ENT.",
                    "Your ENT signed you in, but you are not an assignment manager of any school. Your school's head can give you this role in the ENT directory.",
                )],
            },
        );
    }
    match session::open(&state, SessionKind::Console, &ent, &gar).await {
        Ok(cookie) => {
            tracing::info!(ent = %ent, "console sign-in through the ENT");
            let target =
                local_path(signed_in.relay.as_deref()).filter(|p| p.starts_with("/console")).unwrap_or("/console");
            see_other(target).cookie(cookie).finish()
        }
        Err(e) => {
            tracing::error!(ent = %ent, error = %e, "opening a console session failed");
            pages::unavailable()
        }
    }
}

/// Verifies and accepts the posted response, or renders why not.
async fn receive(
    state: &AppState,
    form: PostedResponse,
    entity: SpEntity,
    endpoint: &'static str,
) -> Result<SignedIn, HttpResponse> {
    let Some(saml_response) = form.saml_response.filter(|r| !r.trim().is_empty()) else {
        metrics::refused(endpoint, "missing");
        return Err(pages::bad_request("Aucune réponse SAML n'a été reçue.", "No SAML response was received."));
    };
    let saml = state.saml.clone();
    let received = state
        .store(move |conn| {
            let expect = saml.expectations(entity, Utc::now());
            Ok(receive_response(conn, &saml_response, &expect, saml.verifier.as_ref()))
        })
        .await;
    match received {
        Ok(Ok(signed_in)) => Ok(signed_in),
        Ok(Err(AcsError::Refused(refusal))) => {
            metrics::refused(endpoint, refusal.code());
            Err(refused_page(&refusal))
        }
        Ok(Err(AcsError::Store(e))) | Err(e) => {
            tracing::error!(error = %e, "SAML response could not be checked");
            Err(pages::unavailable())
        }
    }
}

fn refused_page(refusal: &Refusal) -> HttpResponse {
    let malformed =
        matches!(refusal, Refusal::Encoding | Refusal::TooLarge(_) | Refusal::Malformed(_) | Refusal::NotAResponse);
    let status = if malformed { StatusCode::BAD_REQUEST } else { StatusCode::FORBIDDEN };
    let (fr, en) = match refusal {
        Refusal::Replay => (
            "Cette connexion a déjà été utilisée. Repartez de votre ENT.",
            "This sign-in was already used. Start again from your ENT.",
        ),
        Refusal::Expired | Refusal::TooOld | Refusal::RequestExpired => {
            ("La connexion a expiré. Repartez de votre ENT.", "The sign-in expired. Start again from your ENT.")
        }
        _ => (
            "La réponse de votre ENT n'a pas pu être acceptée. Repartez de votre ENT ; si le problème persiste, prévenez son administrateur.",
            "Your ENT's answer could not be accepted. Start again from your ENT; if this keeps happening, tell its administrator.",
        ),
    };
    let (code_fr, code_en) =
        (format!("Code de l'erreur : {}", refusal.code()), format!("Error code: {}", refusal.code()));
    pages::page(
        status,
        &Message {
            title_fr: "Connexion refusée",
            title_en: "Sign-in refused",
            paragraphs: &[(fr, en), (&code_fr, &code_en)],
        },
    )
}

/// `relay` when it is a path on this site (never another origin: no open redirect).
pub fn local_path(relay: Option<&str>) -> Option<&str> {
    relay.filter(|path| path.starts_with('/') && !path.starts_with("//") && !path.contains('\\'))
}

fn see_other(location: &str) -> actix_web::HttpResponseBuilder {
    let mut response = HttpResponse::SeeOther();
    response.insert_header((header::LOCATION, location.to_owned()));
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    response
}
