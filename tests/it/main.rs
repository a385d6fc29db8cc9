//! Integration tests: one binary, a real node per test (see `common`).

mod audit_log;
mod cli;
mod common;
mod console_api;
mod console_browser;
mod contracts;
mod demo;
mod first_start;
mod health;
mod ledger;
mod mtls;
mod shutdown;
mod store_schema;
