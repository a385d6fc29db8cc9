//! Integration tests: one binary, a real node per test (see `common`).

mod cli;
mod common;
mod first_start;
mod health;
mod mtls;
mod shutdown;
mod store_schema;
