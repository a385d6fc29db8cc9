//! The catalogue: publishers and their resources, written from import notices and read back as
//! notices for the médiacentre.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::schema::{distributors, publishers, resources, subscriptions};
use super::{AnyConnection, StoreError, partners, write_transaction};
use crate::domain::SirenIsni;
use crate::domain::catalogue::{Presentation, ResourceNotice, VocabularyTerm};

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

/// The columns a notice sets. `created_at` and `service_provider_id` are not the notice's to change.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = resources, treat_none_as_default_value = false, treat_none_as_null = true)]
struct NoticeRow<'a> {
    id_type: &'a str,
    name: &'a str,
    publisher_id: &'a str,
    url: &'a str,
    thumbnail_url: Option<&'a str>,
    presentation_code: &'a str,
    presentation_label: &'a str,
    pedagogical_types: String,
    document_types: String,
    education_levels: String,
    teaching_domains: String,
    tech_distributor_id: &'a str,
    tech_validator_id: &'a str,
    source_label: &'a str,
    source_label_url: Option<&'a str>,
    description: Option<&'a str>,
    family_parent_id: Option<&'a str>,
    updated_at: NaiveDateTime,
}

impl<'a> NoticeRow<'a> {
    fn new(notice: &'a ResourceNotice, now: NaiveDateTime) -> Self {
        Self {
            id_type: &notice.id_type,
            name: &notice.name,
            publisher_id: notice.publisher_id.as_str(),
            url: &notice.url,
            thumbnail_url: notice.thumbnail_url.as_deref(),
            presentation_code: &notice.presentation.code,
            presentation_label: &notice.presentation.nom,
            pedagogical_types: json_terms(&notice.pedagogical_types),
            document_types: json_terms(&notice.document_types),
            education_levels: json_terms(&notice.education_levels),
            teaching_domains: json_terms(&notice.teaching_domains),
            tech_distributor_id: notice.tech_distributor_id.as_str(),
            tech_validator_id: notice.tech_validator_id.as_str(),
            source_label: &notice.source_label,
            source_label_url: notice.source_label_url.as_deref(),
            description: notice.description.as_deref(),
            family_parent_id: notice.family_parent_id.as_deref(),
            updated_at: now,
        }
    }
}

/// Inserts one resource; its publisher must be registered.
pub fn insert_resource(conn: &mut AnyConnection, notice: &ResourceNotice) -> Result<(), StoreError> {
    let now = Utc::now().naive_utc();
    diesel::insert_into(resources::table)
        .values((resources::id.eq(&notice.id), resources::created_at.eq(now), NoticeRow::new(notice, now)))
        .execute(conn)?;
    Ok(())
}

/// What an upsert did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    /// Publishers registered because a notice named them first.
    pub publishers_added: usize,
    /// Known publishers whose name the notices changed.
    pub publishers_renamed: usize,
    pub created: usize,
    pub updated: usize,
    /// Notices identical to the stored resource: nothing written, `updated_at` kept.
    pub unchanged: usize,
}

/// Inserts new resources and updates known ones (by `idRessource`), registering or renaming their
/// publishers, family mothers before their members. One transaction. `progress` hears the number of
/// notices handled so far, every 500 and at the end.
pub fn upsert_notices(
    conn: &mut AnyConnection,
    notices: &[ResourceNotice],
    progress: &mut dyn FnMut(usize),
) -> Result<UpsertCounts, StoreError> {
    write_transaction(conn, |conn| {
        let mut counts = UpsertCounts::default();
        let mut publisher_names: HashMap<&str, &str> = HashMap::new();
        for notice in notices {
            publisher_names.insert(notice.publisher_id.as_str(), notice.publisher_name.as_str());
        }
        for (id, name) in publisher_names {
            let stored: Option<String> = publishers::table.find(id).select(publishers::name).first(conn).optional()?;
            match stored {
                None => {
                    partners::insert_publisher(conn, id, name)?;
                    counts.publishers_added += 1;
                }
                Some(stored) if stored != name => {
                    diesel::update(publishers::table.find(id)).set(publishers::name.eq(name)).execute(conn)?;
                    // Their listings show the new name: readers watch `updated_at` for changes.
                    diesel::update(resources::table.filter(resources::publisher_id.eq(id)))
                        .set(resources::updated_at.eq(Utc::now().naive_utc()))
                        .execute(conn)?;
                    counts.publishers_renamed += 1;
                }
                Some(_) => {}
            }
        }
        let ids: Vec<&str> = notices.iter().map(|n| n.id.as_str()).collect();
        let stored: HashMap<String, ResourceNotice> =
            find_notices(conn, &ids)?.into_iter().map(|notice| (notice.id.clone(), notice)).collect();
        let now = Utc::now().naive_utc();
        for (done, notice) in mothers_first(notices).into_iter().enumerate() {
            match stored.get(&notice.id) {
                None => {
                    diesel::insert_into(resources::table)
                        .values((
                            resources::id.eq(&notice.id),
                            resources::created_at.eq(now),
                            NoticeRow::new(notice, now),
                        ))
                        .execute(conn)?;
                    counts.created += 1;
                }
                Some(old) if same_resource(old, notice) => counts.unchanged += 1,
                Some(_) => {
                    diesel::update(resources::table.find(&notice.id)).set(NoticeRow::new(notice, now)).execute(conn)?;
                    counts.updated += 1;
                }
            }
            if (done + 1) % 500 == 0 {
                progress(done + 1);
            }
        }
        progress(notices.len());
        Ok(counts)
    })
}

/// Equal but for the publisher's name, which lives with the publisher rather than the resource.
fn same_resource(stored: &ResourceNotice, notice: &ResourceNotice) -> bool {
    stored == &ResourceNotice { publisher_name: stored.publisher_name.clone(), ..notice.clone() }
}

type NoticeTuple = (
    (String, String, String, String, String, Option<String>, String, String, String),
    (String, String, String, String, String, String, Option<String>, Option<String>, Option<String>),
    (String, NaiveDateTime),
);

/// The stored resources among `ids`, as notices (publisher name included), in no particular order.
pub fn find_notices(conn: &mut AnyConnection, ids: &[&str]) -> Result<Vec<ResourceNotice>, StoreError> {
    Ok(find_versioned_notices(conn, ids)?.into_iter().map(|(notice, _)| notice).collect())
}

/// As [`find_notices`], each with its `updated_at`, which every change of what the notice shows
/// moves (a publisher's new name included).
pub fn find_versioned_notices(
    conn: &mut AnyConnection,
    ids: &[&str],
) -> Result<Vec<(ResourceNotice, NaiveDateTime)>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    // Bounded IN lists: an import may name thousands of resources.
    for chunk in ids.chunks(1_000) {
        let rows: Vec<NoticeTuple> = resources::table
            .inner_join(publishers::table)
            .filter(resources::id.eq_any(chunk))
            .select((
                (
                    resources::id,
                    resources::id_type,
                    resources::name,
                    resources::publisher_id,
                    publishers::name,
                    resources::thumbnail_url,
                    resources::presentation_code,
                    resources::presentation_label,
                    resources::pedagogical_types,
                ),
                (
                    resources::document_types,
                    resources::education_levels,
                    resources::teaching_domains,
                    resources::tech_distributor_id,
                    resources::tech_validator_id,
                    resources::source_label,
                    resources::source_label_url,
                    resources::description,
                    resources::family_parent_id,
                ),
                (resources::url, resources::updated_at),
            ))
            .load(conn)?;
        for row in rows {
            let updated_at = row.2.1;
            found.push((notice_from_row(row)?, updated_at));
        }
    }
    Ok(found)
}

fn notice_from_row(row: NoticeTuple) -> Result<ResourceNotice, StoreError> {
    let (
        (id, id_type, name, publisher_id, publisher_name, thumbnail_url, code, nom, pedagogical),
        (
            document,
            levels,
            domains,
            tech_distributor,
            tech_validator,
            source_label,
            source_label_url,
            description,
            mother,
        ),
        (url, _),
    ) = row;
    Ok(ResourceNotice {
        id_type,
        name,
        publisher_id: stored_company(publisher_id)?,
        publisher_name,
        thumbnail_url,
        presentation: Presentation { code, nom },
        pedagogical_types: stored_terms(&pedagogical)?,
        document_types: stored_terms(&document)?,
        education_levels: stored_terms(&levels)?,
        teaching_domains: stored_terms(&domains)?,
        tech_distributor_id: stored_company(tech_distributor)?,
        tech_validator_id: stored_company(tech_validator)?,
        source_label,
        source_label_url,
        description,
        url,
        family_parent_id: mother,
        id,
    })
}

/// A stored value that no longer parses: reported as a query failure, never skipped silently.
fn corrupt(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Query(diesel::result::Error::DeserializationError(Box::new(error)))
}

fn stored_terms(json: &str) -> Result<Vec<VocabularyTerm>, StoreError> {
    serde_json::from_str(json).map_err(corrupt)
}

fn stored_company(id: String) -> Result<SirenIsni, StoreError> {
    SirenIsni::parse(&id).map_err(corrupt)
}

/// Every resource's id and `updated_at`.
pub fn versions(conn: &mut AnyConnection) -> Result<Vec<(String, NaiveDateTime)>, StoreError> {
    Ok(resources::table.select((resources::id, resources::updated_at)).load(conn)?)
}

/// For each of `ids` that is stored, its family mother (`None` when it has none).
pub fn find_mothers(conn: &mut AnyConnection, ids: &[&str]) -> Result<HashMap<String, Option<String>>, StoreError> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(1_000) {
        let rows: Vec<(String, Option<String>)> = resources::table
            .filter(resources::id.eq_any(chunk))
            .select((resources::id, resources::family_parent_id))
            .load(conn)?;
        found.extend(rows);
    }
    Ok(found)
}

/// Stored resources whose family mother is one of `ids`: (member, mother).
pub fn find_members(conn: &mut AnyConnection, ids: &[&str]) -> Result<Vec<(String, String)>, StoreError> {
    let mut found = Vec::new();
    for chunk in ids.chunks(1_000) {
        let rows: Vec<(String, Option<String>)> = resources::table
            .filter(resources::family_parent_id.eq_any(chunk))
            .select((resources::id, resources::family_parent_id))
            .load(conn)?;
        found.extend(rows.into_iter().filter_map(|(id, mother)| Some((id, mother?))));
    }
    Ok(found)
}

/// One entry of the GAR's `ressourcesDiffusables`: a resource with the names of its companies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Distributable {
    pub id: String,
    pub name: String,
    pub publisher_id: String,
    pub publisher_name: String,
    /// Commercial distributors with a live subscription for it: (idDistributeurCom, name), by id.
    pub distributors: Vec<(String, String)>,
    pub tech_distributor_id: String,
    /// The technical distributor's name when it is a registered publisher or distributor.
    pub tech_distributor_name: Option<String>,
    /// Its family mother, when it is a member.
    pub family_parent_id: Option<String>,
    /// Whether another resource names it as family mother.
    pub is_mother: bool,
}

/// Every resource of the catalogue, ordered by id.
pub fn distributables(conn: &mut AnyConnection) -> Result<Vec<Distributable>, StoreError> {
    type Row = (String, String, String, String, String, Option<String>);
    let rows: Vec<Row> = resources::table
        .inner_join(publishers::table)
        .select((
            resources::id,
            resources::name,
            resources::publisher_id,
            publishers::name,
            resources::tech_distributor_id,
            resources::family_parent_id,
        ))
        .order(resources::id)
        .load(conn)?;
    let sold: Vec<(String, String, String)> = subscriptions::table
        .inner_join(distributors::table)
        .filter(subscriptions::deleted_at.is_null())
        .select((subscriptions::resource_id, distributors::id, distributors::name))
        .distinct()
        .load(conn)?;
    let mut sellers: HashMap<String, BTreeMap<String, String>> = HashMap::new();
    for (resource, id, name) in sold {
        sellers.entry(resource).or_default().insert(id, name);
    }
    let mut company_names: HashMap<String, String> = distributors::table
        .select((distributors::id, distributors::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    // A publisher's own name wins over a distributor registered with the same SIREN_ISNI.
    company_names.extend(publishers::table.select((publishers::id, publishers::name)).load::<(String, String)>(conn)?);
    let mothers: HashSet<&str> = rows.iter().filter_map(|row| row.5.as_deref()).collect();
    let is_mother: HashSet<String> = mothers.into_iter().map(str::to_owned).collect();
    Ok(rows
        .into_iter()
        .map(|(id, name, publisher_id, publisher_name, tech_distributor_id, family_parent_id)| Distributable {
            distributors: sellers.remove(&id).map(|m| m.into_iter().collect()).unwrap_or_default(),
            tech_distributor_name: company_names.get(&tech_distributor_id).cloned(),
            is_mother: is_mother.contains(&id),
            id,
            name,
            publisher_id,
            publisher_name,
            tech_distributor_id,
            family_parent_id,
        })
        .collect())
}
