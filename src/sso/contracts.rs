//! Approving release contracts. A contract belongs to the service provider that receives the
//! assertions (named directly, or through a resource released to it); approving one records a new
//! APPROVED version with the floor (`IDO`, `UAI`, `PRO`) always included, and retires the version
//! it replaces, both audited in the same transaction.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::release::{ReleaseAttribute, ReleaseAttributeError, contract_attributes};
use crate::store::contracts::{self, ContractVersion, NewContract};
use crate::store::launch::launch_target;
use crate::store::saml::{ServiceProviderRow, find_service_provider_by_entity_id};
use crate::store::{AnyConnection, StoreError, audit, write_transaction};

/// Whose contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContractTarget {
    /// A service provider, by entity ID.
    ServiceProvider(String),
    /// The service provider a resource is released to.
    Resource(String),
}

/// What the operator approves.
#[derive(Clone, Debug)]
pub struct Approval {
    pub target: ContractTarget,
    pub attributes: Vec<ReleaseAttribute>,
    pub purpose: String,
    pub legal_basis: String,
    pub approver: String,
    pub retention_days: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    #[error(transparent)]
    Attribute(#[from] ReleaseAttributeError),
    #[error("no service provider is registered as {0}")]
    UnknownServiceProvider(String),
    #[error("no resource {0} in the catalogue")]
    UnknownResource(String),
    #[error("resource {0} has no service provider: register its publisher's first (sesame publisher add)")]
    NoServiceProvider(String),
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for ContractError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Store(error.into())
    }
}

/// Parses a comma-separated attribute list (`IDO,UAI,PRO,DIV`); an unknown name is an error
/// naming the accepted ones.
pub fn parse_attributes(list: &str) -> Result<Vec<ReleaseAttribute>, ReleaseAttributeError> {
    list.split(',').filter(|name| !name.trim().is_empty()).map(ReleaseAttribute::parse).collect()
}

/// The approved version, with the service provider it is for.
#[derive(Clone, Debug)]
pub struct Approved {
    pub service_provider: ServiceProviderRow,
    pub contract: ContractVersion,
    pub retired: Option<ContractVersion>,
    pub attributes: Vec<ReleaseAttribute>,
}

/// Records `approval` as the target's new approved contract.
pub fn approve(conn: &mut AnyConnection, approval: &Approval, now: DateTime<Utc>) -> Result<Approved, ContractError> {
    for (name, value) in
        [("--purpose", &approval.purpose), ("--legal-basis", &approval.legal_basis), ("--approver", &approval.approver)]
    {
        if value.trim().is_empty() {
            return Err(ContractError::Empty(name));
        }
    }
    let attributes = contract_attributes(&approval.attributes);
    let names: Vec<&str> = attributes.iter().map(|a| a.code()).collect();
    let mut categories: Vec<&str> = attributes.iter().map(|a| a.category()).collect();
    categories.sort_unstable();
    categories.dedup();
    write_transaction(conn, |conn| {
        let sp = match &approval.target {
            ContractTarget::ServiceProvider(entity_id) => find_service_provider_by_entity_id(conn, entity_id)?
                .ok_or_else(|| ContractError::UnknownServiceProvider(entity_id.clone()))?,
            ContractTarget::Resource(id) => {
                let provider = launch_target(conn, id)?
                    .ok_or_else(|| ContractError::UnknownResource(id.clone()))?
                    .service_provider
                    .ok_or_else(|| ContractError::NoServiceProvider(id.clone()))?;
                find_service_provider_by_entity_id(conn, &provider.entity_id)?
                    .ok_or_else(|| ContractError::NoServiceProvider(id.clone()))?
            }
        };
        let new = NewContract {
            service_provider_id: sp.id,
            attributes: serde_json::to_string(&names).expect("strings serialize"),
            purposes: approval.purpose.trim().to_owned(),
            legal_basis: approval.legal_basis.trim().to_owned(),
            data_categories: serde_json::to_string(&categories).expect("strings serialize"),
            retention_days: i32::try_from(approval.retention_days).unwrap_or(i32::MAX),
            approved_by: approval.approver.trim().to_owned(),
        };
        let (contract, retired) = contracts::approve(conn, &new, now.naive_utc())?;
        let reference = |c: &ContractVersion| json!({ "id": c.id, "version": c.version });
        if let Some(old) = &retired {
            let details = json!({ "publisher": sp.publisher_id, "sp": sp.entity_id, "contract": reference(old),
                                  "replacedBy": reference(&contract) });
            audit::append(conn, &AuditEvent::new(AuditKind::ContractRetired, Actor::operator(), details))?;
        }
        let details = json!({
            "publisher": sp.publisher_id,
            "sp": sp.entity_id,
            "contract": reference(&contract),
            "attributes": names,
            "legalBasis": new.legal_basis,
            "retentionDays": new.retention_days,
        });
        audit::append(conn, &AuditEvent::new(AuditKind::ContractApproved, Actor::operator(), details))?;
        Ok(Approved { service_provider: sp, contract, retired, attributes: attributes.clone() })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_lists_are_checked() {
        use ReleaseAttribute::*;
        assert_eq!(parse_attributes("IDO, UAI,PRO,DIV,").unwrap(), vec![Ido, Uai, Pro, Div]);
        let error = parse_attributes("IDO,MAIL").unwrap_err();
        assert!(error.to_string().contains("`MAIL` is not a releasable attribute"), "{error}");
    }
}
