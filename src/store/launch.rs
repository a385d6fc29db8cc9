//! What a launch reads besides entitlements: the resource with the service provider and the
//! approved contract it is released under, and the directory facts behind the attributes the
//! contract allows. Only the facts the released attributes need are read.

use diesel::prelude::*;

use super::contracts::ContractVersion;
use super::saml::{ServiceProviderRow, find_publisher_service_provider};
use super::schema::{
    mefs, person_groups, person_mefs, person_mefstat4, persons, release_contracts, resources, school_groups,
    service_providers, subjects, teacher_group_subjects,
};
use super::{AnyConnection, StoreError};

/// What a release needs of a service provider (`service_providers`).
#[derive(Clone, Debug, PartialEq, Eq, Queryable)]
pub struct ReleaseProvider {
    pub id: i64,
    pub publisher_id: String,
    pub entity_id: String,
    pub acs_url: String,
    /// `rsa-sha256` or `ecdsa-sha256`.
    pub signature_algorithm: String,
    /// JSON array of attribute names.
    pub requested_attributes: String,
    pub sign_response: bool,
}

/// A resource and where its assertions go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchTarget {
    pub resource_id: String,
    /// The resource's own URL: the `RelayState` of the response.
    pub resource_url: String,
    pub publisher_id: String,
    /// The resource's own service provider, else its publisher's first; `None` when neither is registered.
    pub service_provider: Option<ReleaseProvider>,
    /// The service provider's approved release contract.
    pub contract: Option<ContractVersion>,
}

/// The resource `resource_id`, if it is in the catalogue: one statement, as it runs on every launch.
pub fn launch_target(conn: &mut AnyConnection, resource_id: &str) -> Result<Option<LaunchTarget>, StoreError> {
    let provider = service_providers::id
        .nullable()
        .eq(resources::service_provider_id)
        .or(resources::service_provider_id.is_null().and(service_providers::publisher_id.eq(resources::publisher_id)));
    // At most one APPROVED version per provider (`store::contracts::approve`).
    let approved =
        release_contracts::service_provider_id.eq(service_providers::id).and(release_contracts::status.eq("APPROVED"));
    type Row = (String, String, Option<ReleaseProvider>, Option<(i64, i32, String)>);
    let query = resources::table
        .left_join(service_providers::table.on(provider))
        .left_join(release_contracts::table.on(approved))
        .filter(resources::id.eq(resource_id.to_owned()))
        // A publisher's first provider when the resource names none (NULL only when there is none).
        .order(service_providers::id)
        .select((
            resources::url,
            resources::publisher_id,
            (
                service_providers::id,
                service_providers::publisher_id,
                service_providers::entity_id,
                service_providers::acs_url,
                service_providers::signature_algorithm,
                service_providers::requested_attributes,
                service_providers::sign_response,
            )
                .nullable(),
            (release_contracts::id, release_contracts::version, release_contracts::attributes).nullable(),
        ))
        .limit(1);
    let rows: Vec<Row> = load_native!(conn, query)?;
    Ok(rows.into_iter().next().map(|(resource_url, publisher_id, service_provider, contract)| LaunchTarget {
        resource_id: resource_id.to_owned(),
        resource_url,
        publisher_id,
        service_provider,
        contract: contract.map(|(id, version, attributes)| ContractVersion { id, version, attributes }),
    }))
}

/// Which directory facts to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wanted {
    pub identity: bool,
    pub divisions: bool,
    pub groups: bool,
    pub levels: bool,
    pub mefs: bool,
    pub subjects: bool,
}

/// A person's directory facts in one school, as released attributes need them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersonFacts {
    /// `ENSEIGNANT` (staff) or `ELEVE`.
    pub source: String,
    pub last_name: String,
    pub first_name: String,
    pub civility: Option<String>,
    pub mails: Vec<String>,
    /// (code, label) of the classes and of the groups the person belongs to in the school.
    pub divisions: Vec<(String, String)>,
    pub groups: Vec<(String, String)>,
    /// MEFSTAT4 codes: the person's own (first degree) and those of their MEFs (second degree).
    pub levels: Vec<String>,
    /// MEF codes.
    pub mefs: Vec<String>,
    /// (code, label) of the subjects a teacher teaches in the school.
    pub subjects: Vec<(String, String)>,
}

impl PersonFacts {
    pub fn is_staff(&self) -> bool {
        self.source == "ENSEIGNANT"
    }
}

/// Reads the `wanted` facts of person `person_id` (`persons.id`) in school `uai`.
pub fn person_facts(
    conn: &mut AnyConnection,
    person_id: i64,
    uai: &str,
    wanted: Wanted,
) -> Result<PersonFacts, StoreError> {
    let mut facts = PersonFacts::default();
    if wanted.identity || wanted.levels || wanted.mefs || wanted.subjects {
        let (source, last_name, first_name, civility, mails): (String, String, String, Option<String>, String) =
            persons::table
                .find(person_id)
                .select((persons::source, persons::last_name, persons::first_name, persons::civility, persons::mails))
                .first(conn)?;
        facts.source = source;
        if wanted.identity {
            facts.last_name = last_name;
            facts.first_name = first_name;
            facts.civility = civility;
            facts.mails = serde_json::from_str(&mails).unwrap_or_default();
        }
    }
    if wanted.divisions || wanted.groups {
        let query = person_groups::table
            .inner_join(school_groups::table)
            .filter(person_groups::person_id.eq(person_id))
            .filter(school_groups::uai.eq(uai.to_owned()))
            .order(school_groups::code)
            .select((school_groups::status, school_groups::code, school_groups::label));
        let rows: Vec<(String, String, String)> = load_native!(conn, query)?;
        for (status, code, label) in rows {
            match status.as_str() {
                "DIVISION" if wanted.divisions => facts.divisions.push((code, label)),
                "GROUPE" if wanted.groups => facts.groups.push((code, label)),
                _ => {}
            }
        }
    }
    if wanted.levels || wanted.mefs {
        let codes: Vec<(String, Option<String>)> = person_mefs::table
            .left_join(mefs::table.on(mefs::uai.eq(person_mefs::uai).and(mefs::code.eq(person_mefs::mef_code))))
            .filter(person_mefs::person_id.eq(person_id))
            .filter(person_mefs::uai.eq(uai))
            .order(person_mefs::mef_code)
            .select((person_mefs::mef_code, mefs::stat11.nullable()))
            .load(conn)?;
        if wanted.levels {
            let own: Vec<String> = person_mefstat4::table
                .filter(person_mefstat4::person_id.eq(person_id))
                .filter(person_mefstat4::uai.eq(uai))
                .select(person_mefstat4::code)
                .load(conn)?;
            // MEFSTAT4 is the first four digits of a MEF's MEFSTAT11.
            let from_mefs = codes.iter().filter_map(|(_, stat11)| stat11.as_deref()?.get(..4).map(str::to_owned));
            facts.levels = sorted_unique(own.into_iter().chain(from_mefs).collect());
        }
        facts.mefs = codes.into_iter().map(|(code, _)| code).collect();
    }
    if wanted.subjects {
        let rows: Vec<(String, Option<String>)> =
            teacher_group_subjects::table
                .inner_join(school_groups::table)
                .left_join(subjects::table.on(
                    subjects::uai.eq(school_groups::uai).and(subjects::code.eq(teacher_group_subjects::subject_code)),
                ))
                .filter(teacher_group_subjects::person_id.eq(person_id))
                .filter(school_groups::uai.eq(uai))
                .select((teacher_group_subjects::subject_code, subjects::label.nullable()))
                .load(conn)?;
        let mut subjects: Vec<(String, String)> =
            rows.into_iter().map(|(code, label)| (code.clone(), label.unwrap_or(code))).collect();
        subjects.sort();
        subjects.dedup();
        facts.subjects = subjects;
    }
    Ok(facts)
}

fn sorted_unique(mut values: Vec<String>) -> Vec<String> {
    values.sort();
    values.dedup();
    values
}

/// (id, url) of the resources released to service provider `sp`: those naming it, and, when it is
/// its publisher's provider, the publisher's resources that name none.
pub fn resources_of(conn: &mut AnyConnection, sp: &ServiceProviderRow) -> Result<Vec<(String, String)>, StoreError> {
    let publisher_wide =
        find_publisher_service_provider(conn, &sp.publisher_id)?.is_some_and(|first| first.id == sp.id);
    let mut query = resources::table.filter(resources::service_provider_id.eq(sp.id)).into_boxed();
    if publisher_wide {
        query = query.or_filter(
            resources::publisher_id.eq(sp.publisher_id.clone()).and(resources::service_provider_id.is_null()),
        );
    }
    Ok(query.order(resources::id).select((resources::id, resources::url)).load(conn)?)
}
