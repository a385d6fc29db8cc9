//! The catalogue: publishers and their resources, written from import notices.

use std::collections::HashSet;

use chrono::Utc;
use diesel::prelude::*;

use super::schema::{publishers, resources};
use super::{AnyConnection, StoreError, partners, write_transaction};
use crate::domain::catalogue::{ResourceNotice, VocabularyTerm};

/// What an import wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CatalogueCounts {
    /// Publishers registered because a notice named them first.
    pub publishers: usize,
    pub resources: usize,
}

/// Registers the notices' publishers not known yet, then inserts the resources, family mothers
/// before their members (`family_parent_id` is a foreign key). One transaction.
pub fn insert_notices(conn: &mut AnyConnection, notices: &[ResourceNotice]) -> Result<CatalogueCounts, StoreError> {
    write_transaction(conn, |conn| {
        let mut counts = CatalogueCounts::default();
        let mut seen = HashSet::new();
        for notice in notices {
            let id = notice.publisher_id.as_str();
            if seen.insert(id) && !publisher_exists(conn, id)? {
                partners::insert_publisher(conn, id, &notice.publisher_name)?;
                counts.publishers += 1;
            }
        }
        for notice in mothers_first(notices) {
            insert_resource(conn, notice)?;
            counts.resources += 1;
        }
        Ok(counts)
    })
}

fn publisher_exists(conn: &mut AnyConnection, id: &str) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(publishers::table.find(id))).get_result(conn)?)
}

/// Orders notices so that a mother given in the same list precedes its members.
fn mothers_first(notices: &[ResourceNotice]) -> Vec<&ResourceNotice> {
    let in_list: HashSet<&str> = notices.iter().map(|n| n.id.as_str()).collect();
    let mut placed: HashSet<&str> = HashSet::new();
    let mut ordered = Vec::with_capacity(notices.len());
    let mut pending: Vec<&ResourceNotice> = notices.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|notice| {
            let ready = notice
                .family_parent_id
                .as_deref()
                .is_none_or(|mother| !in_list.contains(mother) || placed.contains(mother));
            if ready {
                placed.insert(notice.id.as_str());
                ordered.push(*notice);
            }
            !ready
        });
        if pending.len() == before {
            // A cycle of mothers: keep the input order and let the foreign key report it.
            ordered.append(&mut pending);
        }
    }
    ordered
}

fn json_terms(terms: &[VocabularyTerm]) -> String {
    serde_json::to_string(terms).expect("a list of {uri, nom} always serializes")
}

/// Inserts one resource; its publisher must be registered.
pub fn insert_resource(conn: &mut AnyConnection, notice: &ResourceNotice) -> Result<(), StoreError> {
    let now = Utc::now().naive_utc();
    diesel::insert_into(resources::table)
        .values((
            resources::id.eq(&notice.id),
            resources::id_type.eq(&notice.id_type),
            resources::name.eq(&notice.name),
            resources::publisher_id.eq(notice.publisher_id.as_str()),
            resources::url.eq(&notice.url),
            resources::thumbnail_url.eq(notice.thumbnail_url.as_deref()),
            resources::presentation_code.eq(&notice.presentation.code),
            resources::presentation_label.eq(&notice.presentation.nom),
            resources::pedagogical_types.eq(json_terms(&notice.pedagogical_types)),
            resources::document_types.eq(json_terms(&notice.document_types)),
            resources::education_levels.eq(json_terms(&notice.education_levels)),
            resources::teaching_domains.eq(json_terms(&notice.teaching_domains)),
            resources::tech_distributor_id.eq(notice.tech_distributor_id.as_str()),
            resources::tech_validator_id.eq(notice.tech_validator_id.as_str()),
            resources::source_label.eq(&notice.source_label),
            resources::source_label_url.eq(notice.source_label_url.as_deref()),
            resources::description.eq(notice.description.as_deref()),
            resources::family_parent_id.eq(notice.family_parent_id.as_deref()),
            resources::created_at.eq(now),
            resources::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}
