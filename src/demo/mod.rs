//! The demo académie: fixtures in `fixtures/demo/`, a deterministic directory generator, and the
//! loader behind `sesame demo`.

mod fixtures;
mod generate;
pub mod personas;
pub mod scale;
pub mod settings;
mod summary;

use std::collections::HashMap;

use diesel::prelude::*;

pub use fixtures::{AssignmentFixture, DistributorFixture, Fixtures, Sales};
pub use generate::generate;
pub use settings::{Settings, SettingsError};
pub use summary::{Counts, Loaded};

use crate::domain::directory::Directory;
use crate::domain::subscription::AssignmentType;
use crate::domain::{SirenIsni, Uai};
use crate::store::assignments::{self, AssignError};
use crate::store::directory::{DirectoryCounts, insert_directory};
use crate::store::schema::ent_projects;
use crate::store::{AnyConnection, StoreError, catalogue, partners, subscriptions, write_transaction};

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
    Assign { subscription: String, uai: Uai, reason: AssignError },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for DemoError {
    fn from(e: diesel::result::Error) -> Self {
        DemoError::Store(StoreError::Query(e))
    }
}

/// Generates the demo académie from the embedded fixtures and writes all of it (ENT projects,
/// directories, distributors, catalogue, subscriptions, assignments) in one transaction.
pub fn load(conn: &mut AnyConnection) -> Result<Loaded, DemoError> {
    let fixtures = Fixtures::embedded()?;
    let directories = generate(&fixtures.settings, fixtures.settings.seed);
    write_transaction(conn, |conn| write(conn, &fixtures, &directories))
}

fn write(conn: &mut AnyConnection, fixtures: &Fixtures, directories: &[Directory]) -> Result<Loaded, DemoError> {
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

    for distributor in &fixtures.sales.distributors {
        partners::insert_distributor(conn, distributor.id.as_str(), &distributor.name)?;
    }
    let catalogue = catalogue::insert_notices(conn, &fixtures.catalogue.resources)?;
    let mut subscription_ids: HashMap<(&SirenIsni, &str), i64> = HashMap::new();
    for sub in &fixtures.sales.subscriptions {
        let id = subscriptions::insert_subscription(conn, sub)?;
        subscription_ids.insert((&sub.distributor_id, sub.id.as_str()), id);
    }

    let mut seats = 0;
    for assignment in &fixtures.assignments {
        let failed = |reason| DemoError::Assign {
            subscription: assignment.subscription.clone(),
            uai: assignment.uai.clone(),
            reason,
        };
        let subscription = subscription_ids
            .get(&(&assignment.distributor, assignment.subscription.as_str()))
            .copied()
            .ok_or_else(|| fixture_error(format!("unknown subscription {}", assignment.subscription)))?;
        let by = match &assignment.by {
            Some(by) => by.clone(),
            None => first_manager(directories, &assignment.uai)
                .ok_or_else(|| fixture_error(format!("{} has no assignment manager", assignment.uai)))?,
        };
        seats +=
            assignments::assign(conn, subscription, &assignment.uai, &assignment.target, &by).map_err(failed)?.seats;
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

/// GARPersonIdentifiant of the first assignment manager of a school.
fn first_manager(directories: &[Directory], uai: &Uai) -> Option<String> {
    directories
        .iter()
        .flat_map(|dir| &dir.assignment_managers)
        .find(|manager| manager.establishments.contains(uai))
        .map(|manager| manager.gar_id.clone())
}
