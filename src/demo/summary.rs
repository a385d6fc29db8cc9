//! What `demo::load` wrote, as counts for the `sesame demo` banner.

use std::fmt;

use crate::domain::Profile;
use crate::domain::directory::{Degree, Directory, GroupStatus, PersonSource};
use crate::store::partners::CallerKind;

/// The loaded demo: who may call the mTLS listener, and how much was written.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    /// ENT project ids (idENT).
    pub ents: Vec<String>,
    /// Distributor ids (idDistributeurCom).
    pub distributors: Vec<String>,
    pub counts: Counts,
}

/// Rows written, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub ent_projects: usize,
    pub first_degree_schools: usize,
    pub second_degree_schools: usize,
    pub pupils: usize,
    pub teachers: usize,
    pub other_staff: usize,
    pub classes: usize,
    pub groups: usize,
    pub subjects: usize,
    pub mefs: usize,
    pub assignment_managers: usize,
    pub distributors: usize,
    pub publishers: usize,
    pub resources: usize,
    pub individual_subscriptions: usize,
    pub school_wide_subscriptions: usize,
    pub assignments: usize,
    pub seats: usize,
}

impl Counts {
    /// Adds what the generated directories hold.
    pub fn add_directories(&mut self, directories: &[Directory]) {
        for dir in directories {
            self.first_degree_schools += dir.establishments.iter().filter(|e| e.degree == Degree::First).count();
            self.second_degree_schools += dir.establishments.iter().filter(|e| e.degree == Degree::Second).count();
            for person in &dir.persons {
                match person.source {
                    PersonSource::Pupil => self.pupils += 1,
                    PersonSource::Staff if person.profiles.iter().any(|p| p.profile == Profile::Teacher) => {
                        self.teachers += 1
                    }
                    PersonSource::Staff => self.other_staff += 1,
                }
            }
            self.classes += dir.groups.iter().filter(|g| g.status == GroupStatus::Division).count();
            self.groups += dir.groups.iter().filter(|g| g.status == GroupStatus::Group).count();
            self.subjects += dir.subjects.len();
            self.mefs += dir.mefs.len();
            self.assignment_managers += dir.assignment_managers.len();
        }
    }

    pub fn schools(&self) -> usize {
        self.first_degree_schools + self.second_degree_schools
    }

    pub fn persons(&self) -> usize {
        self.pupils + self.teachers + self.other_staff
    }
}

impl Loaded {
    /// The partners that get a demo client certificate.
    pub fn callers(&self) -> Vec<(CallerKind, String)> {
        let ents = self.ents.iter().map(|id| (CallerKind::Ent, id.clone()));
        ents.chain(self.distributors.iter().map(|id| (CallerKind::Distributor, id.clone()))).collect()
    }
}

/// A two-column table: what, how many, and a breakdown where one helps.
impl fmt::Display for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.counts;
        let rows = [
            ("ENT projects", c.ent_projects, self.ents.join(", ")),
            (
                "establishments",
                c.schools(),
                format!("{} second degree, {} first degree", c.second_degree_schools, c.first_degree_schools),
            ),
            (
                "persons",
                c.persons(),
                format!("{} pupils, {} teachers, {} other staff", c.pupils, c.teachers, c.other_staff),
            ),
            ("classes", c.classes, String::new()),
            ("groups", c.groups, String::new()),
            ("subjects", c.subjects, String::new()),
            ("MEFs", c.mefs, String::new()),
            ("assignment managers", c.assignment_managers, String::new()),
            ("distributors", c.distributors, String::new()),
            ("publishers", c.publishers, String::new()),
            ("resources", c.resources, String::new()),
            (
                "subscriptions",
                c.individual_subscriptions + c.school_wide_subscriptions,
                format!("{} INDIV, {} ETABL", c.individual_subscriptions, c.school_wide_subscriptions),
            ),
            ("assignments", c.assignments, String::new()),
            ("seats", c.seats, String::new()),
        ];
        for (what, count, detail) in rows {
            let line = format!("  {what:<21}{count:>6}  {detail}");
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}
