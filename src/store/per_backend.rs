//! Running a query on the concrete connection inside `AnyConnection`.
//!
//! Through the multi-backend wrapper diesel serializes every query to look its prepared statement
//! up by SQL text; on the concrete connection a static query is found by type. The difference
//! matters only on paths that run on every request, which use this macro.

/// Evaluates `$body` with `$c` bound to the concrete SQLite or PostgreSQL connection behind
/// `$conn`; the body is written once and compiled for each backend.
macro_rules! per_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match &mut *$conn {
            $crate::store::AnyConnection::Sqlite($c) => $body,
            $crate::store::AnyConnection::Postgresql($c) => $body,
        }
    };
}
pub(crate) use per_backend;
