//! Integration tests: one binary, a real node per test (see `common`).

mod audit_log;
mod catalogue_import;
mod cli;
mod common;
mod contracts;
mod demo;
mod first_start;
mod health;
mod mediacentre;
mod mtls;
mod shutdown;
mod store_schema;
