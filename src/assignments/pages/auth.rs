//! Getting in and out: the login page (single sign-on from the ENT later), the demo login that only
//! `sesame demo` turns on, logout, and the choice of school.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::views::{DemoLoginPage, DemoManager, Layout, LoginPage, SchoolsPage};
use super::{PageResult, bare_error, html, layout, logged_in, redirect};
use crate::http::AppState;
use crate::http::session::{self, ConsoleManager, SessionError};
use crate::store::managers;
use crate::store::sessions::SessionKind;

/// `GET /console`: the manager's school (or the choice of schools), else the login page.
pub(super) async fn index(session: Result<ConsoleManager, SessionError>) -> HttpResponse {
    match session {
        Ok(manager) => match manager.manager.schools.as_slice() {
            [(uai, _)] => redirect(format!("/console/{uai}")),
            _ => redirect("/console/schools"),
        },
        Err(_) => redirect("/console/login"),
    }
}

/// `GET /console/login`: sign in through one's ENT (`sso::console_login`).
pub(super) async fn login(state: web::Data<AppState>) -> PageResult {
    let ents = state.store(crate::store::saml::ents_with_identity_provider).await.map_err(|e| {
        tracing::error!(error = %e, "listing ENTs failed");
        bare_error(&state, StatusCode::SERVICE_UNAVAILABLE, "Service indisponible", "Réessayez dans un instant.")
    })?;
    html(&LoginPage { layout: Layout::anonymous(state.config.console.demo_login), ents })
}

fn demo_only(state: &AppState) -> Result<(), super::PageError> {
    if state.config.console.demo_login {
        Ok(())
    } else {
        Err(bare_error(state, StatusCode::NOT_FOUND, "Introuvable", "Cette page n'existe pas."))
    }
}

/// `GET /console/demo-login` (demo only): every manager, to log in as one.
pub(super) async fn demo_login(state: web::Data<AppState>) -> PageResult {
    demo_only(&state)?;
    let list = state.store(managers::list).await.map_err(|e| {
        tracing::error!(error = %e, "listing managers failed");
        bare_error(&state, StatusCode::SERVICE_UNAVAILABLE, "Service indisponible", "Réessayez dans un instant.")
    })?;
    let managers = list
        .into_iter()
        .filter(|m| !m.schools.is_empty())
        .map(|m| DemoManager {
            schools: m.schools.iter().map(|(uai, name)| format!("{name} ({uai})")).collect::<Vec<_>>().join(", "),
            name: m.display_name(),
            ent_id: m.ent_id,
            gar_id: m.gar_id,
        })
        .collect();
    html(&DemoLoginPage { layout: Layout::anonymous(true), managers })
}

#[derive(Deserialize)]
pub(super) struct DemoLogin {
    ent: String,
    gar_id: String,
}

/// `POST /console/demo-login` (demo only): opens a console session as that manager.
pub(super) async fn demo_login_as(state: web::Data<AppState>, form: web::Form<DemoLogin>) -> PageResult {
    demo_only(&state)?;
    let DemoLogin { ent, gar_id } = form.into_inner();
    let unavailable = |e: crate::store::StoreError| {
        tracing::error!(error = %e, "demo login failed");
        bare_error(&state, StatusCode::SERVICE_UNAVAILABLE, "Service indisponible", "Réessayez dans un instant.")
    };
    let (ent_id, id) = (ent.clone(), gar_id.clone());
    let manager = state.store(move |conn| managers::find(conn, &ent_id, &id)).await.map_err(unavailable)?;
    if manager.is_none() {
        return Err(bare_error(
            &state,
            StatusCode::NOT_FOUND,
            "Introuvable",
            "Ce responsable d'affectation n'existe pas.",
        ));
    }
    let cookie = session::open(&state, SessionKind::Console, &ent, &gar_id).await.map_err(unavailable)?;
    tracing::info!(ent = %ent, "demo console login");
    Ok(HttpResponse::SeeOther().cookie(cookie).insert_header(("Location", "/console")).finish())
}

#[derive(Deserialize)]
pub(super) struct Logout {
    csrf: String,
}

/// `POST /console/logout`.
pub(super) async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Result<ConsoleManager, SessionError>,
    form: web::Form<Logout>,
) -> PageResult {
    if let Ok(manager) = &session
        && !manager.csrf_matches(&form.csrf)
    {
        return Err(bare_error(
            &state,
            StatusCode::FORBIDDEN,
            "Accès refusé",
            "Le formulaire a expiré : rechargez la page.",
        ));
    }
    let cookie = session::close(&state, &req, SessionKind::Console).await.map_err(|e| {
        tracing::error!(error = %e, "logout failed");
        bare_error(&state, StatusCode::SERVICE_UNAVAILABLE, "Service indisponible", "Réessayez dans un instant.")
    })?;
    Ok(HttpResponse::SeeOther().cookie(cookie).insert_header(("Location", "/console/login")).finish())
}

/// `GET /console/schools`: the schools the manager manages.
pub(super) async fn schools(state: web::Data<AppState>, session: Result<ConsoleManager, SessionError>) -> PageResult {
    let manager = logged_in(&state, session)?;
    let schools = manager.manager.schools.iter().map(|(uai, name)| (uai.to_string(), name.clone())).collect();
    html(&SchoolsPage { layout: layout(&state, &manager, None, ""), schools })
}
