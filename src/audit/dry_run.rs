//! One write transaction that a dry run rolls back after doing all the work, so what it reports
//! is exactly what a real run would change.

use super::error::AuditError;
use crate::store::{AnyConnection, write_transaction};

enum Abort<T> {
    DryRun(T),
    Failed(AuditError),
}

impl<T> From<diesel::result::Error> for Abort<T> {
    fn from(e: diesel::result::Error) -> Self {
        Abort::Failed(e.into())
    }
}

/// Runs `work` in a write transaction, committed unless it fails or `dry_run` is set.
pub(super) fn transaction<T>(
    conn: &mut AnyConnection,
    dry_run: bool,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, AuditError>,
) -> Result<T, AuditError> {
    let outcome = write_transaction(conn, |conn| match work(conn) {
        Ok(value) if dry_run => Err(Abort::DryRun(value)),
        Ok(value) => Ok(value),
        Err(e) => Err(Abort::Failed(e)),
    });
    match outcome {
        Ok(value) | Err(Abort::DryRun(value)) => Ok(value),
        Err(Abort::Failed(e)) => Err(e),
    }
}
