//! The HTTP edge: a public listener for browsers and a mutual-TLS listener for ENTs and
//! distributors, with caller identity, health checks, Prometheus metrics and request logs.
//! Capabilities expose `configure` functions; `server` decides which listener mounts each.

pub mod caller;
mod debug;
mod health;
mod logging;
mod metrics;
mod server;
pub mod session;
mod tls;

pub use logging::init_tracing;
pub use server::{AppState, Application, StartError, server_names};
