//! Directory feed: GAR-ENT exports from ENT projects, read, checked and applied as full snapshots.
//!
//! Delivery: `sesame feed import` (CLI), `POST /feed/v1/{idENT}` (mTLS, `http`), or a drop folder
//! watched by `sesame serve` (`drop_folder`). Every path runs `import::import`.

pub mod drop_folder;
mod error;
mod http;
pub mod import;
mod lease;
pub mod load;
pub mod metrics;
pub mod progress;
pub mod report;
pub mod source;
pub mod writer;
pub mod xml;

pub use error::FeedError;
pub use http::configure_mtls;
pub use import::{Options, Outcome, confirm, discard, import};
pub use progress::{Phase, Progress, Silent};
pub use report::Report;
pub use source::Export;
