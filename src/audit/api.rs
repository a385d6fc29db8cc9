//! The auditor API on the mutual-TLS listener: the four exports, signed, for a client certificate
//! registered to an auditor (`sesame audit auditor add`). An auditor sees every ENT project and
//! school; ENT and distributor certificates get 403 here. Each call is audited like a CLI export.
//!
//! A response is the export bundle: `{"kind", "files": [{"name", "contentType", "content",
//! "signature"}]}`. Writing `content` (UTF-8) to `name` and `signature` (JSON) to `name.sig`
//! gives exactly the files `sesame audit export` writes, which `sesame audit verify-export` checks.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::error::AuditError;
use super::export::{self, Document, Period, SignedExport};
use super::signing::{Signer, TrustedKeys};
use crate::domain::audit::Actor;
use crate::http::AppState;
use crate::http::caller::{CallerError, find_owner};
use crate::store::{AnyConnection, auditors};

/// A caller whose certificate is registered to the named auditor.
#[derive(Clone, Debug)]
pub struct AuditorCaller(pub String);

impl FromRequest for AuditorCaller {
    type Error = CallerError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, CallerError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let found = find_owner(&req, auditors::find_auditor).await?;
            found.map(AuditorCaller).ok_or(CallerError::WrongKind("an auditor"))
        })
    }
}

/// Why an export request failed, rendered as `{"error": …}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Audit(#[from] AuditError),
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Audit(
                AuditError::UnknownPerson { .. }
                | AuditError::UnknownPublisher(_)
                | AuditError::UnknownEstablishment(_),
            ) => StatusCode::NOT_FOUND,
            ApiError::Audit(AuditError::Store(_)) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Audit(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "audit export failed");
            "the export could not be produced; try again later".to_owned()
        } else {
            self.to_string()
        };
        HttpResponse::build(status).json(json!({ "error": message }))
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::Audit(e.into())
    }
}

/// Builds, signs and records one export on the blocking pool.
async fn produce(
    state: &web::Data<AppState>,
    auditor: AuditorCaller,
    build: impl FnOnce(&mut AnyConnection, &AppState) -> Result<Document, AuditError> + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let app = state.clone();
    let signed = state.store(move |conn| Ok(sealed(conn, &app, &auditor, build))).await??;
    Ok(HttpResponse::Ok().json(bundle(&signed)))
}

fn sealed(
    conn: &mut AnyConnection,
    app: &AppState,
    auditor: &AuditorCaller,
    build: impl FnOnce(&mut AnyConnection, &AppState) -> Result<Document, AuditError>,
) -> Result<SignedExport, AuditError> {
    let signer = Signer::new(&app.keys)?;
    let document = build(conn, app)?;
    export::seal(conn, &signer, document, &Actor::auditor(&auditor.0))
}

fn bundle(export: &SignedExport) -> serde_json::Value {
    json!({
        "kind": export.kind.code(),
        "auditEvent": export.event,
        "files": export.files.iter().map(|(file, signature)| json!({
            "name": file.name,
            "contentType": file.content_type,
            "content": String::from_utf8_lossy(&file.bytes),
            "signature": signature,
        })).collect::<Vec<_>>(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonQuery {
    ent: String,
    #[serde(rename = "garId")]
    gar_id: String,
}

/// `GET /v1/audit/exports/data-subject?ent=Z0&garId=…`
async fn data_subject(
    state: web::Data<AppState>,
    auditor: AuditorCaller,
    query: web::Query<PersonQuery>,
) -> Result<HttpResponse, ApiError> {
    let PersonQuery { ent, gar_id } = query.into_inner();
    produce(&state, auditor, move |conn, app| {
        export::data_subject::build(conn, &app.pseudonyms, &app.config, &ent, &gar_id, Utc::now().naive_utc())
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublisherQuery {
    publisher: String,
    from: String,
    to: String,
}

/// `GET /v1/audit/exports/publisher-releases?publisher=…&from=YYYY-MM-DD&to=YYYY-MM-DD`
async fn publisher_releases(
    state: web::Data<AppState>,
    auditor: AuditorCaller,
    query: web::Query<PublisherQuery>,
) -> Result<HttpResponse, ApiError> {
    let PublisherQuery { publisher, from, to } = query.into_inner();
    let period = Period::parse(&from, &to).map_err(ApiError::BadRequest)?;
    produce(&state, auditor, move |conn, _| export::publisher::build(conn, &publisher, period, Utc::now().naive_utc()))
        .await
}

/// `GET /v1/audit/exports/processing-register`
async fn processing_register(state: web::Data<AppState>, auditor: AuditorCaller) -> Result<HttpResponse, ApiError> {
    produce(&state, auditor, |conn, app| export::register::build(conn, &app.config.retention, Utc::now().naive_utc()))
        .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EstablishmentQuery {
    uai: String,
    from: String,
    to: String,
}

/// `GET /v1/audit/exports/establishment-activity?uai=…&from=…&to=…`
async fn establishment_activity(
    state: web::Data<AppState>,
    auditor: AuditorCaller,
    query: web::Query<EstablishmentQuery>,
) -> Result<HttpResponse, ApiError> {
    let EstablishmentQuery { uai, from, to } = query.into_inner();
    let period = Period::parse(&from, &to).map_err(ApiError::BadRequest)?;
    produce(&state, auditor, move |conn, _| export::establishment::build(conn, &uai, period, Utc::now().naive_utc()))
        .await
}

/// `GET /v1/audit/signing-certificates`: the certificates exports and checkpoints verify against.
async fn signing_certificates(state: web::Data<AppState>, _auditor: AuditorCaller) -> Result<HttpResponse, ApiError> {
    let trusted = TrustedKeys::load(&state.config).map_err(AuditError::from)?;
    let keys: Vec<_> = trusted
        .iter()
        .map(|key| json!({ "keyId": key.key_id, "subject": key.subject, "certificate": key.certificate_pem }))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "keys": keys })))
}

/// Mounted on the mutual-TLS listener.
pub fn configure_mtls(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/v1/audit")
            .app_data(web::QueryConfig::default().error_handler(|e, _| ApiError::BadRequest(e.to_string()).into()))
            .route("/exports/data-subject", web::get().to(data_subject))
            .route("/exports/publisher-releases", web::get().to(publisher_releases))
            .route("/exports/processing-register", web::get().to(processing_register))
            .route("/exports/establishment-activity", web::get().to(establishment_activity))
            .route("/signing-certificates", web::get().to(signing_certificates)),
    );
}
