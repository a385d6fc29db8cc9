//! How the API answers a failure: a status and `{"error": {"code", "message"}}`.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use crate::assignments::LedgerError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Not a school this manager manages (or no such school).
    #[error("you are not an assignment manager of this school")]
    Forbidden,
    #[error("missing or wrong X-CSRF-Token header")]
    Csrf,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(&'static str),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Ledger(LedgerError::Store(e))
    }
}

/// The HTTP status of a ledger refusal, shared with the pages.
pub(crate) fn ledger_status(error: &LedgerError) -> StatusCode {
    match error {
        LedgerError::UnknownSubscription(_) | LedgerError::UnknownTarget(_) | LedgerError::UnknownHistory(_) => {
            StatusCode::NOT_FOUND
        }
        LedgerError::BadTarget(_)
        | LedgerError::SchoolWide(_)
        | LedgerError::Individual(_)
        | LedgerError::PublicNotSubscribed { .. }
        | LedgerError::NotLicensed(_) => StatusCode::UNPROCESSABLE_ENTITY,
        LedgerError::Closed(_)
        | LedgerError::AlreadyAssigned { .. }
        | LedgerError::NothingToWithdraw(_)
        | LedgerError::NoLicenceLeft { .. }
        | LedgerError::AlreadyUndone(_)
        | LedgerError::NotUndoable { .. } => StatusCode::CONFLICT,
        LedgerError::Store(StoreError::Query(_) | StoreError::Corrupt(_) | StoreError::Migration(_)) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        LedgerError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Ledger(e) => ledger_status(e),
            Self::Forbidden | Self::Csrf => StatusCode::FORBIDDEN,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (code, message) = match self {
            Self::Ledger(LedgerError::Store(e)) => {
                tracing::error!(error = %e, "console API: database failure");
                ("UNAVAILABLE", "the service is unavailable; try again shortly".to_owned())
            }
            Self::Ledger(e) => (e.code(), e.message_fr()),
            Self::Forbidden => ("FORBIDDEN", self.to_string()),
            Self::Csrf => ("CSRF", self.to_string()),
            Self::BadRequest(_) => ("BAD_REQUEST", self.to_string()),
            Self::NotFound(_) => ("NOT_FOUND", self.to_string()),
        };
        HttpResponse::build(self.status_code())
            .json(serde_json::json!({ "error": { "code": code, "message": message } }))
    }
}

/// A malformed JSON body is a 400 in the API's own shape, saying what is wrong.
pub(super) fn json_config() -> web::JsonConfig {
    web::JsonConfig::default().limit(64 * 1024).error_handler(|e: JsonPayloadError, _: &HttpRequest| {
        ApiError::BadRequest(format!("invalid JSON body: {e}")).into()
    })
}

pub(super) fn path_config() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|e: PathError, _: &HttpRequest| ApiError::BadRequest(format!("invalid path: {e}")).into())
}

pub(super) fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|e: QueryPayloadError, _: &HttpRequest| {
        ApiError::BadRequest(format!("invalid query string: {e}")).into()
    })
}
