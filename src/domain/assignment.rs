//! What an assignment (affectation) gives a subscription to, within one school.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Profile;

/// The population an assignment covers in its school. Serialized as `{kind, ref}` with the
/// `assignments.target_kind` values, e.g. `{"kind": "DIVISION", "ref": "6A"}`.
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
    /// Everyone holding a profile in the school (what an ETABL subscription is given to).
    #[serde(rename = "PROFILE")]
    Profile(Profile),
}

impl AssignmentTarget {
    /// The `assignments.target_kind` value.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Person(_) => "PERSON",
            Self::Division(_) => "DIVISION",
            Self::Group(_) => "GROUPE",
            Self::Profile(_) => "PROFILE",
        }
    }

    /// The `assignments.target_ref` value.
    pub fn reference(&self) -> &str {
        match self {
            Self::Person(id) => id,
            Self::Division(code) | Self::Group(code) => code,
            Self::Profile(profile) => profile.code(),
        }
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
            r#"[{"kind": "DIVISION", "ref": "6A"}, {"kind": "PROFILE", "ref": "National_ELV"}, {"kind": "PERSON", "ref": "u-1"}]"#,
        )
        .unwrap();
        assert_eq!(targets[0], AssignmentTarget::Division("6A".into()));
        assert_eq!((targets[1].kind(), targets[1].reference()), ("PROFILE", "National_elv"));
        assert_eq!(targets[2].to_string(), "PERSON u-1");
        assert!(serde_json::from_str::<AssignmentTarget>(r#"{"kind": "MEF", "ref": "x"}"#).is_err());
    }
}
