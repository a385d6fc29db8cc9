//! UAI (Unité Administrative Immatriculée, formerly "code RNE"): the national identifier of a school.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The 23 check letters: the alphabet without I, O and Q, which read like digits.
const CHECK_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

/// A school's UAI: seven digits then an upper-case letter, e.g. `0561641E`.
///
/// [`Uai::parse`] checks the shape only. Feeds and partner test platforms carry UAIs whose letter
/// does not match the digits, and refusing them would drop real records; callers that want the
/// stricter rule ask [`Uai::has_valid_check_letter`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uai(String);

/// A string that does not have the shape of a UAI.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a UAI: expected 7 digits and a letter, e.g. 0561641E")]
pub struct UaiError(pub String);

impl Uai {
    /// Accepts 7 ASCII digits and one ASCII letter (surrounding spaces ignored); upper-cases the letter.
    pub fn parse(text: &str) -> Result<Self, UaiError> {
        let trimmed = text.trim();
        let bytes = trimmed.as_bytes();
        match bytes {
            [digits @ .., letter]
                if digits.len() == 7 && digits.iter().all(u8::is_ascii_digit) && letter.is_ascii_alphabetic() =>
            {
                Ok(Self(trimmed.to_ascii_uppercase()))
            }
            _ => Err(UaiError(text.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The numeric value of the seven digits.
    fn number(&self) -> u32 {
        // Seven ASCII digits, checked by `parse`, always fit in a u32.
        self.0.bytes().take(7).fold(0, |n, digit| n * 10 + u32::from(digit - b'0'))
    }

    /// The letter the seven digits call for.
    pub fn expected_check_letter(&self) -> char {
        check_letter(self.number())
    }

    /// Whether the last letter is the check letter of the digits.
    pub fn has_valid_check_letter(&self) -> bool {
        self.0.ends_with(self.expected_check_letter())
    }
}

/// The UAI check letter of a seven-digit number: the number modulo 23 indexes the 23-letter alphabet.
pub fn check_letter(number: u32) -> char {
    char::from(CHECK_LETTERS[(number % 23) as usize])
}

impl fmt::Display for Uai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Uai {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for Uai {
    type Err = UaiError;

    fn from_str(text: &str) -> Result<Self, UaiError> {
        Self::parse(text)
    }
}

impl TryFrom<String> for Uai {
    type Error = UaiError;

    fn try_from(text: String) -> Result<Self, UaiError> {
        Self::parse(&text)
    }
}

impl From<Uai> for String {
    fn from(uai: Uai) -> String {
        uai.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_upper_cases() {
        assert_eq!(Uai::parse("0561641e").unwrap().as_str(), "0561641E");
        assert_eq!(Uai::parse(" 0561641E ").unwrap().as_str(), "0561641E");
    }

    #[test]
    fn rejects_other_shapes() {
        for bad in ["", "056164E", "05616411E", "0561641", "056164AE", "0650499P-ET6", "0561641É", "O561641E"] {
            assert!(Uai::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn check_letter_of_known_schools() {
        // Real schools from GAR-INTERFACES.md and the real-samples schools list.
        for real in ["0561641E", "0561622J", "0941295X", "0014799L", "0014929C"] {
            let uai = Uai::parse(real).unwrap();
            assert!(uai.has_valid_check_letter(), "{real}: expected {}", uai.expected_check_letter());
        }
    }

    #[test]
    fn wrong_check_letter_still_parses() {
        let uai = Uai::parse("0561641F").unwrap();
        assert!(!uai.has_valid_check_letter());
        assert_eq!(uai.expected_check_letter(), 'E');
        // A test UAI from a médiacentre mock (GIP-RECIA), and a real one carrying an O.
        for test_uai in ["0377777U", "0010048O"] {
            assert!(!Uai::parse(test_uai).unwrap().has_valid_check_letter());
        }
    }

    #[test]
    fn alphabet_skips_i_o_q() {
        let letters: String = (0..23).map(check_letter).collect();
        assert_eq!(letters, "ABCDEFGHJKLMNPRSTUVWXYZ");
        assert_eq!(check_letter(23), 'A');
        assert_eq!(check_letter(9_999_999), check_letter(9_999_999 % 23));
    }

    #[test]
    fn serde_round_trip_validates() {
        let uai: Uai = serde_json::from_str("\"0990001n\"").unwrap();
        assert_eq!(serde_json::to_string(&uai).unwrap(), "\"0990001N\"");
        assert!(serde_json::from_str::<Uai>("\"nope\"").is_err());
    }
}
