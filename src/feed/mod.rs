//! Directory feed: GAR-ENT exports from ENT projects, read, checked and applied as full snapshots.

mod error;
pub mod import;
mod lease;
pub mod load;
pub mod progress;
pub mod report;
pub mod source;
pub mod writer;
pub mod xml;

pub use error::FeedError;
pub use import::{Options, Outcome, confirm, discard, import};
pub use progress::{Phase, Progress, Silent};
pub use report::Report;
pub use source::Export;
