//! Classes and teaching groups: GARGroupe, GARPersonGroupe, GAREnsClasseMatiere, GAREnsGroupeMatiere.

use crate::domain::Uai;

/// GARGroupeStatut.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupStatus {
    /// `DIVISION`: a class.
    Division,
    /// `GROUPE`: any other group (language group, option…), drawn from one or more divisions.
    Group,
}

impl GroupStatus {
    /// The GAR and `school_groups.status` value.
    pub fn code(self) -> &'static str {
        match self {
            GroupStatus::Division => "DIVISION",
            GroupStatus::Group => "GROUPE",
        }
    }
}

/// GARGroupe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// GARGroupeCode, as in the source directory; unique within its school.
    pub code: String,
    /// GARStructureUAI.
    pub uai: Uai,
    /// GARGroupeLibelle.
    pub label: String,
    /// GARGroupeStatut.
    pub status: GroupStatus,
    /// GARGroupeDivAppartenance (0..n): the divisions a GROUPE draws from.
    pub divisions: Vec<String>,
}

/// GARPersonGroupe: a person (pupil or teacher) belongs to a group of a school.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonGroup {
    /// GARStructureUAI.
    pub uai: Uai,
    /// GARPersonIdentifiant.
    pub gar_id: String,
    /// GARGroupeCode.
    pub group_code: String,
}

/// GAREnsClasseMatiere (the group is a division) or GAREnsGroupeMatiere (any other group):
/// what a teacher teaches to a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeacherGroupSubject {
    /// GARStructureUAI.
    pub uai: Uai,
    /// GARPersonIdentifiant.
    pub gar_id: String,
    /// GARGroupeCode.
    pub group_code: String,
    /// GARMatiereCode (1..n).
    pub subject_codes: Vec<String>,
}
