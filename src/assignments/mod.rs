//! The licence ledger and the assignment console.
//!
//! Assignment managers give INDIV subscriptions to populations (a person, classes, a group, a
//! level, a subject's teachers, a profile), withdraw and transfer them, switch ETABL publics off
//! and on, and undo any of it from the history. Seats never oversell: every change runs in one
//! write transaction behind the ledger lock, and seats are taken with a conditional update.
//! Collections stay live: [`reconcile`] moves seats when the directory changes.
//!
//! `api` serves the JSON API (`/console/api/v1/…`), `pages` the server-rendered console; both call
//! the functions re-exported here.

pub mod api;
mod assign;
mod author;
mod error;
mod facts;
mod history;
pub mod overview;
pub mod pages;
mod reconcile;
mod school_wide;
mod sync;
mod undo;
mod web;
mod withdraw;

pub use assign::{Assigned, PoolPreview, Preview, assign, preview};
pub use author::Author;
pub use error::{LedgerError, pool_label, public_label};
pub use history::{HistoryView, history};
pub use reconcile::{ReconcileSummary, reconcile, reconcile_subscription};
pub use school_wide::{Switched, set_school_wide};
pub use sync::SeatChanges;
pub use undo::{Undone, undo};
pub use withdraw::{Transferred, Withdrawn, transfer, withdraw};

/// Mounts the console pages and its JSON API (public listener: browsers).
pub fn configure_public(cfg: &mut actix_web::web::ServiceConfig) {
    api::configure(cfg);
    pages::configure(cfg);
}
