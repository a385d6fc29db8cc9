//! Storage side of directory feed imports: staging an export in temporary tables, set-based
//! checks and the set-based apply, import rows and held exports.

pub mod apply;
pub mod check;
mod context;
pub mod imports;
pub mod stage;

pub use context::set as set_context;
