//! What the JSON API and the pages share at the HTTP edge: running ledger work off the async
//! workers, and checking that the manager manages the school in the path.

use chrono::Utc;

use super::error::LedgerError;
use super::overview::Settings;
use crate::domain::Uai;
use crate::domain::pseudonym::Pseudonyms;
use crate::http::AppState;
use crate::http::session::ConsoleManager;
use crate::store::AnyConnection;

/// Runs ledger work on the blocking pool, with the node's pseudonyms for audit subjects.
pub(crate) async fn run<T, F>(state: &AppState, work: F) -> Result<T, LedgerError>
where
    T: Send + 'static,
    F: FnOnce(&mut AnyConnection, &Pseudonyms) -> Result<T, LedgerError> + Send + 'static,
{
    let pseudonyms = state.pseudonyms.clone();
    state.store(move |conn| Ok(work(conn, &pseudonyms))).await?
}

/// Alert thresholds and the clock, now.
pub(crate) fn settings(state: &AppState) -> Settings {
    Settings::new(&state.config, Utc::now().naive_utc())
}

/// The school of the path, if this manager manages it. An unknown UAI and another manager's
/// school get the same answer, so the console reveals no school it does not show.
pub(crate) fn managed_school(manager: &ConsoleManager, uai: &str) -> Option<Uai> {
    Uai::parse(uai).ok().filter(|uai| manager.manages(uai))
}
