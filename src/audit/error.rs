//! Failures of the audit capability (tampering is not one: see `verify::Tampering`).

use super::signing::SigningError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Signing(#[from] SigningError),
    #[error("no person `{gar_id}` in ENT project {ent_id}, and no audit event about them")]
    UnknownPerson { ent_id: String, gar_id: String },
    #[error("no publisher `{0}`")]
    UnknownPublisher(String),
    #[error("no establishment `{0}`")]
    UnknownEstablishment(String),
    #[error(
        "the audit log changed while it was being purged ({expected} events due, {deleted} deleted); nothing was purged"
    )]
    PurgeRace { expected: usize, deleted: usize },
    #[error("a retention run is already in progress on another node or command")]
    Busy,
    #[error("cannot write {path}: {source}")]
    Write { path: std::path::PathBuf, source: std::io::Error },
}

impl From<diesel::result::Error> for AuditError {
    fn from(e: diesel::result::Error) -> Self {
        AuditError::Store(StoreError::Query(e))
    }
}
