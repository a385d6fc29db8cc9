//! Why an import could not be run at all. An export that is read but refused (not well-formed,
//! bad checksum…) is not an error: it is an import with status REJECTED and a report.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("unknown ENT project `{0}`")]
    UnknownEnt(String),
    #[error("an import of ENT project {0} is already running; try again when it is over")]
    Busy(String),
    #[error("no import {0}")]
    NotFound(i64),
    #[error("import {id} is {status}: only a HELD import can be confirmed or discarded")]
    NotHeld { id: i64, status: String },
    #[error("cannot tell which ENT project the export is for: name it (--ent) or use GAR file names")]
    NoEnt,
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for FeedError {
    fn from(e: diesel::result::Error) -> Self {
        FeedError::Store(StoreError::Query(e))
    }
}
