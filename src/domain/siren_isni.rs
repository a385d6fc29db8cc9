//! SIREN_ISNI: how the GAR names a company (publisher, distributor): 9-digit SIREN, `_`, 16-digit ISNI.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A company id such as `514843077_0000000000000000` (ISNI all zeros when the company has none).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SirenIsni(String);

/// A string that is not `^[0-9]{9}_[0-9]{16}$`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a SIREN_ISNI id: expected 9 digits, `_`, 16 digits")]
pub struct SirenIsniError(pub String);

impl SirenIsni {
    pub fn parse(text: &str) -> Result<Self, SirenIsniError> {
        let shape_ok = match text.split_once('_') {
            Some((siren, isni)) => {
                siren.len() == 9
                    && isni.len() == 16
                    && siren.bytes().all(|b| b.is_ascii_digit())
                    && isni.bytes().all(|b| b.is_ascii_digit())
            }
            None => false,
        };
        if shape_ok { Ok(Self(text.to_owned())) } else { Err(SirenIsniError(text.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SirenIsni {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for SirenIsni {
    type Error = SirenIsniError;

    fn try_from(text: String) -> Result<Self, SirenIsniError> {
        Self::parse(&text)
    }
}

impl From<SirenIsni> for String {
    fn from(id: SirenIsni) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_gar_shape_only() {
        assert!(SirenIsni::parse("514843077_0000000000000000").is_ok());
        for bad in
            ["", "514843077", "51484307_0000000000000000", "514843077-0000000000000000", "514843077_000000000000000a"]
        {
            assert!(SirenIsni::parse(bad).is_err(), "{bad:?} accepted");
        }
        // A real search fixture carries a 6-digit SIREN; the GAR rejects it (RG3) and so do we.
        assert!(SirenIsni::parse("000000_0000000000000000").is_err());
    }
}
