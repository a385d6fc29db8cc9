//! A large académie for load benchmarks: the demo's five schools copied many times over several
//! ENT projects (`B00`, `B01`…), each copy with the demo's subscriptions and its class, group and
//! profile assignments, written in bulk one ENT project per transaction.
//!
//! Several projects keep each generated directory (and memory) small; persons are numbered per
//! project (`b07-elv-000123`), as the demo numbers them.

use std::collections::HashMap;
use std::time::Instant;

use super::fixtures::Fixtures;
use super::settings::{EntSettings, Settings};
use super::{DemoError, generate};
use crate::assignments::{self, Author, LedgerError};
use crate::domain::assignment::AssignmentTarget;
use crate::domain::directory::Directory;
use crate::domain::pseudonym::Pseudonyms;
use crate::domain::{SirenIsni, Uai};
use crate::store::directory::insert_directory;
use crate::store::{AnyConnection, catalogue, partners, subscriptions, write_transaction};

/// How big the académie is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScalePlan {
    pub ent_projects: usize,
    /// Copies of the demo's five schools in each project.
    pub copies_per_ent: usize,
}

impl ScalePlan {
    /// Persons in one copy of the demo's schools (the demo directory generates about 408).
    pub const PERSONS_PER_COPY: usize = 408;

    /// About `persons` persons over `ent_projects` projects (at least one copy each).
    pub fn for_persons(persons: usize, ent_projects: usize) -> Self {
        let ent_projects = ent_projects.max(1);
        let copies_per_ent = persons.div_ceil(Self::PERSONS_PER_COPY * ent_projects).max(1);
        Self { ent_projects, copies_per_ent }
    }
}

/// What one project's load wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaledEnt {
    pub ent_id: String,
    pub schools: usize,
    pub persons: usize,
    pub subscriptions: usize,
    pub seats: usize,
    pub seconds: f64,
}

/// Loads the académie into an empty database; `progress` hears about each project once written.
pub fn load_scaled(
    conn: &mut AnyConnection,
    plan: ScalePlan,
    pseudonyms: &Pseudonyms,
    progress: &mut dyn FnMut(&ScaledEnt),
) -> Result<Vec<ScaledEnt>, DemoError> {
    let fixtures = Fixtures::embedded()?;
    write_transaction(conn, |conn| {
        for distributor in &fixtures.sales.distributors {
            partners::insert_distributor(conn, distributor.id.as_str(), &distributor.name)?;
        }
        catalogue::insert_notices(conn, &fixtures.catalogue.resources)?;
        Ok::<_, DemoError>(())
    })?;
    let mut next_uai = 0u32;
    let mut loaded = Vec::with_capacity(plan.ent_projects);
    for index in 0..plan.ent_projects {
        let started = Instant::now();
        let ent_id = format!("B{index:02}");
        let (settings, copies) = copy_schools(&fixtures.settings, &ent_id, plan.copies_per_ent, &mut next_uai);
        let directory = generate(&settings, settings.seed).pop().expect("one directory per ENT project");
        let mut written =
            write_transaction(conn, |conn| write_ent(conn, &fixtures, &settings, &directory, &copies, pseudonyms))?;
        written.seconds = started.elapsed().as_secs_f64();
        progress(&written);
        loaded.push(written);
    }
    Ok(loaded)
}

/// The demo's schools of every project, `copies` times, for project `ent_id`; and for each copy,
/// the UAI each demo school became.
fn copy_schools(
    base: &Settings,
    ent_id: &str,
    copies: usize,
    next_uai: &mut u32,
) -> (Settings, Vec<HashMap<Uai, Uai>>) {
    let mut settings = base.clone();
    settings.ents = vec![EntSettings { id: ent_id.to_owned(), name: format!("ENT de charge {ent_id}") }];
    // The demo's shared teacher is replaced by one more teacher of the subject in each school.
    settings.shared_teachers.clear();
    settings.establishments.clear();
    let mut maps = Vec::with_capacity(copies);
    for copy in 0..copies {
        let map: HashMap<Uai, Uai> = base
            .establishments
            .iter()
            .map(|school| {
                *next_uai += 1;
                (school.uai.clone(), bench_uai(*next_uai))
            })
            .collect();
        for school in &base.establishments {
            let mut school = school.clone();
            school.uai = map[&school.uai].clone();
            school.ent = ent_id.to_owned();
            school.name = format!("{} n°{}", school.name, copy + 1);
            school.email = None;
            school.functional_attachment = school
                .functional_attachment
                .as_deref()
                .and_then(|a| Uai::parse(a).ok())
                .and_then(|a| map.get(&a))
                .map(|a| a.to_string());
            for subject in school.subjects.iter_mut().filter(|s| s.teachers == 0) {
                subject.teachers = 1;
            }
            settings.establishments.push(school);
        }
        maps.push(map);
    }
    (settings, maps)
}

/// `09nnnnn` and its check letter: a range the demo (`099…`) does not use.
fn bench_uai(n: u32) -> Uai {
    let digits = format!("09{n:05}");
    let draft = Uai::parse(&format!("{digits}A")).expect("seven digits and a letter");
    Uai::parse(&format!("{digits}{}", draft.expected_check_letter())).expect("seven digits and a letter")
}

fn write_ent(
    conn: &mut AnyConnection,
    fixtures: &Fixtures,
    settings: &Settings,
    directory: &Directory,
    copies: &[HashMap<Uai, Uai>],
    pseudonyms: &Pseudonyms,
) -> Result<ScaledEnt, DemoError> {
    let ent_id = &directory.ent_id;
    partners::insert_ent_project(conn, ent_id, &settings.ents[0].name)?;
    let counts = insert_directory(conn, directory)?;
    let mut ids: HashMap<(usize, &SirenIsni, &str), i64> = HashMap::new();
    for (copy, map) in copies.iter().enumerate() {
        for template in &fixtures.sales.subscriptions {
            let mut sub = template.clone();
            sub.id = format!("{}-{ent_id}-{copy}", template.id);
            sub.establishments = template.establishments.iter().filter_map(|uai| map.get(uai).cloned()).collect();
            let id = subscriptions::insert_subscription(conn, &sub)?;
            ids.insert((copy, &template.distributor_id, template.id.as_str()), id);
        }
    }
    let managers: HashMap<&Uai, &str> = directory
        .assignment_managers
        .iter()
        .flat_map(|m| m.establishments.iter().map(move |uai| (uai, m.gar_id.as_str())))
        .collect();
    let mut seats = 0;
    for (copy, map) in copies.iter().enumerate() {
        // Person targets name demo people, who have other ids here.
        for assignment in fixtures.assignments.iter().filter(|a| !matches!(a.target, AssignmentTarget::Person(_))) {
            let subscription = ids[&(copy, &assignment.distributor, assignment.subscription.as_str())];
            let uai = &map[&assignment.uai];
            let by = managers.get(uai).copied().unwrap_or("bench");
            let failed = |reason: LedgerError| DemoError::Assign {
                subscription: assignment.subscription.clone(),
                uai: uai.clone(),
                reason,
            };
            let author = Author::manager(ent_id, by, pseudonyms);
            let assigned = assignments::assign(conn, &author, uai, subscription, assignment.target.clone());
            seats += assigned.map_err(failed)?.changes.granted;
        }
    }
    Ok(ScaledEnt {
        ent_id: ent_id.clone(),
        schools: counts.establishments,
        persons: counts.persons,
        subscriptions: ids.len(),
        seats,
        seconds: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_and_uais() {
        assert_eq!(ScalePlan::for_persons(1_000_000, 20), ScalePlan { ent_projects: 20, copies_per_ent: 123 });
        assert_eq!(ScalePlan::for_persons(10, 2), ScalePlan { ent_projects: 2, copies_per_ent: 1 });
        let uai = bench_uai(12);
        assert_eq!(&uai.as_str()[..7], "0900012");
        assert!(uai.has_valid_check_letter());
    }

    #[test]
    fn copies_are_valid_settings() {
        let fixtures = Fixtures::embedded().unwrap();
        let mut next = 0;
        let (settings, maps) = copy_schools(&fixtures.settings, "B00", 3, &mut next);
        settings.validate().unwrap();
        assert_eq!(settings.establishments.len(), 15);
        assert_eq!(maps.len(), 3);
        assert_eq!(next, 15);
        let college = &settings.establishments[0];
        assert_eq!(college.functional_attachment.as_deref(), Some(settings.establishments[1].uai.as_str()));
    }
}
