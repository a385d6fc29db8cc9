//! Sending a browser to its ENT to sign in: an AuthnRequest by HTTP-Redirect (signed when the
//! identity provider wants it), recorded with where to resume so that whichever node receives the
//! response continues there.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use chrono::Utc;

use super::pages::{self, Message};
use super::saml::authn_request::{AuthnRequestParams, redirect_request};
use super::saml::{SignatureAlgorithm, SpEntity};
use crate::http::AppState;
use crate::store::StoreError;
use crate::store::saml::find_identity_provider;

/// Redirects to ENT project `ent_id`'s identity provider on behalf of `entity`; `relay` (a path on
/// Sesame) is where the accepted response resumes.
pub async fn sign_in_at_ent(state: &AppState, ent_id: String, entity: SpEntity, relay: String) -> HttpResponse {
    let saml = state.saml.clone();
    let ent = ent_id.clone();
    let outcome = state
        .store(move |conn| {
            let Some(idp) = find_identity_provider(conn, &ent)? else { return Ok(None) };
            let (sp_entity_id, acs_url) = match entity {
                SpEntity::Resources => (&saml.endpoints.sp_entity_id, &saml.endpoints.sp_acs_url),
                SpEntity::Console => (&saml.endpoints.console_entity_id, &saml.endpoints.console_acs_url),
            };
            let params = AuthnRequestParams {
                sp_entity_id,
                acs_url,
                idp_sso_url: &idp.sso_url,
                relay_state: None,
                issued_at: Utc::now(),
            };
            let signer = idp.want_authn_requests_signed.then(|| saml.keys.key(SignatureAlgorithm::RsaSha256));
            let request = redirect_request(&params, signer)
                .map_err(|e| StoreError::Corrupt(format!("identity provider of {ent}: {e}")))?;
            request.record(conn, &ent, &relay, saml.request_lifetime())?;
            Ok(Some(request.url))
        })
        .await;
    match outcome {
        Ok(Some(url)) => HttpResponse::Found()
            .insert_header((header::LOCATION, url))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish(),
        Ok(None) => pages::page(
            StatusCode::NOT_FOUND,
            &Message {
                title_fr: "ENT inconnu",
                title_en: "Unknown ENT",
                paragraphs: &[(
                    "Votre ENT n'est pas relié à Sesame. Ouvrez la ressource depuis le médiacentre de votre ENT ; si le problème persiste, prévenez l'administrateur de votre ENT.",
                    "Your ENT is not connected to Sesame. Open the resource from your ENT's médiacentre; if this keeps happening, tell your ENT administrator.",
                )],
            },
        ),
        Err(e) => {
            tracing::error!(ent = %ent_id, error = %e, "AuthnRequest to the ENT failed");
            pages::unavailable()
        }
    }
}
