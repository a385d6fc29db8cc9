//! Storage: one diesel connection type over SQLite (embedded default) and PostgreSQL.
//!
//! The backend is chosen from the database URL scheme and never guessed: diesel's derived
//! `establish` would try each backend in turn, and SQLite accepts almost any string as a file
//! name, so a mistyped PostgreSQL URL could silently open a local file instead.

/// Runs a read on the backend's own connection, where the statement stays prepared between calls:
/// through the multi-backend layer it is parsed and planned again each time, which costs
/// microseconds that matter on hot paths (entitlements, launches). The query must own its binds.
macro_rules! load_native {
    ($conn:expr, $query:expr) => {
        match $conn {
            AnyConnection::Sqlite(c) => $query.load(c),
            AnyConnection::Postgresql(c) => $query.load(c),
        }
    };
}

pub mod assignments;
pub mod audit;
pub mod audit_checkpoints;
pub mod auditors;
pub mod catalogue;
mod connection;
pub mod contracts;
pub mod directory;
pub mod entitlements;
pub mod feed;
pub mod job_leases;
pub mod launch;
pub mod managers;
mod migrations;
pub mod partners;
mod per_backend;
pub mod person_data;
pub mod populations;
pub mod reports;
pub mod retention;
pub mod saml;
pub mod schema;
pub mod school_subscriptions;
pub mod schools;
pub mod sessions;
pub mod subscription_counts;
pub mod subscription_search;
pub mod subscriptions;
mod transaction;
pub mod widget_origins;

pub use connection::{AnyConnection, Backend, DatabaseUrl, Pool, PooledConnection, StoreError};
pub use migrations::{has_pending_migrations, run_migrations};
pub(crate) use per_backend::per_backend;
pub use transaction::{read_snapshot, write_transaction};
