//! Directory feed imports (issue 3), end to end on SQLite and PostgreSQL.

mod api;
mod checks;
mod cli;
mod import;
mod ledger;
pub mod support;
