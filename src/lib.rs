//! Sesame: an open, GAR-compatible resource access broker for schools.
//!
//! Data flows one way: HTTP/CLI adapters → capabilities → `domain` and `store`.

pub mod assignments;
pub mod audit;
pub mod catalogue;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod feed;
pub mod http;
pub mod mediacentre;
pub mod pki;
pub mod sso;
pub mod store;
pub mod subscriptions;
