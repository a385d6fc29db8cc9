//! Integration tests: one binary, a real node per test (see `common`).

mod audit_exports;
mod audit_log;
mod audit_support;
mod audit_tamper;
mod cli;
mod common;
mod contracts;
mod demo;
mod erasure;
mod first_start;
mod health;
mod interop;
mod mtls;
mod saml_c14n;
mod saml_ent;
mod saml_metadata;
mod saml_publisher;
mod saml_store;
mod retention;
mod shutdown;
mod store_schema;
