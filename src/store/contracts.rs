//! Release contracts (`release_contracts`): per service provider, versioned; at most one version
//! is APPROVED at a time, earlier ones are RETIRED and kept, so every past release can be checked
//! against the contract it was made under.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::release_contracts;
use super::{AnyConnection, StoreError};

/// What an operator approves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewContract {
    pub service_provider_id: i64,
    /// JSON array of attribute names (the floor included).
    pub attributes: String,
    pub purposes: String,
    pub legal_basis: String,
    pub data_categories: String,
    pub retention_days: i32,
    pub approved_by: String,
}

/// A contract version, as approving and launching need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractVersion {
    pub id: i64,
    pub version: i32,
    /// JSON array of attribute names.
    pub attributes: String,
}

/// Records `contract` as the service provider's new APPROVED version and retires the one it
/// replaces. Returns the new version and the retired one. Call inside a write transaction.
pub fn approve(
    conn: &mut AnyConnection,
    contract: &NewContract,
    now: NaiveDateTime,
) -> Result<(ContractVersion, Option<ContractVersion>), StoreError> {
    let sp = contract.service_provider_id;
    let retired = approved(conn, sp)?;
    let last: Option<i32> = release_contracts::table
        .filter(release_contracts::service_provider_id.eq(sp))
        .select(diesel::dsl::max(release_contracts::version))
        .first(conn)?;
    diesel::update(
        release_contracts::table
            .filter(release_contracts::service_provider_id.eq(sp))
            .filter(release_contracts::status.eq("APPROVED")),
    )
    .set(release_contracts::status.eq("RETIRED"))
    .execute(conn)?;
    let version = last.unwrap_or(0) + 1;
    let id = diesel::insert_into(release_contracts::table)
        .values((
            release_contracts::service_provider_id.eq(sp),
            release_contracts::version.eq(version),
            release_contracts::attributes.eq(&contract.attributes),
            release_contracts::purposes.eq(&contract.purposes),
            release_contracts::legal_basis.eq(&contract.legal_basis),
            release_contracts::data_categories.eq(&contract.data_categories),
            release_contracts::retention_days.eq(contract.retention_days),
            release_contracts::status.eq("APPROVED"),
            release_contracts::approved_by.eq(&contract.approved_by),
            release_contracts::approved_at.eq(now),
            release_contracts::created_at.eq(now),
        ))
        .returning(release_contracts::id)
        .get_result(conn)?;
    Ok((ContractVersion { id, version, attributes: contract.attributes.clone() }, retired))
}

/// The service provider's approved contract, if any.
pub fn approved(conn: &mut AnyConnection, service_provider_id: i64) -> Result<Option<ContractVersion>, StoreError> {
    let row: Option<(i64, i32, String)> = release_contracts::table
        .filter(release_contracts::service_provider_id.eq(service_provider_id))
        .filter(release_contracts::status.eq("APPROVED"))
        .order(release_contracts::version.desc())
        .select((release_contracts::id, release_contracts::version, release_contracts::attributes))
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, version, attributes)| ContractVersion { id, version, attributes }))
}
