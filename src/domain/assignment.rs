//! What an assignment (affectation) gives a subscription to, within one school.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Profile;

/// Longest code or identifier a target names (GARGroupeCode and GARMatiereCode allow 255).
const MAX_REF_LEN: usize = 255;

/// The population an assignment covers in its school. Serialized as `{kind, ref}` with the
/// `assignments.target_kind` values, e.g. `{"kind": "DIVISION", "ref": "6A"}` or
/// `{"kind": "DIVISIONS", "ref": ["1G1", "TG1"]}`.
///
/// Every kind but `PERSON` is a live collection: its members are read from the directory each time
/// the ledger is brought up to date, so people joining or leaving follow the directory feed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "ref", deny_unknown_fields)]
pub enum AssignmentTarget {
    /// One person, by GARPersonIdentifiant.
    #[serde(rename = "PERSON")]
    Person(String),
    /// The members of a class, by GARGroupeCode.
    #[serde(rename = "DIVISION")]
    Division(String),
    /// The members of a non-division group, by GARGroupeCode.
    #[serde(rename = "GROUPE")]
    Group(String),
    /// The members of several classes, e.g. every "première" class.
    #[serde(rename = "DIVISIONS")]
    Divisions(Vec<String>),
    /// The pupils of a level: a MEF code (second degree) or a MEFSTAT4 code (first degree).
    #[serde(rename = "MEF")]
    Mef(String),
    /// The teachers who teach a subject (GARMatiereCode) to a class or group of the school.
    #[serde(rename = "SUBJECT_TEACHERS")]
    SubjectTeachers(String),
    /// Everyone holding a profile in the school.
    #[serde(rename = "PROFILE")]
    Profile(Profile),
}

/// A target that cannot name a population.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("target kind `{0}` is not PERSON, DIVISION, GROUPE, DIVISIONS, MEF, SUBJECT_TEACHERS or PROFILE")]
    Kind(String),
    #[error("a {0} target needs a non-empty reference of at most 255 characters")]
    Reference(&'static str),
    #[error("a DIVISIONS target needs a JSON list of class codes")]
    DivisionList,
    #[error(transparent)]
    Profile(#[from] super::profile::ProfileError),
}

impl AssignmentTarget {
    /// The `assignments.target_kind` value.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Person(_) => "PERSON",
            Self::Division(_) => "DIVISION",
            Self::Group(_) => "GROUPE",
            Self::Divisions(_) => "DIVISIONS",
            Self::Mef(_) => "MEF",
            Self::SubjectTeachers(_) => "SUBJECT_TEACHERS",
            Self::Profile(_) => "PROFILE",
        }
    }

    /// The `assignments.target_ref` value: the code or identifier, a JSON list for `DIVISIONS`.
    pub fn reference(&self) -> String {
        match self {
            Self::Person(code)
            | Self::Division(code)
            | Self::Group(code)
            | Self::Mef(code)
            | Self::SubjectTeachers(code) => code.clone(),
            Self::Divisions(codes) => serde_json::to_string(codes).expect("a list of strings always serializes"),
            Self::Profile(profile) => profile.code().to_owned(),
        }
    }

    /// Reads back what `kind` and `reference` stored.
    pub fn from_stored(kind: &str, reference: &str) -> Result<Self, TargetError> {
        let target = match kind {
            "PERSON" => Self::Person(reference.to_owned()),
            "DIVISION" => Self::Division(reference.to_owned()),
            "GROUPE" => Self::Group(reference.to_owned()),
            "DIVISIONS" => Self::Divisions(serde_json::from_str(reference).map_err(|_| TargetError::DivisionList)?),
            "MEF" => Self::Mef(reference.to_owned()),
            "SUBJECT_TEACHERS" => Self::SubjectTeachers(reference.to_owned()),
            "PROFILE" => Self::Profile(Profile::parse(reference)?),
            other => return Err(TargetError::Kind(other.to_owned())),
        };
        target.normalized()
    }

    /// The same population in one canonical spelling, so that equal targets compare equal:
    /// trimmed references, and `DIVISIONS` sorted without repeats (one class is a `DIVISION`).
    pub fn normalized(self) -> Result<Self, TargetError> {
        let check = |code: String, kind: &'static str| {
            let code = code.trim().to_owned();
            if code.is_empty() || code.len() > MAX_REF_LEN { Err(TargetError::Reference(kind)) } else { Ok(code) }
        };
        Ok(match self {
            Self::Person(code) => Self::Person(check(code, "PERSON")?),
            Self::Division(code) => Self::Division(check(code, "DIVISION")?),
            Self::Group(code) => Self::Group(check(code, "GROUPE")?),
            Self::Mef(code) => Self::Mef(check(code, "MEF")?),
            Self::SubjectTeachers(code) => Self::SubjectTeachers(check(code, "SUBJECT_TEACHERS")?),
            Self::Divisions(codes) => {
                let mut codes =
                    codes.into_iter().map(|code| check(code, "DIVISIONS")).collect::<Result<Vec<_>, _>>()?;
                codes.sort();
                codes.dedup();
                match codes.len() {
                    0 => return Err(TargetError::Reference("DIVISIONS")),
                    1 => Self::Division(codes.remove(0)),
                    _ => Self::Divisions(codes),
                }
            }
            profile @ Self::Profile(_) => profile,
        })
    }

    /// Whether members come and go with the directory (every kind but `PERSON`).
    pub fn is_collection(&self) -> bool {
        !matches!(self, Self::Person(_))
    }
}

impl fmt::Display for AssignmentTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.reference())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_references() {
        let targets: Vec<AssignmentTarget> = serde_json::from_str(
            r#"[{"kind": "DIVISION", "ref": "6A"}, {"kind": "PROFILE", "ref": "National_ELV"}, {"kind": "PERSON", "ref": "u-1"},
                {"kind": "DIVISIONS", "ref": ["TG1", "1G1"]}, {"kind": "MEF", "ref": "10010012110"},
                {"kind": "SUBJECT_TEACHERS", "ref": "061300"}]"#,
        )
        .unwrap();
        assert_eq!(targets[0], AssignmentTarget::Division("6A".into()));
        assert_eq!((targets[1].kind(), targets[1].reference().as_str()), ("PROFILE", "National_elv"));
        assert_eq!(targets[2].to_string(), "PERSON u-1");
        assert!(!targets[2].is_collection() && targets[0].is_collection());
        assert!(serde_json::from_str::<AssignmentTarget>(r#"{"kind": "CLASS", "ref": "x"}"#).is_err());
        for target in targets {
            let target = target.normalized().unwrap();
            assert_eq!(AssignmentTarget::from_stored(target.kind(), &target.reference()), Ok(target));
        }
    }

    #[test]
    fn normalizes_to_one_spelling() {
        let divisions = AssignmentTarget::Divisions(vec!["TG1".into(), " 1G1".into(), "TG1".into()]);
        assert_eq!(divisions.normalized(), Ok(AssignmentTarget::Divisions(vec!["1G1".into(), "TG1".into()])));
        let one = AssignmentTarget::Divisions(vec!["6A".into(), "6A".into()]);
        assert_eq!(one.normalized(), Ok(AssignmentTarget::Division("6A".into())));
        assert!(AssignmentTarget::Divisions(vec![]).normalized().is_err());
        assert!(AssignmentTarget::Person("  ".into()).normalized().is_err());
        assert!(AssignmentTarget::Group("x".repeat(256)).normalized().is_err());
        assert!(AssignmentTarget::from_stored("DIVISIONS", "6A").is_err());
        assert!(AssignmentTarget::from_stored("NOPE", "6A").is_err());
    }
}
