//! A school's history of ledger changes, as the console lists it (newest first, with undo).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::error::public_label;
use super::facts::school_ent;
use super::overview::target_label;
use crate::domain::assignment::AssignmentTarget;
use crate::domain::{Public, Uai};
use crate::store::assignments::{self as ledger, HistoryEntry};
use crate::store::{AnyConnection, StoreError, managers, populations};

/// One entry, described in French.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryView {
    pub id: i64,
    /// ASSIGN, WITHDRAW, TRANSFER, SWITCH_ON, SWITCH_OFF or UNDO.
    pub action: String,
    pub subscription_id: Option<i64>,
    pub resource_label: String,
    pub description: String,
    /// Who did it (the manager's name when known).
    pub by: String,
    pub at: NaiveDateTime,
    pub undone_at: Option<NaiveDateTime>,
    pub undone_by: Option<String>,
    pub undoable: bool,
    pub details: serde_json::Value,
}

/// At most `limit` entries of school `uai`, newest first, older than entry `before` if given.
pub fn history(
    conn: &mut AnyConnection,
    uai: &Uai,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<HistoryView>, StoreError> {
    let entries = ledger::history(conn, uai, before, limit)?;
    let ent_id = school_ent(conn, uai)?;
    let labels = populations::of_school(conn, uai)?;
    let resources: HashMap<i64, String> =
        ledger::subscriptions_of_school(conn, uai)?.into_iter().map(|s| (s.id, s.resource_label)).collect();
    let targets: Vec<AssignmentTarget> = entries.iter().flat_map(targets_of).collect();
    let people: Vec<&str> = targets
        .iter()
        .filter_map(|t| match t {
            AssignmentTarget::Person(gar_id) => Some(gar_id.as_str()),
            _ => None,
        })
        .collect();
    let names = populations::names(conn, &ent_id, &people)?;
    let actors: Vec<&str> = entries
        .iter()
        .flat_map(|e| [Some(e.actor.as_str()), e.undone_by.as_deref()])
        .flatten()
        .filter_map(|actor| manager_id(actor, &ent_id))
        .collect();
    let managers = managers::names(conn, &ent_id, &actors)?;
    let who = |actor: &str| {
        manager_id(actor, &ent_id).and_then(|id| managers.get(id)).cloned().unwrap_or_else(|| actor.to_owned())
    };
    Ok(entries
        .into_iter()
        .map(|entry| {
            let label = |key: &str| {
                serde_json::from_value::<AssignmentTarget>(entry.details[key].clone())
                    .map(|t| target_label(&t, &labels, &names))
                    .unwrap_or_default()
            };
            let changes = &entry.details["changes"];
            let count = |key: &str| changes[key].as_i64().unwrap_or(0);
            let public =
                || entry.details["public"].as_str().and_then(|code| Public::parse(code).ok()).map_or("?", public_label);
            let description = match entry.action.as_str() {
                "ASSIGN" => format!("Affectation à {} : {} licence(s) attribuée(s)", label("target"), count("granted")),
                "WITHDRAW" => format!("Retrait de {} : {} licence(s) libérée(s)", label("target"), count("released")),
                "TRANSFER" => format!(
                    "Transfert de {} vers {} : {} libérée(s), {} attribuée(s)",
                    label("from"),
                    label("to"),
                    count("released"),
                    count("granted")
                ),
                "SWITCH_OFF" => format!("Accès de tout l'établissement désactivé pour les {}", public()),
                "SWITCH_ON" => format!("Accès de tout l'établissement réactivé pour les {}", public()),
                "UNDO" => format!("Annulation de l'opération n° {}", entry.details["undoes"]),
                other => other.to_owned(),
            };
            HistoryView {
                id: entry.id,
                undoable: entry.action != "UNDO" && entry.undone_at.is_none(),
                resource_label: entry.subscription_id.and_then(|id| resources.get(&id)).cloned().unwrap_or_default(),
                subscription_id: entry.subscription_id,
                by: who(&entry.actor),
                undone_by: entry.undone_by.as_deref().map(who),
                action: entry.action,
                at: entry.at,
                undone_at: entry.undone_at,
                description,
                details: entry.details,
            }
        })
        .collect())
}

/// The targets an entry names.
fn targets_of(entry: &HistoryEntry) -> Vec<AssignmentTarget> {
    ["target", "from", "to"].iter().filter_map(|key| serde_json::from_value(entry.details[*key].clone()).ok()).collect()
}

/// The GARPersonIdentifiant of a manager actor of ENT project `ent_id` (`manager:Z0/z0-dir-0001`).
fn manager_id<'a>(actor: &'a str, ent_id: &str) -> Option<&'a str> {
    actor.strip_prefix("manager:")?.strip_prefix(ent_id)?.strip_prefix('/')
}
