//! The feed's routes on the mutual-TLS listener, for ENT projects (`EntCaller`):
//!
//! - `POST /feed/v1/{idENT}`: an export as a tar archive, gzip-compressed (`application/gzip`, the
//!   GAR bundle) or not (`application/x-tar`, XML files), with optional query parameters `name`
//!   (the bundle's GAR file name) and `md5` (the content of its `.md5`). Answers the import's
//!   report: 201 applied, 202 held, 422 refused; 409 while another import of the project runs.
//! - `GET /feed/v1/{idENT}/reports` and `GET /feed/v1/{idENT}/reports/{id}`: reports, JSON by
//!   default, XML with `Accept: application/xml`.
//! - `POST /feed/v1/{idENT}/reports/{id}/confirm` and `…/discard`: decide on a held import.
//!
//! `{idENT}` must be the caller's own project (403 otherwise); another project's report is "not
//! found". Errors are `{"error": "…"}`.

use std::io::Write;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use futures_util::StreamExt;
use serde::Deserialize;

use super::FeedError;
use super::import::{self, Options, Outcome};
use super::metrics;
use super::report::Report;
use super::source::{Export, ExportName, parse_md5};
use crate::domain::audit::Actor;
use crate::http::AppState;
use crate::http::caller::EntCaller;
use crate::store::StoreError;
use crate::store::feed::imports::{self, ImportStatus};

pub fn configure_mtls(cfg: &mut web::ServiceConfig) {
    cfg.route("/feed/v1/{ent}", web::post().to(upload))
        .route("/feed/v1/{ent}/reports", web::get().to(list_reports))
        .route("/feed/v1/{ent}/reports/{id}", web::get().to(show_report))
        .route("/feed/v1/{ent}/reports/{id}/confirm", web::post().to(confirm_import))
        .route("/feed/v1/{ent}/reports/{id}/discard", web::post().to(discard_import));
}

/// Failures of the feed API, rendered as `{"error": …}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("this client certificate belongs to ENT project {caller}, not {path}")]
    OtherEnt { caller: String, path: String },
    #[error("no such import")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("the export is larger than the {0} bytes this node accepts")]
    TooLarge(u64),
    #[error("send the export as a tar archive: application/gzip (the GAR bundle) or application/x-tar")]
    UnsupportedMedia,
    #[error("the import could not run; try again later")]
    Unavailable,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::OtherEnt { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(serde_json::json!({ "error": self.to_string() }))
    }
}

impl From<FeedError> for ApiError {
    fn from(e: FeedError) -> Self {
        match e {
            FeedError::NotFound(_) | FeedError::UnknownEnt(_) => ApiError::NotFound,
            FeedError::Busy(_) | FeedError::NotHeld { .. } => ApiError::Conflict(e.to_string()),
            FeedError::NoEnt => ApiError::BadRequest(e.to_string()),
            FeedError::Io(_) | FeedError::Store(_) => {
                tracing::error!(error = %e, "feed import failed");
                ApiError::Unavailable
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::from(FeedError::Store(e))
    }
}

/// The caller may only act for its own project.
fn own(caller: &EntCaller, ent: &str) -> Result<(), ApiError> {
    match caller.0.id == ent {
        true => Ok(()),
        false => Err(ApiError::OtherEnt { caller: caller.0.id.clone(), path: ent.to_owned() }),
    }
}

#[derive(Deserialize)]
struct UploadQuery {
    name: Option<String>,
    md5: Option<String>,
}

async fn upload(
    caller: EntCaller,
    path: web::Path<String>,
    query: web::Query<UploadQuery>,
    req: HttpRequest,
    mut body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let ent = path.into_inner();
    own(&caller, &ent)?;
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if !["application/gzip", "application/x-gzip", "application/x-tar", "application/octet-stream"]
        .contains(&media.as_str())
    {
        return Err(ApiError::UnsupportedMedia);
    }
    let name = match &query.name {
        Some(name) if ExportName::parse(name).is_none() || name.contains('/') => {
            return Err(ApiError::BadRequest(format!(
                "`{name}` is not a GAR export name (<idENT>_GAR-ENT_Complet_<yyyyMMdd>_<HHmmss>_<2D|1D>.tar.gz)"
            )));
        }
        Some(name) => name.clone(),
        None => format!("upload from {ent}"),
    };
    let md5 = match &query.md5 {
        Some(text) => Some(parse_md5(text).map_err(|e| ApiError::BadRequest(e.to_string()))?),
        None => None,
    };

    // The body goes to a file first: an export can be far larger than memory should hold.
    let uploads = state.config.data_dir.join("feed").join("uploads");
    let max = state.config.feed.max_upload_bytes;
    let mut file = web::block(move || {
        std::fs::create_dir_all(&uploads)?;
        tempfile::NamedTempFile::new_in(&uploads)
    })
    .await
    .map_err(|_| ApiError::Unavailable)?
    .map_err(|e| {
        tracing::error!(error = %e, "cannot store an upload");
        ApiError::Unavailable
    })?;
    let mut received = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("the upload broke off: {e}")))?;
        received += chunk.len() as u64;
        if received > max {
            return Err(ApiError::TooLarge(max));
        }
        file.write_all(&chunk).map_err(|e| {
            tracing::error!(error = %e, "cannot store an upload");
            ApiError::Unavailable
        })?;
    }

    let (config, pseudonyms) = (state.config.clone(), state.pseudonyms.clone());
    let outcome = web::block(move || {
        let export = Export::Bundle { path: file.path().to_owned(), name, md5 };
        let options = Options::ent(&ent, &config.feed, &pseudonyms, false);
        // A connection of its own: an import holds it for minutes and fills temporary tables.
        let mut conn = config.database_url().connect()?;
        let outcome = import::import(&mut conn, &ent, &export, &options);
        drop(file);
        outcome
    })
    .await
    .map_err(|_| ApiError::Unavailable)??;
    metrics::record(&outcome);
    Ok(outcome_response(&req, &outcome))
}

/// 201 applied, 202 held, 422 refused, with the report and its location.
fn outcome_response(req: &HttpRequest, outcome: &Outcome) -> HttpResponse {
    let report = &outcome.report;
    let status = match outcome.status() {
        ImportStatus::Applied => StatusCode::CREATED,
        ImportStatus::Held => StatusCode::ACCEPTED,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let location = format!("/feed/v1/{}/reports/{}", report.ent, report.id);
    report_response(req, status, report, Some(location))
}

/// A report as JSON, or XML when the client asks for it.
fn report_response(req: &HttpRequest, status: StatusCode, report: &Report, location: Option<String>) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    if let Some(location) = location {
        response.insert_header((header::LOCATION, location));
    }
    match wants_xml(req) {
        true => response.content_type("application/xml").body(report.to_xml()),
        false => response.json(report),
    }
}

fn wants_xml(req: &HttpRequest) -> bool {
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let xml = accept.find("application/xml").or_else(|| accept.find("text/xml"));
    match (xml, accept.find("application/json")) {
        (Some(x), Some(j)) => x < j,
        (Some(_), None) => true,
        _ => false,
    }
}

async fn list_reports(
    caller: EntCaller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let ent = path.into_inner();
    own(&caller, &ent)?;
    let rows = state.store(move |conn| imports::list(conn, &ent, 100)).await?;
    let list: Vec<_> = rows
        .into_iter()
        .map(|row| {
            serde_json::json!({
                "id": row.id,
                "status": row.status,
                "degree": row.degree,
                "source": row.source,
                "startedAt": row.started_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "summary": serde_json::from_str::<serde_json::Value>(&row.summary).unwrap_or_default(),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "reports": list })))
}

async fn show_report(
    caller: EntCaller,
    path: web::Path<(String, i64)>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (ent, id) = path.into_inner();
    own(&caller, &ent)?;
    let row = state.store(move |conn| imports::find_by_id_and_ent(conn, id, &ent)).await?.ok_or(ApiError::NotFound)?;
    let mut report: Report = serde_json::from_str(&row.report).unwrap_or_default();
    // A running import has no report yet: what the row knows.
    report.id = row.id;
    report.ent = row.ent_id;
    report.status = row.status;
    report.source = row.source;
    if report.started_at.is_empty() {
        report.started_at = row.started_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        report.checksum = "absent".into();
    }
    Ok(report_response(&req, StatusCode::OK, &report, None))
}

async fn confirm_import(
    caller: EntCaller,
    path: web::Path<(String, i64)>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (ent, id) = path.into_inner();
    own(&caller, &ent)?;
    let (config, pseudonyms) = (state.config.clone(), state.pseudonyms.clone());
    let outcome = web::block(move || {
        let options = Options::ent(&ent, &config.feed, &pseudonyms, true);
        let mut conn = config.database_url().connect()?;
        import::confirm(&mut conn, id, Some(&ent), &options)
    })
    .await
    .map_err(|_| ApiError::Unavailable)??;
    metrics::record(&outcome);
    Ok(report_response(&req, StatusCode::OK, &outcome.report, None))
}

async fn discard_import(
    caller: EntCaller,
    path: web::Path<(String, i64)>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (ent, id) = path.into_inner();
    own(&caller, &ent)?;
    let config = state.config.clone();
    let report = web::block(move || {
        let mut conn = config.database_url().connect()?;
        import::discard(&mut conn, id, Some(&ent), &Actor::ent(&ent))
    })
    .await
    .map_err(|_| ApiError::Unavailable)??;
    Ok(report_response(&req, StatusCode::OK, &report, None))
}
