//! The demo académie: fixtures in `fixtures/demo/`, a deterministic directory generator, and the
//! loader behind `sesame demo`.

mod fixtures;
mod generate;
pub mod load_scaled;
pub mod personas;
mod scale;
pub mod settings;
mod summary;

use std::collections::HashMap;

use diesel::prelude::*;

pub use fixtures::{AssignmentFixture, DistributorFixture, Fixtures, Sales, SchoolWideFixture};
pub use generate::{generate, generate_each_establishment};
pub use scale::{Scale, scaled};
pub use settings::{Settings, SettingsError};
pub use summary::{Counts, Loaded};

use crate::assignments::{self, Author, LedgerError};
use crate::domain::directory::Directory;
use crate::domain::pseudonym::Pseudonyms;
use crate::domain::subscription::AssignmentType;
use crate::domain::{SirenIsni, Uai};
use crate::store::directory::{DirectoryCounts, insert_directory};
use crate::store::schema::ent_projects;
use crate::store::{AnyConnection, StoreError, catalogue, partners, schools, subscriptions, write_transaction};
use crate::subscriptions::national_import;

/// Why the demo could not be loaded. Nothing is written when loading fails.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("demo fixture {file}: {reason}")]
    Fixture { file: &'static str, reason: String },
    #[error("the database already holds ENT project {0}: the demo loads into an empty database")]
    NotEmpty(String),
    #[error("demo assignment of {subscription} in {uai}: {reason}")]
    Assign { subscription: String, uai: Uai, reason: LedgerError },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for DemoError {
    fn from(e: diesel::result::Error) -> Self {
        DemoError::Store(StoreError::Query(e))
    }
}

/// The pseudonym secret of [`load`]: fixed, so tests that only need data get the same audit subjects.
const DEMO_PSEUDONYM_SECRET: &[u8] = b"sesame demo: not a secret";

/// As [`load_with`], naming people in the audit log with a fixed demo secret. For tests; `sesame
/// demo` passes the node's own pseudonyms so the audit log matches what the node computes.
pub fn load(conn: &mut AnyConnection) -> Result<Loaded, DemoError> {
    load_with(conn, &Pseudonyms::new(DEMO_PSEUDONYM_SECRET))
}

/// Generates the demo académie from the embedded fixtures and writes all of it (ENT projects,
/// directories, distributors, catalogue, subscriptions, the managers' assignments and ETABL
/// switches, with their audit events) in one transaction.
pub fn load_with(conn: &mut AnyConnection, pseudonyms: &Pseudonyms) -> Result<Loaded, DemoError> {
    let fixtures = Fixtures::embedded()?;
    let directories = generate(&fixtures.settings, fixtures.settings.seed);
    write_transaction(conn, |conn| write(conn, &fixtures, &directories, pseudonyms))
}

fn write(
    conn: &mut AnyConnection,
    fixtures: &Fixtures,
    directories: &[Directory],
    pseudonyms: &Pseudonyms,
) -> Result<Loaded, DemoError> {
    let settings = &fixtures.settings;
    let ent_ids: Vec<&str> = settings.ents.iter().map(|ent| ent.id.as_str()).collect();
    let existing: Option<String> = ent_projects::table
        .filter(ent_projects::id.eq_any(&ent_ids))
        .select(ent_projects::id)
        .first(conn)
        .optional()?;
    if let Some(ent) = existing {
        return Err(DemoError::NotEmpty(ent));
    }
    for ent in &settings.ents {
        partners::insert_ent_project(conn, &ent.id, &ent.name)?;
    }
    let mut directory_counts = DirectoryCounts::default();
    for dir in directories {
        directory_counts += insert_directory(conn, dir)?;
    }
    let national = national_import::read_csv(fixtures::SCHOOLS.as_bytes())
        .map_err(|e| DemoError::Fixture { file: "schools.csv", reason: e.to_string() })?;
    schools::update_national(conn, &national, |_| {})?;

    for distributor in &fixtures.sales.distributors {
        partners::insert_distributor(conn, distributor.id.as_str(), &distributor.name)?;
    }
    let catalogue = catalogue::insert_notices(conn, &fixtures.catalogue.resources)?;
    let mut subscription_ids: HashMap<(&SirenIsni, &str), i64> = HashMap::new();
    for sub in &fixtures.sales.subscriptions {
        let id = subscriptions::insert_subscription(conn, sub)?;
        subscription_ids.insert((&sub.distributor_id, sub.id.as_str()), id);
    }

    // Who decides, on which subscription: the manager named, else the school's first one.
    let decision = |distributor: &SirenIsni, external_id: &str, uai: &Uai, by: &Option<String>| {
        let subscription = subscription_ids
            .get(&(distributor, external_id))
            .copied()
            .ok_or_else(|| fixture_error(format!("unknown subscription {external_id}")))?;
        let by = match by {
            Some(by) => by.clone(),
            None => first_manager(directories, uai)
                .ok_or_else(|| fixture_error(format!("{uai} has no assignment manager")))?,
        };
        let ent = ent_of(directories, uai).ok_or_else(|| fixture_error(format!("{uai} is in no ENT project")))?;
        Ok::<_, DemoError>((subscription, Author::manager(ent, &by, pseudonyms)))
    };
    let failed = |external_id: &str, uai: &Uai| {
        let (subscription, uai) = (external_id.to_owned(), uai.clone());
        move |reason| DemoError::Assign { subscription, uai, reason }
    };
    let mut seats = 0;
    for a in &fixtures.assignments {
        let (subscription, author) = decision(&a.distributor, &a.subscription, &a.uai, &a.by)?;
        let assigned = assignments::assign(conn, &author, &a.uai, subscription, a.target.clone())
            .map_err(failed(&a.subscription, &a.uai))?;
        seats += assigned.changes.granted;
    }
    for s in &fixtures.school_wide {
        let (subscription, author) = decision(&s.distributor, &s.subscription, &s.uai, &s.by)?;
        assignments::set_school_wide(conn, &author, &s.uai, subscription, s.public, s.enabled)
            .map_err(failed(&s.subscription, &s.uai))?;
    }

    let kinds = fixtures.sales.subscriptions.iter().map(|sub| sub.assignment_type);
    let mut counts = Counts {
        ent_projects: settings.ents.len(),
        distributors: fixtures.sales.distributors.len(),
        publishers: catalogue.publishers,
        resources: catalogue.resources,
        individual_subscriptions: kinds.clone().filter(|kind| *kind == AssignmentType::Individual).count(),
        school_wide_subscriptions: kinds.filter(|kind| *kind == AssignmentType::Establishment).count(),
        assignments: fixtures.assignments.len(),
        seats,
        ..Counts::default()
    };
    counts.add_directories(directories);
    debug_assert_eq!(counts.persons(), directory_counts.persons);
    Ok(Loaded {
        ents: settings.ents.iter().map(|ent| ent.id.clone()).collect(),
        distributors: fixtures.sales.distributors.iter().map(|d| d.id.to_string()).collect(),
        counts,
    })
}

fn fixture_error(reason: String) -> DemoError {
    DemoError::Fixture { file: "assignments.toml", reason }
}

/// The ENT project a school belongs to.
fn ent_of<'d>(directories: &'d [Directory], uai: &Uai) -> Option<&'d str> {
    directories.iter().find(|dir| dir.establishments.iter().any(|e| &e.uai == uai)).map(|dir| dir.ent_id.as_str())
}

/// GARPersonIdentifiant of the first assignment manager of a school.
fn first_manager(directories: &[Directory], uai: &Uai) -> Option<String> {
    directories
        .iter()
        .flat_map(|dir| &dir.assignment_managers)
        .find(|manager| manager.establishments.contains(uai))
        .map(|manager| manager.gar_id.clone())
}
