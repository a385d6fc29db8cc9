//! What may be sent to a publisher: the attribute names of the GAR (GAR-INTERFACES §4.3) and the
//! rule that picks, from an approved release contract, the attributes of one assertion.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An attribute Sesame can release, named as the GAR names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ReleaseAttribute {
    /// `IDO`: the per-publisher pseudonym.
    Ido,
    /// `UAI`: the school of the session.
    Uai,
    /// `PRO`: the national profile in that school.
    Pro,
    /// `NOM`: surname.
    Nom,
    /// `PRE`: first name.
    Pre,
    /// `CIV`: civility.
    Civ,
    /// `P_MEL`: staff e-mail.
    PMel,
    /// `DIV`: classes, `code##libellé`.
    Div,
    /// `GRO`: groups, `code##libellé`.
    Gro,
    /// `P_MS4`: MEFSTAT4 levels a teacher teaches.
    PMs4,
    /// `P_MAT`: subjects a teacher teaches.
    PMat,
    /// `P_MEF`: MEFs a teacher teaches.
    PMef,
    /// `E_MS`: a pupil's MEFSTAT4 level.
    EMs,
}

/// A name that is not one of the attributes Sesame releases.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a releasable attribute: expected one of IDO, UAI, PRO, NOM, PRE, CIV, P_MEL, DIV, GRO, P_MS4, P_MAT, P_MEF, E_MS"
)]
pub struct ReleaseAttributeError(pub String);

impl ReleaseAttribute {
    pub const ALL: [ReleaseAttribute; 13] = [
        ReleaseAttribute::Ido,
        ReleaseAttribute::Uai,
        ReleaseAttribute::Pro,
        ReleaseAttribute::Nom,
        ReleaseAttribute::Pre,
        ReleaseAttribute::Civ,
        ReleaseAttribute::PMel,
        ReleaseAttribute::Div,
        ReleaseAttribute::Gro,
        ReleaseAttribute::PMs4,
        ReleaseAttribute::PMat,
        ReleaseAttribute::PMef,
        ReleaseAttribute::EMs,
    ];

    /// Every resource receives these: without them a publisher cannot tell users or schools apart.
    pub const FLOOR: [ReleaseAttribute; 3] = [ReleaseAttribute::Ido, ReleaseAttribute::Uai, ReleaseAttribute::Pro];

    pub fn code(self) -> &'static str {
        match self {
            ReleaseAttribute::Ido => "IDO",
            ReleaseAttribute::Uai => "UAI",
            ReleaseAttribute::Pro => "PRO",
            ReleaseAttribute::Nom => "NOM",
            ReleaseAttribute::Pre => "PRE",
            ReleaseAttribute::Civ => "CIV",
            ReleaseAttribute::PMel => "P_MEL",
            ReleaseAttribute::Div => "DIV",
            ReleaseAttribute::Gro => "GRO",
            ReleaseAttribute::PMs4 => "P_MS4",
            ReleaseAttribute::PMat => "P_MAT",
            ReleaseAttribute::PMef => "P_MEF",
            ReleaseAttribute::EMs => "E_MS",
        }
    }

    /// Exact GAR names, surrounding spaces ignored.
    pub fn parse(text: &str) -> Result<Self, ReleaseAttributeError> {
        let trimmed = text.trim();
        Self::ALL.into_iter().find(|a| a.code() == trimmed).ok_or_else(|| ReleaseAttributeError(text.to_owned()))
    }

    /// The data category a register of processing lists for this attribute.
    pub fn category(self) -> &'static str {
        match self {
            ReleaseAttribute::Ido => "identifiant pseudonyme",
            ReleaseAttribute::Uai | ReleaseAttribute::Pro => "rattachement administratif",
            ReleaseAttribute::Nom | ReleaseAttribute::Pre | ReleaseAttribute::Civ => "identité",
            ReleaseAttribute::PMel => "coordonnées",
            _ => "vie scolaire",
        }
    }
}

impl fmt::Display for ReleaseAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for ReleaseAttribute {
    type Err = ReleaseAttributeError;

    fn from_str(text: &str) -> Result<Self, ReleaseAttributeError> {
        Self::parse(text)
    }
}

impl TryFrom<String> for ReleaseAttribute {
    type Error = ReleaseAttributeError;

    fn try_from(text: String) -> Result<Self, ReleaseAttributeError> {
        Self::parse(&text)
    }
}

impl From<ReleaseAttribute> for String {
    fn from(attribute: ReleaseAttribute) -> String {
        attribute.code().to_owned()
    }
}

/// An approved contract's attribute set, always holding the floor, sorted and without repeats.
pub fn contract_attributes(approved: &[ReleaseAttribute]) -> Vec<ReleaseAttribute> {
    let mut set: Vec<ReleaseAttribute> = ReleaseAttribute::FLOOR.iter().chain(approved).copied().collect();
    set.sort();
    set.dedup();
    set
}

/// The attributes of one assertion: the contract's, narrowed to what the service provider asks
/// for when its metadata lists requested attributes (the floor is always sent). Whatever the
/// metadata asks for beyond the contract is never sent.
pub fn attributes_to_release(contract: &[ReleaseAttribute], requested: &[String]) -> Vec<ReleaseAttribute> {
    let contract = contract_attributes(contract);
    if requested.is_empty() {
        return contract;
    }
    contract
        .into_iter()
        .filter(|a| ReleaseAttribute::FLOOR.contains(a) || requested.iter().any(|r| r.trim() == a.code()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReleaseAttribute::*;

    #[test]
    fn names_round_trip() {
        for a in ReleaseAttribute::ALL {
            assert_eq!(ReleaseAttribute::parse(a.code()), Ok(a));
        }
        assert!(ReleaseAttribute::parse("ido").is_err());
        assert!(ReleaseAttribute::parse("MAIL").is_err());
    }

    #[test]
    fn the_floor_is_always_in_a_contract() {
        assert_eq!(contract_attributes(&[]), vec![Ido, Uai, Pro]);
        assert_eq!(contract_attributes(&[Nom, Ido, Nom]), vec![Ido, Uai, Pro, Nom]);
    }

    #[test]
    fn nothing_beyond_the_contract_is_released() {
        let contract = [Nom, Pre, Div];
        // No requested attributes: the whole contract.
        assert_eq!(attributes_to_release(&contract, &[]), vec![Ido, Uai, Pro, Nom, Pre, Div]);
        // The SP asks for more than approved (P_MEL, a made-up one) and less (no PRE, DIV).
        let requested: Vec<String> = ["NOM", "P_MEL", "urn:oid:0.9.2342.19200300.100.1.3"].map(String::from).into();
        assert_eq!(attributes_to_release(&contract, &requested), vec![Ido, Uai, Pro, Nom]);
    }
}
