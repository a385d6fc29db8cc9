//! The assignment console's pages: server-rendered, in French, usable on a school PC and a tablet.
//!
//! Entry by resource (the dashboard and each resource's page) or by population; person search;
//! history with undo. Every change is a form post carrying the session's CSRF token, answered by
//! a redirect to the page it came from with a confirmation, or by an error page saying why.
//! Without a session, pages send the browser to the login page.

mod auth;
mod forms;
mod read;
mod views;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, ResponseError, web};
use askama::Template;

use super::api::ledger_status;
use super::error::LedgerError;
use crate::domain::Uai;
use crate::http::AppState;
use crate::http::session::{ConsoleManager, SessionError};
use views::{ErrorPage, Layout};

/// The stylesheet, embedded so the binary serves the console from anywhere.
const STYLESHEET: &str = include_str!("../../../templates/console/console.css");

/// Mounts the pages (public listener). The JSON API's scope is mounted before, so
/// `/console/api/…` never reaches `/console/{uai}`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/console", web::get().to(auth::index))
        .route("/console/login", web::get().to(auth::login))
        .route("/console/demo-login", web::get().to(auth::demo_login))
        .route("/console/demo-login", web::post().to(auth::demo_login_as))
        .route("/console/logout", web::post().to(auth::logout))
        .route("/console/schools", web::get().to(auth::schools))
        .route("/console/static/console.css", web::get().to(stylesheet))
        .route("/console/{uai}", web::get().to(read::dashboard))
        .route("/console/{uai}/resources/{id}", web::get().to(read::resource))
        .route("/console/{uai}/populations", web::get().to(read::populations))
        .route("/console/{uai}/population", web::get().to(read::population))
        .route("/console/{uai}/people", web::get().to(read::people))
        .route("/console/{uai}/people/{gar_id}", web::get().to(read::person))
        .route("/console/{uai}/history", web::get().to(read::history))
        .route("/console/{uai}/assign", web::post().to(forms::assign))
        .route("/console/{uai}/withdraw", web::post().to(forms::withdraw))
        .route("/console/{uai}/transfer", web::post().to(forms::transfer))
        .route("/console/{uai}/school-wide", web::post().to(forms::school_wide))
        .route("/console/{uai}/history/{id}/undo", web::post().to(forms::undo));
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}

/// A page that could not be shown: an HTML page in French with the right status, or a redirect.
#[derive(Debug, thiserror::Error)]
#[error("console page failed with {status}")]
pub(crate) struct PageError {
    status: StatusCode,
    html: String,
    location: Option<String>,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(location) = &self.location {
            return response.insert_header((header::LOCATION, location.as_str())).finish();
        }
        response.content_type(ContentType::html()).body(self.html.clone())
    }
}

type PageResult = Result<HttpResponse, PageError>;

fn redirect(location: impl Into<String>) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.into())).finish()
}

fn html(page: &impl Template) -> PageResult {
    match page.render() {
        Ok(body) => Ok(HttpResponse::Ok().content_type(ContentType::html()).body(body)),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            Err(PageError { status: StatusCode::INTERNAL_SERVER_ERROR, html: "Erreur interne".into(), location: None })
        }
    }
}

/// An error page without a manager (login pages).
fn bare_error(state: &AppState, status: StatusCode, title: &str, message: &str) -> PageError {
    error_page(Layout::anonymous(state.config.console.demo_login), status, title, message, "/console")
}

fn error_page(layout: Layout, status: StatusCode, title: &str, message: &str, back: &str) -> PageError {
    let page = ErrorPage { layout, title: title.into(), message: message.into(), back: back.into() };
    let html = page.render().unwrap_or_else(|_| message.to_owned());
    PageError { status, html, location: None }
}

/// A logged-in manager on one of their schools: what every school page starts from.
struct Ctx {
    state: web::Data<AppState>,
    manager: ConsoleManager,
    uai: Uai,
}

impl Ctx {
    /// The manager, or a redirect to the login page; the school, or 403.
    fn new(
        state: web::Data<AppState>,
        session: Result<ConsoleManager, SessionError>,
        uai: &str,
    ) -> Result<Self, PageError> {
        let manager = logged_in(&state, session)?;
        match super::web::managed_school(&manager, uai) {
            Some(uai) => Ok(Self { state, manager, uai }),
            None => Err(error_page(
                layout(&state, &manager, None, ""),
                StatusCode::FORBIDDEN,
                "Accès refusé",
                "Vous n'êtes pas responsable d'affectation de cet établissement.",
                "/console",
            )),
        }
    }

    fn layout(&self, section: &'static str) -> Layout {
        layout(&self.state, &self.manager, Some(&self.uai), section)
    }

    /// The page for a refused or failed ledger operation.
    fn fail(&self, error: LedgerError, back: &str) -> PageError {
        if let LedgerError::Store(e) = &error {
            tracing::error!(error = %e, "console page: database failure");
        }
        let title = match ledger_status(&error) {
            StatusCode::CONFLICT => "Opération impossible",
            StatusCode::NOT_FOUND => "Introuvable",
            StatusCode::UNPROCESSABLE_ENTITY => "Demande incomplète",
            _ => "Service indisponible",
        };
        error_page(self.layout(""), ledger_status(&error), title, &error.message_fr(), back)
    }

    fn not_found(&self, message: &str) -> PageError {
        error_page(self.layout(""), StatusCode::NOT_FOUND, "Introuvable", message, &format!("/console/{}", self.uai))
    }
}

fn layout(state: &AppState, manager: &ConsoleManager, uai: Option<&Uai>, section: &'static str) -> Layout {
    let m = &manager.manager;
    Layout {
        demo: state.config.console.demo_login,
        user: Some(m.display_name()),
        school: uai.and_then(|uai| {
            m.schools.iter().find(|(school, _)| school == uai).map(|(school, name)| (school.to_string(), name.clone()))
        }),
        several_schools: m.schools.len() > 1,
        section,
        csrf: manager.csrf().to_owned(),
        notice: None,
    }
}

/// The manager of the session, else a redirect to the login page (or the failure's page).
fn logged_in(state: &AppState, session: Result<ConsoleManager, SessionError>) -> Result<ConsoleManager, PageError> {
    match session {
        Ok(manager) => Ok(manager),
        Err(SessionError::Missing | SessionError::Expired) => Err(PageError {
            status: StatusCode::SEE_OTHER,
            html: String::new(),
            location: Some("/console/login".into()),
        }),
        Err(SessionError::NotManager) => Err(bare_error(
            state,
            StatusCode::FORBIDDEN,
            "Accès refusé",
            "Vous n'êtes plus responsable d'affectation : votre ENT ne vous déclare plus comme tel.",
        )),
        Err(SessionError::Store(e)) => {
            tracing::error!(error = %e, "console session lookup failed");
            Err(bare_error(
                state,
                StatusCode::SERVICE_UNAVAILABLE,
                "Service indisponible",
                "Le service est momentanément indisponible. Réessayez dans un instant.",
            ))
        }
    }
}
