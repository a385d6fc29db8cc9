//! Reads behind the audit reports: release contracts with their service providers, and the display
//! names of publishers, resources and schools that events only name by id.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{establishments, publishers, release_contracts, resources, service_providers};
use super::{AnyConnection, StoreError};

/// Ids are looked up this many at a time.
const CHUNK: usize = 1_000;

fn names_by_id<'a>(
    ids: impl IntoIterator<Item = &'a str>,
    mut lookup: impl FnMut(&[&'a str]) -> Result<Vec<(String, String)>, StoreError>,
) -> Result<BTreeMap<String, String>, StoreError> {
    let mut ids: Vec<&str> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut names = BTreeMap::new();
    for chunk in ids.chunks(CHUNK) {
        names.extend(lookup(chunk)?);
    }
    Ok(names)
}

/// Publisher id → name.
pub fn publisher_names<'a>(
    conn: &mut AnyConnection,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<BTreeMap<String, String>, StoreError> {
    names_by_id(ids, |chunk| {
        Ok(publishers::table
            .filter(publishers::id.eq_any(chunk))
            .select((publishers::id, publishers::name))
            .load(conn)?)
    })
}

/// Resource id (idRessource) → name.
pub fn resource_names<'a>(
    conn: &mut AnyConnection,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<BTreeMap<String, String>, StoreError> {
    names_by_id(ids, |chunk| {
        Ok(resources::table.filter(resources::id.eq_any(chunk)).select((resources::id, resources::name)).load(conn)?)
    })
}

/// The name of a school, if Sesame knows it.
pub fn establishment_name(conn: &mut AnyConnection, uai: &str) -> Result<Option<String>, StoreError> {
    Ok(establishments::table.find(uai).select(establishments::name).first(conn).optional()?)
}

/// One version of a service provider's release contract.
#[derive(Clone, Debug, Queryable)]
pub struct ContractRecord {
    pub id: i64,
    pub version: i32,
    pub publisher_id: String,
    pub publisher_name: String,
    /// The service provider's SAML entityID.
    pub service_provider: String,
    /// JSON array of attribute names.
    pub attributes: String,
    pub purposes: String,
    pub data_categories: String,
    pub retention_days: i32,
    /// DRAFT, APPROVED or RETIRED.
    pub status: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<NaiveDateTime>,
}

/// Contracts, by publisher then service provider then version; one publisher's only when given.
pub fn contracts(conn: &mut AnyConnection, publisher: Option<&str>) -> Result<Vec<ContractRecord>, StoreError> {
    let mut query =
        release_contracts::table.inner_join(service_providers::table.inner_join(publishers::table)).into_boxed();
    if let Some(publisher) = publisher {
        query = query.filter(publishers::id.eq(publisher));
    }
    Ok(query
        .order((publishers::id, service_providers::entity_id, release_contracts::version))
        .select((
            release_contracts::id,
            release_contracts::version,
            publishers::id,
            publishers::name,
            service_providers::entity_id,
            release_contracts::attributes,
            release_contracts::purposes,
            release_contracts::data_categories,
            release_contracts::retention_days,
            release_contracts::status,
            release_contracts::approved_by,
            release_contracts::approved_at,
        ))
        .load(conn)?)
}
