//! Licence counts of a subscription (`nbLicence…`): a number, or `ILLIMITE`.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::Public;

/// How the abonnement web service writes an unlimited count.
pub const UNLIMITED_TEXT: &str = "ILLIMITE";

/// How the database stores an unlimited count in the `licences_*` BIGINT columns (NULL = absent).
pub const UNLIMITED_DB: i64 = -1;

/// The number of licences for one public (or for all of them, `nbLicenceGlobale`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LicenceCount {
    Limited(u32),
    Unlimited,
}

/// A licence count that is neither a non-negative integer nor `ILLIMITE`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LicenceCountError {
    #[error("`{0}` is not a licence count: expected a non-negative integer or ILLIMITE")]
    Text(String),
    #[error("{0} is not a stored licence count: expected -1 (unlimited) or 0..=4294967295")]
    Stored(i64),
}

impl LicenceCount {
    /// Parses the abonnement text: `ILLIMITE` or a non-negative integer, surrounding spaces ignored.
    pub fn parse(text: &str) -> Result<Self, LicenceCountError> {
        let trimmed = text.trim();
        if trimmed == UNLIMITED_TEXT {
            return Ok(Self::Unlimited);
        }
        // `u32::from_str` accepts a leading `+`; the GAR's counts are plain digits.
        if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(LicenceCountError::Text(text.to_owned()));
        }
        trimmed.parse().map(Self::Limited).map_err(|_| LicenceCountError::Text(text.to_owned()))
    }

    /// The value of the `licences_*` columns.
    pub fn to_db(self) -> i64 {
        match self {
            Self::Limited(n) => i64::from(n),
            Self::Unlimited => UNLIMITED_DB,
        }
    }

    pub fn from_db(value: i64) -> Result<Self, LicenceCountError> {
        match value {
            UNLIMITED_DB => Ok(Self::Unlimited),
            n => u32::try_from(n).map(Self::Limited).map_err(|_| LicenceCountError::Stored(value)),
        }
    }

    /// The `licence_pools.total` value: NULL (None) when unlimited.
    pub fn pool_total(self) -> Option<i64> {
        match self {
            Self::Limited(n) => Some(i64::from(n)),
            Self::Unlimited => None,
        }
    }
}

impl fmt::Display for LicenceCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Limited(n) => write!(f, "{n}"),
            Self::Unlimited => f.write_str(UNLIMITED_TEXT),
        }
    }
}

/// Written as the abonnement text (`"12"`, `"ILLIMITE"`).
impl Serialize for LicenceCount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Read from the abonnement text, or from a JSON/TOML integer.
impl<'de> Deserialize<'de> for LicenceCount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CountVisitor;

        impl Visitor<'_> for CountVisitor {
            type Value = LicenceCount;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer or \"ILLIMITE\"")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<LicenceCount, E> {
                LicenceCount::parse(text).map_err(E::custom)
            }

            fn visit_u64<E: de::Error>(self, n: u64) -> Result<LicenceCount, E> {
                u32::try_from(n).map(LicenceCount::Limited).map_err(|_| E::custom(format!("{n} licences is too many")))
            }

            fn visit_i64<E: de::Error>(self, n: i64) -> Result<LicenceCount, E> {
                u64::try_from(n).map_err(|_| E::custom(format!("{n} is negative"))).and_then(|n| self.visit_u64(n))
            }
        }

        deserializer.deserialize_any(CountVisitor)
    }
}

/// Which counter of a school a seat is taken from: one public's, or the global one (`nbLicenceGlobale`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PoolPublic {
    Global,
    Public(Public),
}

impl PoolPublic {
    /// The `licence_pools.public` value.
    pub fn code(self) -> &'static str {
        match self {
            Self::Global => "GLOBAL",
            Self::Public(public) => public.code(),
        }
    }

    /// Reads a `licence_pools.public` value back.
    pub fn parse(code: &str) -> Option<Self> {
        if code == "GLOBAL" { Some(Self::Global) } else { Public::parse(code).ok().map(Self::Public) }
    }
}

/// Written as its `licence_pools.public` code (`"GLOBAL"`, `"ELEVE"`…).
impl Serialize for PoolPublic {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl fmt::Display for PoolPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_abonnement_text() {
        assert_eq!(LicenceCount::parse("ILLIMITE"), Ok(LicenceCount::Unlimited));
        assert_eq!(LicenceCount::parse(" 30 "), Ok(LicenceCount::Limited(30)));
        assert_eq!(LicenceCount::parse("0"), Ok(LicenceCount::Limited(0)));
        for bad in ["", "-1", "+3", "illimite", "ILLIMITÉ", "1.5", "4294967296"] {
            assert!(LicenceCount::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn database_encoding_round_trips() {
        for count in [LicenceCount::Unlimited, LicenceCount::Limited(0), LicenceCount::Limited(u32::MAX)] {
            assert_eq!(LicenceCount::from_db(count.to_db()), Ok(count));
        }
        assert_eq!(LicenceCount::Unlimited.to_db(), -1);
        assert!(LicenceCount::from_db(-2).is_err());
        assert!(LicenceCount::from_db(i64::from(u32::MAX) + 1).is_err());
        assert_eq!(LicenceCount::Unlimited.pool_total(), None);
        assert_eq!(LicenceCount::Limited(7).pool_total(), Some(7));
    }

    #[test]
    fn serde_takes_text_or_integers() {
        let counts: Vec<LicenceCount> = serde_json::from_str(r#"["ILLIMITE", "12", 40]"#).unwrap();
        assert_eq!(counts, [LicenceCount::Unlimited, LicenceCount::Limited(12), LicenceCount::Limited(40)]);
        assert_eq!(serde_json::to_string(&counts).unwrap(), r#"["ILLIMITE","12","40"]"#);
        assert!(serde_json::from_str::<LicenceCount>("-3").is_err());
    }

    #[test]
    fn pool_codes() {
        assert_eq!(PoolPublic::Global.code(), "GLOBAL");
        assert_eq!(PoolPublic::Public(Public::OtherStaff).code(), "AUTRE PERSONNEL");
        assert_eq!(PoolPublic::parse("GLOBAL"), Some(PoolPublic::Global));
        assert_eq!(PoolPublic::parse("ELEVE"), Some(PoolPublic::Public(Public::Pupil)));
        assert_eq!(PoolPublic::parse("ALL"), None);
    }
}
