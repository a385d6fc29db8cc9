//! Errors of the médiacentre interface, rendered as the GAR renders them:
//! `{"Erreur":{"Code":"Bad Request","Message":"…","Resource":"ressources/…"}}`.
//!
//! Statuses, per case:
//! - 400 a malformed UAI or token request; an unknown school or a school of another ENT project,
//!   told apart from nothing (the GAR's own answer is 400 "Établissement non trouvé");
//! - 401 no usable credential: no client certificate, or a missing, expired or forged widget token;
//! - 403 a certificate that is not registered, or that belongs to another ENT project than the
//!   `idENT` of the path; a widget origin the ENT project has not allowed;
//! - 404 a person the ENT project does not have, or who is not attached to the school;
//! - 503 the database failed (logged once, generic message).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::http::caller::CallerError;
use crate::store::StoreError;

/// A refused médiacentre request: status, French message and the requested resource path.
#[derive(Debug, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// The request path without its leading slash, as the GAR echoes it.
    pub resource: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>, resource: &str) -> Self {
        Self { status, message: message.into(), resource: resource.trim_start_matches('/').to_owned() }
    }

    pub fn unknown_school(resource: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Établissement non trouvé", resource)
    }

    pub fn unknown_person(resource: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "Utilisateur non trouvé", resource)
    }

    pub fn not_in_school(resource: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "L'utilisateur n'est pas rattaché à cet établissement", resource)
    }

    pub fn foreign_ent(resource: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Ce certificat n'appartient pas au projet ENT demandé", resource)
    }

    /// A database failure: logged here, once, and answered with a generic message.
    pub fn store(error: &StoreError, resource: &str) -> Self {
        tracing::error!(error = %error, "médiacentre storage failure");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "Service momentanément indisponible", resource)
    }

    /// A caller-identity failure on the mutual-TLS listener, in the médiacentre's own format.
    pub fn caller(error: &CallerError, resource: &str) -> Self {
        match error {
            CallerError::Store(e) => Self::store(e, resource),
            CallerError::NoCertificate => Self::new(StatusCode::UNAUTHORIZED, "Certificat client requis", resource),
            CallerError::Unregistered | CallerError::WrongKind(_) => {
                Self::new(StatusCode::FORBIDDEN, "Certificat client non autorisé pour le médiacentre", resource)
            }
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let code = self.status.canonical_reason().unwrap_or("Error");
        let mut response = HttpResponse::build(self.status)
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .json(json!({ "Erreur": { "Code": code, "Message": self.message, "Resource": self.resource } }));
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
