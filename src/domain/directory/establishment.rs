//! Schools and their reference lists: GAREtab, GARMEF, GARMatiere.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::Uai;

/// Which schema a school is fed with: first degree (écoles, GAR-ENT-1D) or second (collèges, lycées).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum Degree {
    First,
    Second,
}

/// A degree other than 1 or 2.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not a school degree: expected 1 (écoles) or 2 (collèges, lycées)")]
pub struct DegreeError(pub i64);

impl Degree {
    /// 1 or 2, as stored in `establishments.degree`.
    pub fn number(self) -> u8 {
        match self {
            Degree::First => 1,
            Degree::Second => 2,
        }
    }
}

impl TryFrom<u8> for Degree {
    type Error = DegreeError;

    fn try_from(n: u8) -> Result<Self, DegreeError> {
        match n {
            1 => Ok(Degree::First),
            2 => Ok(Degree::Second),
            other => Err(DegreeError(other.into())),
        }
    }
}

impl TryFrom<i32> for Degree {
    type Error = DegreeError;

    fn try_from(n: i32) -> Result<Self, DegreeError> {
        u8::try_from(n).map_err(|_| DegreeError(n.into())).and_then(Degree::try_from)
    }
}

impl From<Degree> for u8 {
    fn from(degree: Degree) -> u8 {
        degree.number()
    }
}

impl fmt::Display for Degree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// GAREtab: a school of the ENT project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Establishment {
    /// GARStructureUAI.
    pub uai: Uai,
    /// Not an element: which schema (file set) the GAREtab came in.
    pub degree: Degree,
    /// GARStructureNomCourant.
    pub name: String,
    /// GAREtablissementStructRattachFctl: seat of the cité scolaire (second degree only).
    pub functional_attachment: Option<String>,
    /// GARStructureContrat, as in the source directory (e.g. `PU`, `PR`).
    pub contract: Option<String>,
    /// GARStructureTelephone.
    pub phone: Option<String>,
    /// GARStructureEmail.
    pub email: Option<String>,
}

/// GARMEF: a "module élémentaire de formation" (class level and track) taught in a school.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mef {
    /// GARStructureUAI.
    pub uai: Uai,
    /// GARMEFCode (11 characters in the source directories).
    pub code: String,
    /// GARMEFLibelle.
    pub label: String,
    /// GARMEFRattach: the MEF this one is attached to.
    pub attachment: Option<String>,
    /// GARMEFSTAT11.
    pub stat11: Option<String>,
}

/// GARMatiere: a subject taught in a school.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    /// GARStructureUAI.
    pub uai: Uai,
    /// GARMatiereCode.
    pub code: String,
    /// GARMatiereLibelle.
    pub label: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degree_numbers() {
        assert_eq!(Degree::try_from(1u8), Ok(Degree::First));
        assert_eq!(Degree::try_from(2i32), Ok(Degree::Second));
        assert!(Degree::try_from(3u8).is_err());
        assert!(Degree::try_from(-1i32).is_err());
        assert_eq!(Degree::Second.to_string(), "2");
    }
}
