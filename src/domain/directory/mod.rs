//! Directory records of one ENT project, mirroring the GAR-ENT feed (GAR-ENT.xsd v1.7 for the second
//! degree, GAR-ENT-1D.xsd v1.4 for the first).
//!
//! Field names are English; each doc comment names the GAR element it carries. The records are what a
//! feed parser produces and what `store::directory` writes, so they hold no storage concern (no row
//! ids, no timestamps). Persons are referred to by `GARPersonIdentifiant` and groups by
//! `(GARStructureUAI, GARGroupeCode)`, as in the feed.

mod enrolment;
mod establishment;
mod group;
mod manager;
mod person;

pub use enrolment::{PersonMef, PersonMefStat4, PupilSubject};
pub use establishment::{Degree, DegreeError, Establishment, Mef, Subject};
pub use group::{Group, GroupStatus, PersonGroup, TeacherGroupSubject};
pub use manager::AssignmentManager;
pub use person::{Person, PersonSource, PostKind, ProfileAt, TeacherPosts};

use crate::domain::Uai;

/// Everything one ENT project declares, both degrees together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directory {
    /// The ENT project (idENT) the records belong to, e.g. `Z0`.
    pub ent_id: String,
    /// GAREtab (file GAR-ENT-Etab).
    pub establishments: Vec<Establishment>,
    /// GARMEF (GAR-ENT-Etab, second degree only).
    pub mefs: Vec<Mef>,
    /// GARMatiere (GAR-ENT-Etab, second degree only).
    pub subjects: Vec<Subject>,
    /// GAREleve and GAREnseignant (files GAR-ENT-Eleve and GAR-ENT-Enseignant).
    pub persons: Vec<Person>,
    /// GARPersonMEF (second degree), pupils and teachers.
    pub person_mefs: Vec<PersonMef>,
    /// GARPersonMEFSTAT4 (first degree), pupils and teachers.
    pub person_mefstat4: Vec<PersonMefStat4>,
    /// GAREleveEnseignement (second degree).
    pub pupil_subjects: Vec<PupilSubject>,
    /// GARGroupe (file GAR-ENT-Groupe).
    pub groups: Vec<Group>,
    /// GARPersonGroupe.
    pub person_groups: Vec<PersonGroup>,
    /// GAREnsClasseMatiere: a teacher's subjects in a division (second degree).
    pub class_subjects: Vec<TeacherGroupSubject>,
    /// GAREnsGroupeMatiere: a teacher's subjects in a non-division group (second degree).
    pub group_subjects: Vec<TeacherGroupSubject>,
    /// GARRespAff (file GAR-ENT-RespAff).
    pub assignment_managers: Vec<AssignmentManager>,
}

impl Directory {
    pub fn new(ent_id: impl Into<String>) -> Self {
        Self { ent_id: ent_id.into(), ..Self::default() }
    }

    /// The records of one degree's establishments: what one GAR-ENT export (1D or 2D) carries.
    /// A person working in schools of both degrees appears in each, with that degree's schools.
    pub fn of_degree(&self, degree: Degree) -> Directory {
        let schools: std::collections::HashSet<&Uai> =
            self.establishments.iter().filter(|e| e.degree == degree).map(|e| &e.uai).collect();
        let keep = |uai: &Uai| schools.contains(uai);
        let persons = self
            .persons
            .iter()
            .filter(|p| p.establishments.iter().any(keep))
            .map(|p| Person {
                profiles: p.profiles.iter().filter(|at| keep(&at.uai)).cloned().collect(),
                establishments: p.establishments.iter().filter(|u| keep(u)).cloned().collect(),
                teacher_posts: p.teacher_posts.iter().filter(|t| keep(&t.uai)).cloned().collect(),
                ..p.clone()
            })
            .collect();
        let managers = self
            .assignment_managers
            .iter()
            .filter(|m| m.establishments.iter().any(keep))
            .map(|m| AssignmentManager {
                establishments: m.establishments.iter().filter(|u| keep(u)).cloned().collect(),
                ..m.clone()
            })
            .collect();
        Directory {
            ent_id: self.ent_id.clone(),
            establishments: self.establishments.iter().filter(|e| e.degree == degree).cloned().collect(),
            mefs: self.mefs.iter().filter(|m| keep(&m.uai)).cloned().collect(),
            subjects: self.subjects.iter().filter(|s| keep(&s.uai)).cloned().collect(),
            persons,
            person_mefs: self.person_mefs.iter().filter(|m| keep(&m.uai)).cloned().collect(),
            person_mefstat4: self.person_mefstat4.iter().filter(|m| keep(&m.uai)).cloned().collect(),
            pupil_subjects: self.pupil_subjects.iter().filter(|s| keep(&s.uai)).cloned().collect(),
            groups: self.groups.iter().filter(|g| keep(&g.uai)).cloned().collect(),
            person_groups: self.person_groups.iter().filter(|m| keep(&m.uai)).cloned().collect(),
            class_subjects: self.class_subjects.iter().filter(|t| keep(&t.uai)).cloned().collect(),
            group_subjects: self.group_subjects.iter().filter(|t| keep(&t.uai)).cloned().collect(),
            assignment_managers: managers,
        }
    }
}
