//! `GET /console/login/ent?ent=Z0`: the console login page's "Se connecter avec mon ENT" — an
//! AuthnRequest from the console's own service provider to the chosen ENT, resuming at `/console`.
//! (ENTs may also sign managers in unsolicited, straight to `/console/acs`.)

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::pages;
use super::saml::SpEntity;
use super::to_ent::sign_in_at_ent;
use crate::http::AppState;

#[derive(Deserialize)]
pub struct Choice {
    ent: Option<String>,
}

pub async fn sign_in(state: web::Data<AppState>, choice: web::Query<Choice>) -> HttpResponse {
    match choice.into_inner().ent.filter(|ent| !ent.trim().is_empty()) {
        Some(ent) => sign_in_at_ent(&state, ent, SpEntity::Console, "/console".into()).await,
        None => pages::bad_request("Choisissez votre ENT.", "Choose your ENT."),
    }
}
