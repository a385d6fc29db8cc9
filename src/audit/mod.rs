//! The audit capability: verifying the tamper-evident log, signed checkpoints, the CNIL exports,
//! retention and erasure requests.

pub mod api;
pub mod checkpoint;
mod dry_run;
pub mod erasure;
mod error;
pub mod export;
pub mod jobs;
pub mod metrics;
pub mod retention;
pub mod signature;
pub mod signing;
pub mod traces;
pub mod verify;

pub use api::configure_mtls;
pub use error::AuditError;
