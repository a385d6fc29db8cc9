//! Processing-register extract (GDPR art. 30), generated from the release contracts: for each
//! recipient (publisher and service provider), the approved and retired contract versions with
//! their purposes, data categories, attribute names and retention periods, and Sesame's own
//! retention periods. Draft contracts are not in force and are left out.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use super::publisher::contract_json;
use super::table::Table;
use super::{Document, ExportFile, ExportKind, header, list_text, sheet, stamp};
use crate::audit::error::AuditError;
use crate::config::RetentionConfig;
use crate::store::reports::{self, ContractRecord};
use crate::store::{AnyConnection, read_snapshot};

/// The data Sesame itself processes, as the directory feeds define it.
const DATA_CATEGORIES: [&str; 6] = [
    "Identité (nom, prénoms, civilité, date de naissance) / Identity (names, title, birth date)",
    "Identifiants ENT et pseudonymes par éditeur / ENT identifiers and per-publisher pseudonyms",
    "Scolarité (établissements, profils, classes, groupes, niveaux, enseignements) / Schooling (schools, profiles, classes, groups, levels, subjects)",
    "Fonctions des personnels (postes, disciplines) / Staff posts and disciplines",
    "Coordonnées professionnelles des personnels (courriel) / Staff work e-mail",
    "Licences attribuées et traces d'accès aux ressources / Licences assigned and resource access traces",
];

pub fn build(
    conn: &mut AnyConnection,
    retention: &RetentionConfig,
    now: NaiveDateTime,
) -> Result<Document, AuditError> {
    let contracts: Vec<ContractRecord> = read_snapshot(conn, |conn| reports::contracts(conn, None))?
        .into_iter()
        .filter(|c| c.status != "DRAFT")
        .collect();
    let mut recipients: BTreeMap<(&str, &str), Vec<&ContractRecord>> = BTreeMap::new();
    for contract in &contracts {
        recipients.entry((&contract.publisher_id, &contract.service_provider)).or_default().push(contract);
    }
    let recipients: Vec<Value> = recipients
        .into_iter()
        .map(|((publisher, sp), versions)| {
            json!({
                "publisher": publisher,
                "publisherName": versions[0].publisher_name,
                "serviceProvider": sp,
                "contracts": versions.iter().map(|c| contract_json(c)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut document = header(
        ExportKind::ProcessingRegister,
        "Extrait du registre des traitements / Processing register extract",
        now,
    );
    document["source"] = json!("release_contracts");
    let json = json!({
        "document": document,
        "processing": {
            "name": "Sesame — gestionnaire d'accès aux ressources numériques / digital resource access broker",
            "purposes": [
                "Donner accès aux ressources numériques acquises par les établissements / Give access to the digital resources schools acquired",
                "Transmettre aux éditeurs les seules données prévues par leur contrat / Send publishers only the data their contract allows",
                "Tracer les accès et les affectations / Keep records of access and assignments",
            ],
            "dataSubjects": "Élèves et personnels des établissements / Pupils and school staff",
            "dataCategories": DATA_CATEGORIES,
            "sources": "Annuaires fédérateurs des ENT (GAR-ENT) / ENT directory feeds (GAR-ENT)",
            "retention": {
                "releaseTracesDays": retention.release_days,
                "otherAuditEventsDays": retention.audit_days,
                "afterLeavingTheDirectoryDays": retention.removed_person_grace_days,
                "assignmentHistorySchoolYears": retention.assignment_history_school_years,
            },
        },
        "recipients": recipients,
    });

    let mut table = Table::new(&[
        "Éditeur / Publisher",
        "Nom / Name",
        "Fournisseur de service / Service provider",
        "Version",
        "Statut / Status",
        "Finalités / Purposes",
        "Catégories de données / Data categories",
        "Attributs / Attributes",
        "Conservation (jours) / Retention (days)",
        "Approuvé par / Approved by",
        "Approuvé le (UTC) / Approved at (UTC)",
    ]);
    for c in &contracts {
        table.row([
            c.publisher_id.clone(),
            c.publisher_name.clone(),
            c.service_provider.clone(),
            c.version.to_string(),
            c.status.clone(),
            list_text(&c.purposes),
            list_text(&c.data_categories),
            list_text(&c.attributes),
            c.retention_days.to_string(),
            c.approved_by.clone().unwrap_or_default(),
            c.approved_at.map(sheet).unwrap_or_default(),
        ]);
    }
    let stem = format!("processing-register-{}", stamp(now));
    Ok(Document {
        kind: ExportKind::ProcessingRegister,
        files: vec![ExportFile::json(&stem, &json), ExportFile::csv(&stem, table.finish())],
        about: json!({ "contracts": contracts.len() }),
        ent_id: None,
        uai: None,
        subject: None,
    })
}
