//! A school as the national directory describes it: the columns of the GAR's `etablissements.xml`.

use super::Uai;

/// The national directory's columns, in the order `etablissements.xml` lists them (after `uai`,
/// before `idENT`). Also the header names `sesame schools import` reads.
pub const COLUMNS: [&str; 14] = [
    "nature_uai",
    "nature_uai_libe",
    "type_uai",
    "type_uai_libe",
    "commune",
    "commune_libe",
    "academie",
    "academie_libe",
    "departement_insee_3",
    "departement_insee_3_libe",
    "appellation_officielle",
    "patronyme_uai",
    "code_postal_uai",
    "localite_acheminement_uai",
];

/// National attributes of one school; each value may be absent, as in the GAR's own list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NationalSchool {
    pub uai: Uai,
    /// One value per [`COLUMNS`] entry, same order.
    pub values: [Option<String>; 14],
}

impl NationalSchool {
    /// The value of a column of [`COLUMNS`].
    pub fn get(&self, column: &str) -> Option<&str> {
        let index = COLUMNS.iter().position(|c| *c == column)?;
        self.values[index].as_deref()
    }

    /// `nature_uai`: the N_NATURE_UAI code that `codeNatureUAI` subscriptions select on.
    pub fn nature_code(&self) -> Option<&str> {
        self.values[0].as_deref()
    }
}
