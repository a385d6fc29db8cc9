//! Integration tests: one binary, a real node per test (see `common`).

mod audit_log;
mod cli;
mod common;
mod contracts;
mod demo;
mod first_start;
mod health;
mod mtls;
mod shutdown;
mod store_schema;
mod subscriptions_counts;
mod subscriptions_create;
mod subscriptions_isolation;
mod subscriptions_rules;
mod subscriptions_schemas;
mod subscriptions_schools;
mod subscriptions_search;
mod subscriptions_support;
mod subscriptions_update_delete;
