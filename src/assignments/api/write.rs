//! Write routes: preview, assign, withdraw, transfer, switch ETABL publics, undo. Each answers
//! with what changed and the subscription's counters afterwards.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::ApiError;
use crate::assignments::overview::{self, SubscriptionView};
use crate::assignments::web::{managed_school, run, settings};
use crate::assignments::{self, Author, LedgerError};
use crate::domain::assignment::AssignmentTarget;
use crate::domain::{Public, Uai};
use crate::http::AppState;
use crate::http::session::{CSRF_HEADER, ConsoleManager};
use crate::store::AnyConnection;

/// The school of the path, for a write: managed by the caller, with the session's CSRF token.
fn school_for_write(manager: &ConsoleManager, req: &HttpRequest, uai: &str) -> Result<Uai, ApiError> {
    let uai = managed_school(manager, uai).ok_or(ApiError::Forbidden)?;
    let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !manager.csrf_matches(sent) {
        return Err(ApiError::Csrf);
    }
    Ok(uai)
}

/// The subscription's counters after a change.
fn counters(
    conn: &mut AnyConnection,
    uai: &Uai,
    id: i64,
    settings: &overview::Settings,
) -> Result<SubscriptionView, LedgerError> {
    Ok(overview::subscription_detail(conn, uai, id, settings)?.subscription)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Change {
    subscription: i64,
    target: AssignmentTarget,
}

/// `POST /schools/{uai}/preview`: what assigning would do ("uses 27, 3 left, 2 already have it").
pub(super) async fn preview(
    state: web::Data<AppState>,
    manager: ConsoleManager,
    path: web::Path<String>,
    body: web::Json<Change>,
) -> Result<HttpResponse, ApiError> {
    // A dry run changes nothing: no CSRF token needed.
    let uai = managed_school(&manager, &path).ok_or(ApiError::Forbidden)?;
    let Change { subscription, target } = body.into_inner();
    let m = manager.manager;
    let preview = run(&state, move |conn, pseudonyms| {
        assignments::preview(conn, &Author::manager(&m.ent_id, &m.gar_id, pseudonyms), &uai, subscription, target)
    })
    .await?;
    let summary = preview.summary_fr();
    Ok(HttpResponse::Ok().json(json!({ "preview": preview, "summary": summary })))
}

/// `POST /schools/{uai}/assignments` → 201.
pub(super) async fn assign(
    state: web::Data<AppState>,
    manager: ConsoleManager,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Change>,
) -> Result<HttpResponse, ApiError> {
    let uai = school_for_write(&manager, &req, &path)?;
    let Change { subscription, target } = body.into_inner();
    let (m, settings) = (manager.manager, settings(&state));
    let (assigned, view) = run(&state, move |conn, pseudonyms| {
        let author = Author::manager(&m.ent_id, &m.gar_id, pseudonyms);
        let assigned = assignments::assign(conn, &author, &uai, subscription, target)?;
        Ok((assigned, counters(conn, &uai, subscription, &settings)?))
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({ "result": assigned, "subscription": view })))
}

/// `POST /schools/{uai}/withdrawals`: nobody of the target keeps the subscription.
pub(super) async fn withdraw(
    state: web::Data<AppState>,
    manager: ConsoleManager,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Change>,
) -> Result<HttpResponse, ApiError> {
    let uai = school_for_write(&manager, &req, &path)?;
    let Change { subscription, target } = body.into_inner();
    let (m, settings) = (manager.manager, settings(&state));
    let (withdrawn, view) = run(&state, move |conn, pseudonyms| {
        let author = Author::manager(&m.ent_id, &m.gar_id, pseudonyms);
        let withdrawn = assignments::withdraw(conn, &author, &uai, subscription, target)?;
        Ok((withdrawn, counters(conn, &uai, subscription, &settings)?))
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "result": withdrawn, "subscription": view })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Transfer {
    subscription: i64,
    from: AssignmentTarget,
    to: AssignmentTarget,
}

/// `POST /schools/{uai}/transfers`: withdraw from one population and give to another, in one step.
pub(super) async fn transfer(
    state: web::Data<AppState>,
    manager: ConsoleManager,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Transfer>,
) -> Result<HttpResponse, ApiError> {
    let uai = school_for_write(&manager, &req, &path)?;
    let Transfer { subscription, from, to } = body.into_inner();
    let (m, settings) = (manager.manager, settings(&state));
    let (transferred, view) = run(&state, move |conn, pseudonyms| {
        let author = Author::manager(&m.ent_id, &m.gar_id, pseudonyms);
        let transferred = assignments::transfer(conn, &author, &uai, subscription, from, to)?;
        Ok((transferred, counters(conn, &uai, subscription, &settings)?))
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "result": transferred, "subscription": view })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SchoolWide {
    subscription: i64,
    public: Public,
    enabled: bool,
}

/// `POST /schools/{uai}/school-wide`: switch a public of an ETABL subscription on or off.
pub(super) async fn school_wide(
    state: web::Data<AppState>,
    manager: ConsoleManager,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<SchoolWide>,
) -> Result<HttpResponse, ApiError> {
    let uai = school_for_write(&manager, &req, &path)?;
    let SchoolWide { subscription, public, enabled } = body.into_inner();
    let (m, settings) = (manager.manager, settings(&state));
    let (switched, view) = run(&state, move |conn, pseudonyms| {
        let author = Author::manager(&m.ent_id, &m.gar_id, pseudonyms);
        let switched = assignments::set_school_wide(conn, &author, &uai, subscription, public, enabled)?;
        Ok((switched, counters(conn, &uai, subscription, &settings)?))
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "result": switched, "subscription": view })))
}

/// `POST /schools/{uai}/history/{id}/undo`.
pub(super) async fn undo(
    state: web::Data<AppState>,
    manager: ConsoleManager,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (uai, id) = path.into_inner();
    let uai = school_for_write(&manager, &req, &uai)?;
    let m = manager.manager;
    let undone = run(&state, move |conn, pseudonyms| {
        assignments::undo(conn, &Author::manager(&m.ent_id, &m.gar_id, pseudonyms), &uai, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "result": undone })))
}
