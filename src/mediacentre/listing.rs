//! What a person's médiacentre lists: the entitlement resolution of the ledger (the one source of
//! truth, shared with sign-on) joined with the catalogue's notices. No HTTP here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use super::notice_cache::NoticeCache;
use crate::domain::Uai;
use crate::domain::catalogue::ResourceNotice;
use crate::domain::entitlement::{AllSchools, Clock, GrantedResource, Resolution};
use crate::store::entitlements;
use crate::store::{AnyConnection, StoreError, schools};

/// Which of the person's schools to list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One school: the GAR's call.
    School(Uai),
    /// Every school of the person in one answer, each resource tagged with its schools.
    AllSchools,
}

/// A school a resource is granted in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct School {
    pub uai: Uai,
    /// `GARStructureNomCourant`; only filled for [`Scope::AllSchools`].
    pub name: String,
}

/// One listed resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub notice: Arc<ResourceNotice>,
    /// Where it is granted, by UAI; never empty.
    pub schools: Vec<School>,
}

/// The resources a person may open, ordered by title then id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    pub entries: Vec<Entry>,
}

/// Why there is no listing.
#[derive(Debug, thiserror::Error)]
pub enum ListingError {
    #[error("unknown school, or a school of another ENT project")]
    UnknownSchool,
    #[error("unknown person")]
    UnknownPerson,
    #[error("the person is not attached to the school")]
    NotInSchool,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a listing reads the catalogue's notices, and how stale they may be.
pub struct Notices<'a> {
    pub cache: &'a NoticeCache,
    pub refresh: Duration,
}

/// Lists what `gar_id` of `ent_id` may open at `clock.now`.
pub fn list(
    conn: &mut AnyConnection,
    notices: &Notices,
    ent_id: &str,
    gar_id: &str,
    scope: &Scope,
    clock: Clock,
) -> Result<Listing, ListingError> {
    // Resource id → the schools granting it.
    let mut granted: BTreeMap<String, BTreeSet<Uai>> = BTreeMap::new();
    let mut add = |uai: &Uai, resources: Vec<GrantedResource>| {
        for resource in resources {
            granted.entry(resource.resource_id).or_default().insert(uai.clone());
        }
    };
    let all_schools = match scope {
        Scope::School(uai) => {
            match entitlements::resolve(conn, ent_id, gar_id, uai, clock)? {
                Resolution::UnknownSchool => return Err(ListingError::UnknownSchool),
                Resolution::UnknownPerson => return Err(ListingError::UnknownPerson),
                Resolution::NotInSchool => return Err(ListingError::NotInSchool),
                Resolution::Granted(found) => add(uai, found.resources),
            }
            false
        }
        Scope::AllSchools => {
            let AllSchools::Schools { schools } = entitlements::resolve_all(conn, ent_id, gar_id, clock)? else {
                return Err(ListingError::UnknownPerson);
            };
            for (uai, found) in schools {
                add(&uai, found.resources);
            }
            true
        }
    };

    let ids: Vec<&str> = granted.keys().map(String::as_str).collect();
    let found = notices.cache.get(conn, &ids, notices.refresh)?;
    if found.len() < ids.len() {
        // A subscription may precede its resource's notice: nothing to show until it is imported.
        tracing::debug!(missing = ids.len() - found.len(), "granted resources without a notice are not listed");
    }
    let names = if all_schools {
        let uais: BTreeSet<&str> = granted.values().flatten().map(Uai::as_str).collect();
        schools::names(conn, ent_id, &uais.into_iter().collect::<Vec<_>>())?
    } else {
        Default::default()
    };
    let mut entries: Vec<Entry> = found
        .into_iter()
        .map(|notice| {
            let schools = granted
                .get(&notice.id)
                .into_iter()
                .flatten()
                .map(|uai| School { uai: uai.clone(), name: names.get(uai.as_str()).cloned().unwrap_or_default() })
                .collect();
            Entry { notice, schools }
        })
        .collect();
    entries.sort_by(|a, b| (&a.notice.name, &a.notice.id).cmp(&(&b.notice.name, &b.notice.id)));
    Ok(Listing { entries })
}
