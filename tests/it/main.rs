//! Integration tests: one binary, a real node per test (see `common`).

mod common;
mod health;
mod mtls;
