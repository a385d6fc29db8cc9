//! Storage: one diesel connection type over SQLite (embedded default) and PostgreSQL.
//!
//! The backend is chosen from the database URL scheme and never guessed: diesel's derived
//! `establish` would try each backend in turn, and SQLite accepts almost any string as a file
//! name, so a mistyped PostgreSQL URL could silently open a local file instead.

pub mod assignments;
pub mod audit;
pub mod catalogue;
mod connection;
pub mod directory;
pub mod entitlements;
mod migrations;
pub mod partners;
mod per_backend;
pub mod schema;
pub mod schools;
pub mod subscriptions;
mod transaction;
pub mod widget_origins;

pub use connection::{AnyConnection, Backend, DatabaseUrl, Pool, PooledConnection, StoreError};
pub use migrations::{has_pending_migrations, run_migrations};
pub(crate) use per_backend::per_backend;
pub use transaction::{read_snapshot, write_transaction};
