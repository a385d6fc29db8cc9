//! `GET /demo/ent`: a stand-in ENT page that embeds the widget for a demo user, the way a real ENT
//! would: its server side obtains a widget token for the signed-in user and writes it into the
//! page, and `GET /demo/ent/token` hands the widget a fresh one when it expires. Served only with
//! `mediacentre.demo_page` (`sesame demo` turns it on).
//!
//! Opened as `http://localhost:PORT/demo/ent` while Sesame's public URL is
//! `http://127.0.0.1:PORT`, the page and the listing are different origins, so the browser applies
//! CORS exactly as it would on a real ENT (`sesame demo` allows the page's origin).

use actix_web::{HttpResponse, web};
use quick_xml::escape::escape;
use serde::Deserialize;

use super::token::TokenKey;
use super::tokens::{self, WIDGET_LISTING_PATH};
use crate::demo::personas::{Persona, personas};
use crate::domain::Profile;
use crate::http::AppState;

#[derive(Deserialize)]
pub(super) struct Query {
    /// `ENT:GARPersonIdentifiant`, e.g. `Z0:z0-elv-0001`; default the first persona.
    persona: Option<String>,
}

pub(super) async fn demo_ent_page(state: web::Data<AppState>, query: web::Query<Query>) -> HttpResponse {
    let (all, chosen) = match choose(&state, query.persona.as_deref()).await {
        Ok(Some(found)) => found,
        Ok(None) => return HttpResponse::NotFound().body("Page de démonstration désactivée ou démo non chargée."),
        Err(response) => return response,
    };
    let token = match token_for(&state, &chosen).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    HttpResponse::Ok().content_type("text/html; charset=utf-8").insert_header(("Cache-Control", "no-store")).body(page(
        &state.config.public_url(),
        &all,
        &chosen,
        &token,
    ))
}

/// `GET /demo/ent/token?persona=…`: what the widget's `token-url` calls once a token has expired.
pub(super) async fn demo_ent_token(state: web::Data<AppState>, query: web::Query<Query>) -> HttpResponse {
    let chosen = match choose(&state, query.persona.as_deref()).await {
        Ok(Some((_, chosen))) => chosen,
        Ok(None) => return HttpResponse::NotFound().finish(),
        Err(response) => return response,
    };
    match token_for(&state, &chosen).await {
        Ok(token) => {
            HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(serde_json::json!({ "token": token }))
        }
        Err(response) => response,
    }
}

/// Every persona and the chosen one; `None` when the page is off or there is nobody to show.
async fn choose(state: &AppState, wanted: Option<&str>) -> Result<Option<(Vec<Persona>, Persona)>, HttpResponse> {
    if !state.config.mediacentre.demo_page {
        return Ok(None);
    }
    let all = state.store(personas).await.map_err(|e| {
        tracing::error!(error = %e, "demo personas unavailable");
        HttpResponse::ServiceUnavailable().finish()
    })?;
    let chosen = match wanted.and_then(|w| w.split_once(':')) {
        Some((ent, gar_id)) => all.iter().find(|p| p.ent_id == ent && p.gar_id == gar_id),
        None => all.first(),
    };
    Ok(chosen.cloned().map(|chosen| (all, chosen)))
}

/// What the ENT's server side does: a token for its signed-in user, every school at once.
async fn token_for(state: &AppState, persona: &Persona) -> Result<String, HttpResponse> {
    let claims = tokens::issue(state, &persona.ent_id, &persona.gar_id, None)
        .await
        .map_err(|e| actix_web::ResponseError::error_response(&e.at("/demo/ent")))?;
    Ok(TokenKey::derive(&state.keys.pseudonym_secret).seal(&claims))
}

fn profile_label(profile: Profile) -> &'static str {
    match profile {
        Profile::Pupil => "élève",
        Profile::Teacher => "enseignant·e",
        Profile::Librarian => "professeur·e documentaliste",
        _ => "personnel",
    }
}

fn page(public_url: &str, all: &[Persona], chosen: &Persona, token: &str) -> String {
    let key = |p: &Persona| format!("{}:{}", p.ent_id, p.gar_id);
    let options: String = all
        .iter()
        .map(|p| {
            let selected = if p == chosen { " selected" } else { "" };
            format!(
                "<option value=\"{}\"{selected}>{} — {}, {}</option>",
                escape(key(p)),
                escape(&p.gar_id),
                profile_label(p.profile),
                escape(&p.school)
            )
        })
        .collect();
    let token_url: String =
        url::form_urlencoded::Serializer::new(String::new()).append_pair("persona", &key(chosen)).finish();
    format!(
        r#"<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ENT Démo — Médiacentre</title>
<script src="{public_url}/mediacentre/widget.js" defer></script>
<style>
  body {{ margin: 0; font-family: system-ui, sans-serif; background: #f3f5f8; color: #1d2430; }}
  header {{ background: #20324f; color: #fff; padding: .8rem 1.5rem; display: flex; gap: 1rem; align-items: baseline; }}
  header strong {{ font-size: 1.2rem; }}
  main {{ max-width: 70rem; margin: 0 auto; padding: 1.5rem; }}
  form {{ display: flex; gap: .5rem; align-items: flex-end; flex-wrap: wrap; margin-bottom: .5rem; }}
  label {{ display: flex; flex-direction: column; font-size: .85rem; font-weight: 600; gap: .25rem; }}
  select, button {{ font: inherit; padding: .35rem .5rem; }}
  .card {{ background: #fff; border-radius: 10px; padding: 1.25rem; box-shadow: 0 1px 3px rgba(0,0,0,.08); }}
  .note {{ font-size: .85rem; color: #4a5566; }}
</style>
</head>
<body>
<header><strong>ENT Démo</strong><span>Médiacentre</span></header>
<main>
<form method="get" action="/demo/ent">
  <label>Utilisateur de démonstration
    <select name="persona">{options}</select>
  </label>
  <button type="submit">Se connecter</button>
</form>
<p class="note" id="connected">Connecté : <b>{gar_id}</b> ({profile}, {school}).</p>
<div class="card">
<sesame-mediacentre src="{public_url}{WIDGET_LISTING_PATH}" token="{token}" token-url="/demo/ent/token?{token_url}"
  user-key="{user_key}" heading="Mes ressources"></sesame-mediacentre>
</div>
<p class="note">Cette page joue le rôle d'un ENT : son serveur a obtenu un jeton de quelques minutes pour
l'utilisateur connecté et le widget <code>&lt;sesame-mediacentre&gt;</code> lit la liste de ses ressources chez Sesame,
depuis une autre origine (CORS). Les ressources s'ouvrent dans un nouvel onglet.</p>
</main>
</body>
</html>
"#,
        gar_id = escape(&chosen.gar_id),
        profile = profile_label(chosen.profile),
        school = escape(&chosen.school),
        token = escape(token),
        token_url = escape(&token_url),
        user_key = escape(key(chosen)),
    )
}
