//! GAR profiles (`GARPersonProfil`, SDET national profiles) and the subscription public each one counts as.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Public;

/// A national profile a person holds in one school.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Profile {
    /// `National_elv`: pupil.
    Pupil,
    /// `National_ens`: teacher.
    Teacher,
    /// `National_doc`: teacher-librarian (professeur documentaliste).
    Librarian,
    /// `National_dir`: head or deputy head of the school.
    Management,
    /// `National_evs`: education and school-life staff (CPE, assistants d'éducation, AESH…).
    SchoolLife,
    /// `National_eta`: administrative, technical and other school staff.
    SchoolStaff,
    /// `National_col`: staff of the local authority (collectivité).
    LocalAuthority,
}

/// A string that is not one of the seven profiles the GAR accepts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a GAR profile: expected National_elv, _ens, _doc, _dir, _evs, _eta or _col")]
pub struct ProfileError(pub String);

impl Profile {
    pub const ALL: [Profile; 7] = [
        Profile::Pupil,
        Profile::Teacher,
        Profile::Librarian,
        Profile::Management,
        Profile::SchoolLife,
        Profile::SchoolStaff,
        Profile::LocalAuthority,
    ];

    /// The canonical spelling, with the lower-case suffix the GAR itself emits (`National_elv`).
    pub fn code(self) -> &'static str {
        match self {
            Profile::Pupil => "National_elv",
            Profile::Teacher => "National_ens",
            Profile::Librarian => "National_doc",
            Profile::Management => "National_dir",
            Profile::SchoolLife => "National_evs",
            Profile::SchoolStaff => "National_eta",
            Profile::LocalAuthority => "National_col",
        }
    }

    /// The three-letter suffix, e.g. `elv`.
    pub fn suffix(self) -> &'static str {
        &self.code()["National_".len()..]
    }

    /// Case-insensitive: generators write `National_ENS` as well as `National_ens`.
    pub fn parse(text: &str) -> Result<Self, ProfileError> {
        let trimmed = text.trim();
        Self::ALL
            .into_iter()
            .find(|profile| profile.code().eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| ProfileError(text.to_owned()))
    }

    /// The subscription public whose licences this profile uses.
    pub fn public(self) -> Public {
        match self {
            Profile::Pupil => Public::Pupil,
            Profile::Teacher => Public::Teacher,
            Profile::Librarian => Public::Librarian,
            Profile::Management | Profile::SchoolLife | Profile::SchoolStaff | Profile::LocalAuthority => {
                Public::OtherStaff
            }
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Profile {
    type Err = ProfileError;

    fn from_str(text: &str) -> Result<Self, ProfileError> {
        Self::parse(text)
    }
}

impl TryFrom<String> for Profile {
    type Error = ProfileError;

    fn try_from(text: String) -> Result<Self, ProfileError> {
        Self::parse(&text)
    }
}

impl From<Profile> for String {
    fn from(profile: Profile) -> String {
        profile.code().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_case_and_displays_canonically() {
        assert_eq!(Profile::parse("National_ENS"), Ok(Profile::Teacher));
        assert_eq!(Profile::parse("national_elv"), Ok(Profile::Pupil));
        assert_eq!(Profile::parse(" National_Doc "), Ok(Profile::Librarian));
        assert_eq!(Profile::Teacher.to_string(), "National_ens");
        for profile in Profile::ALL {
            assert_eq!(Profile::parse(&profile.code().to_uppercase()), Ok(profile));
            assert_eq!(profile.suffix().len(), 3);
        }
    }

    #[test]
    fn rejects_profiles_the_gar_does_not_take() {
        // Parents and académie staff exist in the SDET but are not exported to the GAR.
        for other in ["National_TUT", "National_ACA", "National", "elv", ""] {
            assert!(Profile::parse(other).is_err(), "{other:?} accepted");
        }
    }

    #[test]
    fn maps_to_subscription_publics() {
        assert_eq!(Profile::Pupil.public(), Public::Pupil);
        assert_eq!(Profile::Teacher.public(), Public::Teacher);
        assert_eq!(Profile::Librarian.public(), Public::Librarian);
        for other in [Profile::Management, Profile::SchoolLife, Profile::SchoolStaff, Profile::LocalAuthority] {
            assert_eq!(other.public(), Public::OtherStaff);
        }
    }
}
