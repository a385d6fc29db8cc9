//! Write routes: preview, assign, withdraw, transfer, switch ETABL publics, undo. Each answers
//! with what changed and the subscription's counters afterwards.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::ApiError;
use crate::assignments::overview;
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

/// Runs a change of subscription `subscription` as the manager, and answers `status` with what
/// it did and the subscription's counters afterwards.
async fn change<T, F>(
    state: &AppState,
    manager: ConsoleManager,
    uai: Uai,
    subscription: i64,
    status: StatusCode,
    change: F,
) -> Result<HttpResponse, ApiError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&mut AnyConnection, &Author<'_>, &Uai) -> Result<T, LedgerError> + Send + 'static,
{
    let (m, settings) = (manager.manager, settings(state));
    let (result, view) = run(state, move |conn, pseudonyms| {
        let result = change(conn, &Author::manager(&m.ent_id, &m.gar_id, pseudonyms), &uai)?;
        Ok((result, overview::subscription_detail(conn, &uai, subscription, &settings)?.subscription))
    })
    .await?;
    Ok(HttpResponse::build(status).json(json!({ "result": result, "subscription": view })))
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
    change(&state, manager, uai, subscription, StatusCode::CREATED, move |conn, author, uai| {
        assignments::assign(conn, author, uai, subscription, target)
    })
    .await
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
    change(&state, manager, uai, subscription, StatusCode::OK, move |conn, author, uai| {
        assignments::withdraw(conn, author, uai, subscription, target)
    })
    .await
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
    change(&state, manager, uai, subscription, StatusCode::OK, move |conn, author, uai| {
        assignments::transfer(conn, author, uai, subscription, from, to)
    })
    .await
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
    change(&state, manager, uai, subscription, StatusCode::OK, move |conn, author, uai| {
        assignments::set_school_wide(conn, author, uai, subscription, public, enabled)
    })
    .await
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
