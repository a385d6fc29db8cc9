//! Write transactions that behave the same on both backends.
//!
//! A plain `BEGIN` on SQLite starts as a reader and upgrades to a writer at its first write; if
//! another connection committed in between, the upgrade fails at once with `SQLITE_BUSY_SNAPSHOT`,
//! which `busy_timeout` does not retry. `BEGIN IMMEDIATE` takes the write lock up front, so
//! read-then-write work (seat counters, the audit chain) queues instead of failing.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::result::Error;

use super::AnyConnection;

type Manager = <AnyConnection as diesel::Connection>::TransactionManager;

/// Runs `work` in a write transaction: committed if it returns `Ok`, rolled back otherwise.
/// Inside an open transaction it becomes a savepoint, like `Connection::transaction`.
pub fn write_transaction<T, E>(
    conn: &mut AnyConnection,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<Error>,
{
    let nested = Manager::transaction_manager_status_mut(conn).transaction_depth()?.is_some();
    match conn {
        AnyConnection::Sqlite(c) if !nested => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        _ => Manager::begin_transaction(conn)?,
    }
    match work(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => match Manager::rollback_transaction(conn) {
            // The original error says more than a rollback on a broken connection.
            Ok(()) | Err(Error::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// Runs read-only `work` on one snapshot where that is cheap: inside a deferred transaction on
/// SQLite (one WAL read lock for all its queries instead of one per query); as separate statements
/// on PostgreSQL, where a transaction would cost two more round trips.
pub fn read_snapshot<T, E>(
    conn: &mut AnyConnection,
    work: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<Error>,
{
    match conn {
        AnyConnection::Sqlite(_) => diesel::Connection::transaction(conn, work),
        AnyConnection::Postgresql(_) => work(conn),
    }
}
