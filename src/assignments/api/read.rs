//! Read routes: the session, a school's dashboard, one resource, populations, people, history.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::ApiError;
use crate::assignments::web::{managed_school, run, settings};
use crate::assignments::{LedgerError, history as ledger_history, overview};
use crate::domain::Uai;
use crate::http::AppState;
use crate::http::session::ConsoleManager;
use crate::store::populations::{self, Population};

fn school(manager: &ConsoleManager, uai: &str) -> Result<Uai, ApiError> {
    managed_school(manager, uai).ok_or(ApiError::Forbidden)
}

/// `GET /session`: who is logged in, their schools, and the CSRF token writes need.
pub(super) async fn session(manager: ConsoleManager) -> HttpResponse {
    let m = &manager.manager;
    HttpResponse::Ok().json(json!({
        "ent": m.ent_id,
        "garId": m.gar_id,
        "name": m.display_name(),
        "schools": m.schools.iter().map(|(uai, name)| json!({ "uai": uai, "name": name })).collect::<Vec<_>>(),
        "csrfToken": manager.csrf(),
    }))
}

/// `GET /schools/{uai}/dashboard`: every subscription with its counters, and the alerts.
pub(super) async fn dashboard(
    state: web::Data<AppState>,
    manager: ConsoleManager,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let uai = school(&manager, &path)?;
    let settings = settings(&state);
    let dashboard = run(&state, move |conn, _| Ok(overview::dashboard(conn, &uai, &settings)?)).await?;
    Ok(HttpResponse::Ok().json(dashboard))
}

/// `GET /schools/{uai}/subscriptions/{id}`: one resource, its assignments and waiting list.
pub(super) async fn subscription(
    state: web::Data<AppState>,
    manager: ConsoleManager,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (uai, id) = path.into_inner();
    let uai = school(&manager, &uai)?;
    let settings = settings(&state);
    let detail = run(&state, move |conn, _| overview::subscription_detail(conn, &uai, id, &settings)).await?;
    Ok(HttpResponse::Ok().json(detail))
}

fn populations_json(list: &[Population]) -> Vec<serde_json::Value> {
    list.iter().map(|p| json!({ "target": p.target, "label": p.label, "members": p.members })).collect()
}

/// `GET /schools/{uai}/populations`: what can be targeted, with head counts.
pub(super) async fn populations(
    state: web::Data<AppState>,
    manager: ConsoleManager,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let uai = school(&manager, &path)?;
    let found = run(&state, move |conn, _| Ok(populations::of_school(conn, &uai)?)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "classes": populations_json(&found.classes),
        "groups": populations_json(&found.groups),
        "levels": populations_json(&found.levels),
        "subjects": populations_json(&found.subjects),
        "profiles": populations_json(&found.profiles),
    })))
}

#[derive(Deserialize)]
pub(super) struct Search {
    q: String,
}

/// `GET /schools/{uai}/people?q=…`: people whose name or identifier holds every word.
pub(super) async fn search_people(
    state: web::Data<AppState>,
    manager: ConsoleManager,
    path: web::Path<String>,
    query: web::Query<Search>,
) -> Result<HttpResponse, ApiError> {
    let uai = school(&manager, &path)?;
    let q = query.into_inner().q;
    let found = run(&state, move |conn, _| Ok(populations::search(conn, &uai, &q, 50)?)).await?;
    let people: Vec<_> = found
        .iter()
        .map(|p| json!({ "garId": p.gar_id, "name": p.display_name(), "profiles": p.profiles, "classes": p.classes }))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "people": people })))
}

/// `GET /schools/{uai}/people/{gar_id}`: what one person may open, and what they wait for.
pub(super) async fn person(
    state: web::Data<AppState>,
    manager: ConsoleManager,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (uai, gar_id) = path.into_inner();
    let uai = school(&manager, &uai)?;
    let settings = settings(&state);
    let found = run(&state, move |conn, _| Ok(overview::person_view(conn, &uai, &gar_id, &settings)?)).await?;
    let person = found.ok_or(ApiError::NotFound("no such person in this school"))?;
    Ok(HttpResponse::Ok().json(person))
}

#[derive(Deserialize)]
pub(super) struct Page {
    before: Option<i64>,
    limit: Option<i64>,
}

/// `GET /schools/{uai}/history?before=&limit=`: changes, newest first.
pub(super) async fn history(
    state: web::Data<AppState>,
    manager: ConsoleManager,
    path: web::Path<String>,
    query: web::Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let uai = school(&manager, &path)?;
    let Page { before, limit } = query.into_inner();
    let limit = limit.unwrap_or(50).clamp(1, 200);
    let entries =
        run(&state, move |conn, _| ledger_history(conn, &uai, before, limit).map_err(LedgerError::from)).await?;
    Ok(HttpResponse::Ok().json(json!({ "entries": entries })))
}
