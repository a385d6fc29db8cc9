//! Assignment managers (responsables d'affectation): GARRespAff.

use crate::domain::Uai;

/// GARRespAff: someone who assigns licences in the listed schools (often the head or the librarian,
/// also present as a GAREnseignant with the same identifier).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignmentManager {
    /// GARPersonIdentifiant.
    pub gar_id: String,
    /// GARPersonNom.
    pub last_name: String,
    /// GARPersonPrenom.
    pub first_name: String,
    /// GARPersonCivilite.
    pub civility: Option<String>,
    /// GARPersonMail (1..n).
    pub mails: Vec<String>,
    /// GARRespAffEtab (1..n): the schools where this person assigns.
    pub establishments: Vec<Uai>,
}
