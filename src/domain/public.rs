//! Subscription publics (`publicCible`): who a subscription's licences are for.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A `publicCible` value of the abonnement web service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Public {
    /// `ELEVE`
    Pupil,
    /// `ENSEIGNANT`
    Teacher,
    /// `DOCUMENTALISTE` (never in first-degree schools, rule RG11)
    Librarian,
    /// `AUTRE PERSONNEL`
    OtherStaff,
}

/// A string that is not one of the four publics.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a public: expected ELEVE, ENSEIGNANT, DOCUMENTALISTE or AUTRE PERSONNEL")]
pub struct PublicError(pub String);

impl Public {
    pub const ALL: [Public; 4] = [Public::Pupil, Public::Teacher, Public::Librarian, Public::OtherStaff];

    /// The code as the GAR writes it.
    pub fn code(self) -> &'static str {
        match self {
            Public::Pupil => "ELEVE",
            Public::Teacher => "ENSEIGNANT",
            Public::Librarian => "DOCUMENTALISTE",
            Public::OtherStaff => "AUTRE PERSONNEL",
        }
    }

    /// Exact codes, surrounding spaces ignored.
    pub fn parse(text: &str) -> Result<Self, PublicError> {
        let trimmed = text.trim();
        Self::ALL.into_iter().find(|public| public.code() == trimmed).ok_or_else(|| PublicError(text.to_owned()))
    }
}

impl fmt::Display for Public {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Public {
    type Err = PublicError;

    fn from_str(text: &str) -> Result<Self, PublicError> {
        Self::parse(text)
    }
}

impl TryFrom<String> for Public {
    type Error = PublicError;

    fn try_from(text: String) -> Result<Self, PublicError> {
        Self::parse(&text)
    }
}

impl From<Public> for String {
    fn from(public: Public) -> String {
        public.code().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for public in Public::ALL {
            assert_eq!(Public::parse(public.code()), Ok(public));
        }
        assert_eq!(Public::parse(" AUTRE PERSONNEL "), Ok(Public::OtherStaff));
        assert!(Public::parse("AUTRE_PERSONNEL").is_err());
        assert!(Public::parse("GLOBAL").is_err());
    }
}
