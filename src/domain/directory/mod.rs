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
}
