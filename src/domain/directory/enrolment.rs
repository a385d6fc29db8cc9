//! What pupils follow and teachers teach: GARPersonMEF, GARPersonMEFSTAT4, GAREleveEnseignement.

use crate::domain::Uai;

/// GARPersonMEF (second degree): a MEF followed by a pupil or taught by a teacher in a school.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonMef {
    /// GARStructureUAI.
    pub uai: Uai,
    /// GARPersonIdentifiant.
    pub gar_id: String,
    /// GARMEFCode.
    pub mef_code: String,
}

/// GARPersonMEFSTAT4 (first degree): a level (e.g. CP) followed or taught in a school.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonMefStat4 {
    /// GARStructureUAI.
    pub uai: Uai,
    /// GARPersonIdentifiant.
    pub gar_id: String,
    /// GARMEFSTAT4Code (at most 4 characters).
    pub code: String,
}

/// GAREleveEnseignement (second degree): a subject a pupil follows (compulsory, optional or speciality).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PupilSubject {
    /// GARStructureUAI.
    pub uai: Uai,
    /// GARPersonIdentifiant.
    pub gar_id: String,
    /// GARMatiereCode.
    pub subject_code: String,
}
