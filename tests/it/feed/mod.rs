//! Directory feed imports (issue 3), end to end on SQLite and PostgreSQL.

mod import;
pub mod support;
