//! Launching a resource: the entry URL ENTs link to (`GET /domaineGar`), publishers' own
//! AuthnRequests (`GET|POST /idp/sso`) and logout (`GET /logout`). Without a sign-on session for
//! the ENT, the browser goes to the ENT first and comes back to the same entry URL.

mod attributes;
pub mod entry;
pub mod release;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{TimeDelta, Utc};
use serde::Deserialize;

use self::entry::{Entry, EntryError};
use self::release::{LaunchError, LaunchRequest, Launcher, Refused, Release};
use super::metrics;
use super::pages::{self, Message};
use super::saml::authn_request::{
    AuthnRequest, AuthnRequestError, IncomingBinding, RequestRules, receive_authn_request,
};
use super::saml::verify::SignatureVerifier;
use super::saml::{PostForm, PostedMessage, SpEntity};
use super::to_ent::sign_in_at_ent;
use crate::domain::Uai;
use crate::http::AppState;
use crate::http::session;
use crate::store::AnyConnection;
use crate::store::launch::resources_of;
use crate::store::saml::find_service_provider_by_entity_id;
use crate::store::sessions::{Session, SessionKind};

/// `GET /domaineGar?idENT=…&idEtab=…&idRessource=…|idSrc=…`.
pub async fn domaine_gar(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let query = web::Query::<Vec<(String, String)>>::from_query(req.query_string()).map(|q| q.into_inner());
    let pairs = query.unwrap_or_default();
    let entry = match Entry::parse(|name| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())) {
        Ok(entry) => entry,
        Err(error) => return entry_error(&error),
    };
    let session = match session::current(&state, &req, SessionKind::Launch).await {
        Ok(session) => session.filter(|s| s.ent_id == entry.ent_id),
        Err(e) => {
            tracing::error!(error = %e, "reading the sign-on session failed");
            return pages::unavailable();
        }
    };
    let Some(session) = session else {
        let relay = format!("{}?{}", req.path(), req.query_string());
        return sign_in_at_ent(&state, entry.ent_id, SpEntity::Resources, relay).await;
    };
    launch(&state, session, entry.uai, entry.resource_id, None).await
}

fn entry_error(error: &EntryError) -> HttpResponse {
    match error {
        EntryError::Missing(_) => pages::bad_request(
            "Le lien vers la ressource est incomplet (idENT et idRessource sont attendus). Ouvrez-la depuis le médiacentre de votre ENT.",
            "The link to the resource is incomplete (idENT and idRessource are expected). Open it from your ENT's médiacentre.",
        ),
        EntryError::InvalidUai => pages::bad_request(
            "Le lien vers la ressource désigne un établissement invalide (idEtab).",
            "The link to the resource names an invalid school (idEtab).",
        ),
    }
}

/// Checks, releases and posts; or renders why not.
async fn launch(
    state: &web::Data<AppState>,
    session: Session,
    uai: Option<Uai>,
    resource_id: String,
    authn_request: Option<AuthnRequest>,
) -> HttpResponse {
    let lifetime = TimeDelta::minutes(i64::from(session::lifetime_minutes(&state.config, SessionKind::Launch)));
    let shared = state.clone();
    let ent = session.ent_id.clone();
    let outcome = state
        .store(move |conn| {
            let launcher = Launcher {
                saml: &shared.saml,
                pseudonyms: &shared.pseudonyms,
                deletion_grace_days: shared.config.licences.deletion_grace_days,
            };
            let request = LaunchRequest {
                ent_id: &session.ent_id,
                gar_id: &session.gar_id,
                uai: uai.as_ref(),
                resource_id: &resource_id,
                authn_request: authn_request.as_ref(),
                // Sessions are opened at sign-in and last a fixed time.
                authn_instant: (session.expires_at - lifetime).and_utc(),
                now: Utc::now(),
            };
            Ok(release::launch(conn, launcher, &request))
        })
        .await;
    match outcome.map_err(LaunchError::from).and_then(|launched| launched) {
        Ok(release) => released(release),
        Err(LaunchError::Refused(refused)) => refused_page(&ent, &refused),
        Err(e) => {
            tracing::error!(ent = %ent, error = %e, "launch failed");
            metrics::launch("error");
            pages::unavailable()
        }
    }
}

fn released(release: Release) -> HttpResponse {
    metrics::launch("released");
    tracing::info!(uai = %release.uai, "resource launched");
    PostForm::new(&release.acs_url, PostedMessage::Response, &release.saml_response, Some(&release.relay_state))
        .into_response()
}

fn refused_page(ent: &str, refused: &Refused) -> HttpResponse {
    metrics::launch(refused.code());
    tracing::warn!(ent = %ent, reason = refused.code(), "launch refused: {refused}");
    let (status, message) = match refused {
        Refused::NotEntitled { publisher, .. } => {
            metrics::turnaway(publisher);
            (
                StatusCode::FORBIDDEN,
                Message {
                    title_fr: "Ressource non affectée",
                    title_en: "Resource not assigned",
                    paragraphs: &[
                        (
                            "Cette ressource ne vous est pas affectée : votre établissement ne vous en a pas attribué de licence.",
                            "This resource is not assigned to you: your school has not given you a licence for it.",
                        ),
                        (
                            "Le responsable d'affectation de votre établissement (le professeur documentaliste ou la direction) peut vous l'affecter depuis la console d'affectation.",
                            "Your school's assignment manager (the librarian or the head) can assign it to you in the assignment console.",
                        ),
                    ],
                },
            )
        }
        Refused::UnknownResource => (
            StatusCode::NOT_FOUND,
            Message {
                title_fr: "Ressource introuvable",
                title_en: "Resource not found",
                paragraphs: &[(
                    "Cette ressource n'existe pas ou n'est plus diffusée. Ouvrez vos ressources depuis le médiacentre de votre ENT.",
                    "This resource does not exist or is no longer distributed. Open your resources from your ENT's médiacentre.",
                )],
            },
        ),
        Refused::UnknownPerson => (
            StatusCode::FORBIDDEN,
            Message {
                title_fr: "Compte inconnu",
                title_en: "Unknown account",
                paragraphs: &[(
                    "Votre compte n'est pas (ou plus) dans l'annuaire transmis par votre ENT. Si vous venez d'arriver, réessayez demain ; sinon, prévenez l'administrateur de votre ENT.",
                    "Your account is not (or no longer) in the directory your ENT sends. If you just arrived, try again tomorrow; otherwise tell your ENT administrator.",
                )],
            },
        ),
        Refused::NoServiceProvider { .. } | Refused::NoContract { .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            Message {
                title_fr: "Ressource pas encore ouverte",
                title_en: "Resource not open yet",
                paragraphs: &[(
                    "L'accès à cette ressource n'est pas encore ouvert : son éditeur n'a pas de convention de transmission de données approuvée. Réessayez plus tard.",
                    "This resource is not open yet: its publisher has no approved data release agreement. Please try again later.",
                )],
            },
        ),
        Refused::WrongServiceProvider => (
            StatusCode::BAD_REQUEST,
            Message {
                title_fr: "Demande incorrecte",
                title_en: "Bad request",
                paragraphs: &[(
                    "La demande de connexion ne vient pas du service de cette ressource.",
                    "The sign-in request does not come from this resource's service.",
                )],
            },
        ),
    };
    pages::page(status, &message)
}

/// `GET /idp/sso?SAMLRequest=…` (HTTP-Redirect).
pub async fn idp_sso_redirect(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let query = req.query_string().to_owned();
    let receive: Receive = Box::new(move |conn, rules, verifier| {
        receive_authn_request(conn, IncomingBinding::Redirect { query: &query }, rules, verifier)
    });
    idp_sso(state, req, receive).await
}

#[derive(Deserialize)]
pub struct PostedRequest {
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// `POST /idp/sso` (HTTP-POST).
pub async fn idp_sso_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<PostedRequest>,
) -> HttpResponse {
    let PostedRequest { saml_request, relay_state } = form.into_inner();
    let Some(saml_request) = saml_request else {
        return pages::bad_request("Aucune demande SAML n'a été reçue.", "No SAML request was received.");
    };
    let receive: Receive = Box::new(move |conn, rules, verifier| {
        let binding = IncomingBinding::Post { saml_request: &saml_request, relay_state: relay_state.as_deref() };
        receive_authn_request(conn, binding, rules, verifier)
    });
    idp_sso(state, req, receive).await
}

/// Decodes and checks a publisher's AuthnRequest (one binding or the other).
type Receive = Box<
    dyn FnOnce(&mut AnyConnection, &RequestRules<'_>, &dyn SignatureVerifier) -> Result<AuthnRequest, AuthnRequestError>
        + Send,
>;

/// A publisher's AuthnRequest: verified, then the same launch as from the entry URL, for the
/// resource its RelayState names (or its only resource), answering the request.
async fn idp_sso(state: web::Data<AppState>, req: HttpRequest, receive: Receive) -> HttpResponse {
    let saml = state.saml.clone();
    let received = state
        .store(move |conn| {
            let rules = saml.request_rules(Utc::now());
            let request = match receive(conn, &rules, saml.verifier.as_ref()) {
                Ok(request) => request,
                Err(e) => return Ok(Err(e.code())),
            };
            let Some(sp) = find_service_provider_by_entity_id(conn, &request.issuer)? else {
                return Ok(Err("issuer.unknown"));
            };
            let resources = resources_of(conn, &sp)?;
            let chosen = match (&request.relay_state, resources.as_slice()) {
                (Some(relay), _) if resources.iter().any(|(_, url)| url == relay) => {
                    resources.iter().find(|(_, url)| url == relay).map(|(id, _)| id.clone())
                }
                (_, [(id, _)]) => Some(id.clone()),
                _ => None,
            };
            Ok(Ok((request, chosen)))
        })
        .await;
    let (request, resource) = match received {
        Ok(Ok(found)) => found,
        Ok(Err(code)) => {
            metrics::refused("idp", code);
            return pages::bad_request(
                "La demande de connexion de l'éditeur n'a pas pu être acceptée.",
                "The publisher's sign-in request could not be accepted.",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "AuthnRequest could not be checked");
            return pages::unavailable();
        }
    };
    let Some(resource) = resource else {
        metrics::refused("idp", "resource.ambiguous");
        return pages::bad_request(
            "La demande de l'éditeur ne désigne pas de ressource : ouvrez la ressource depuis le médiacentre de votre ENT.",
            "The publisher's request names no resource: open the resource from your ENT's médiacentre.",
        );
    };
    match session::current(&state, &req, SessionKind::Launch).await {
        Ok(Some(session)) => launch(&state, session, None, resource, Some(request)).await,
        Ok(None) => pages::page(
            StatusCode::UNAUTHORIZED,
            &Message {
                title_fr: "Connectez-vous d'abord à votre ENT",
                title_en: "Sign in to your ENT first",
                paragraphs: &[(
                    "Ouvrez cette ressource depuis le médiacentre de votre ENT : vous y serez connecté automatiquement.",
                    "Open this resource from your ENT's médiacentre: you will be signed in automatically.",
                )],
            },
        ),
        Err(e) => {
            tracing::error!(error = %e, "reading the sign-on session failed");
            pages::unavailable()
        }
    }
}

/// `GET /logout`: ends the sign-on session.
pub async fn logout(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match session::close(&state, &req, SessionKind::Launch).await {
        Ok(cookie) => {
            let mut response = pages::page(
                StatusCode::OK,
                &Message {
                    title_fr: "Vous êtes déconnecté",
                    title_en: "You are signed out",
                    paragraphs: &[(
                        "Votre session Sesame est fermée. Pensez à vous déconnecter aussi de votre ENT.",
                        "Your Sesame session is closed. Remember to sign out of your ENT too.",
                    )],
                },
            );
            response.add_cookie(&cookie).map(|_| response).unwrap_or_else(|_| pages::unavailable())
        }
        Err(e) => {
            tracing::error!(error = %e, "logout failed");
            pages::unavailable()
        }
    }
}
