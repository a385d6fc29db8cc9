//! Subscriptions as the abonnement web service describes them (`<abonnement>`, GAR-INTERFACES §2.3).

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use serde::{Deserialize, Serialize};

use super::licence::PoolPublic;
use super::{LicenceCount, Public, SirenIsni, Uai};

/// `typeAffectation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AssignmentType {
    /// `INDIV`: each user takes one licence.
    #[serde(rename = "INDIV")]
    Individual,
    /// `ETABL`: the whole school (or one of its publics) gets the resource, no counting per user.
    #[serde(rename = "ETABL")]
    Establishment,
}

impl AssignmentType {
    /// The GAR and `subscriptions.assignment_type` value.
    pub fn code(self) -> &'static str {
        match self {
            AssignmentType::Individual => "INDIV",
            AssignmentType::Establishment => "ETABL",
        }
    }
}

/// The only `categorieAffectation` the GAR accepts (RG4).
pub const TRANSFERABLE: &str = "transferable";

/// One `<abonnement>`: what a distributor sold to which schools, for whom, until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    /// idAbonnement: chosen by the distributor, unique among its live subscriptions.
    #[serde(rename = "idAbonnement")]
    pub id: String,
    #[serde(rename = "commentaireAbonnement", default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(rename = "idDistributeurCom")]
    pub distributor_id: SirenIsni,
    #[serde(rename = "idRessource")]
    pub resource_id: String,
    /// typeIdRessource: `ark`.
    #[serde(rename = "typeIdRessource")]
    pub resource_id_type: String,
    #[serde(rename = "libelleRessource")]
    pub resource_label: String,
    #[serde(rename = "debutValidite", with = "gar_datetime")]
    pub valid_from: NaiveDateTime,
    #[serde(rename = "finValidite", default, with = "gar_datetime_opt", skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDateTime>,
    /// anneeFinValidite: a school year `YYYY-YYYY`, instead of `finValidite`.
    #[serde(rename = "anneeFinValidite", default, skip_serializing_if = "Option::is_none")]
    pub end_school_year: Option<String>,
    #[serde(rename = "uaiEtab", default, skip_serializing_if = "Vec::is_empty")]
    pub establishments: Vec<Uai>,
    /// codeNatureUAI: comma-separated school natures, instead of `uaiEtab`.
    #[serde(rename = "codeNatureUAI", default, skip_serializing_if = "Option::is_none")]
    pub nature_codes: Option<String>,
    #[serde(rename = "categorieAffectation")]
    pub category: String,
    #[serde(rename = "typeAffectation")]
    pub assignment_type: AssignmentType,
    #[serde(rename = "nbLicenceEnseignant", default, skip_serializing_if = "Option::is_none")]
    pub licences_teacher: Option<LicenceCount>,
    #[serde(rename = "nbLicenceEleve", default, skip_serializing_if = "Option::is_none")]
    pub licences_pupil: Option<LicenceCount>,
    #[serde(rename = "nbLicenceProfDoc", default, skip_serializing_if = "Option::is_none")]
    pub licences_librarian: Option<LicenceCount>,
    #[serde(rename = "nbLicenceAutrePersonnel", default, skip_serializing_if = "Option::is_none")]
    pub licences_other_staff: Option<LicenceCount>,
    #[serde(rename = "nbLicenceGlobale", default, skip_serializing_if = "Option::is_none")]
    pub licences_global: Option<LicenceCount>,
    #[serde(rename = "publicCible")]
    pub publics: Vec<Public>,
    #[serde(rename = "codeProjetRessource", default, skip_serializing_if = "Option::is_none")]
    pub project_code: Option<String>,
}

/// Which rule of the abonnement web service a subscription breaks: RG1–RG13 (GAR-INTERFACES §2.3),
/// or `SCHEMA` for the shape of a field (required, length, format).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// A numbered GAR rule, 1 to 13.
    Rg(u8),
    /// A field is missing, too long or not in its format.
    Schema,
}

impl Rule {
    /// `RG5`, `SCHEMA`: what the error body's `<regle>` holds.
    pub fn code(self) -> String {
        match self {
            Rule::Rg(n) => format!("RG{n}"),
            Rule::Schema => "SCHEMA".to_owned(),
        }
    }
}

/// Longest `idAbonnement` (and other text fields, below) the GAR accepts.
pub const MAX_ID: usize = 45;
const MAX_COMMENT: usize = 255;
const MAX_RESOURCE_ID: usize = 1024;
const MAX_RESOURCE_ID_TYPE: usize = 50;
const MAX_RESOURCE_LABEL: usize = 255;
const MAX_CATEGORY: usize = 45;
const MAX_PROJECT_CODE: usize = 50;
const MAX_NATURE_CODES: usize = 255;
/// Counts are at most eight digits long (the GAR's form limits them so).
const MAX_COUNT: u32 = 99_999_999;
/// RG7, RG8: a subscription lasts at most ten school years.
const MAX_YEARS: i32 = 10;

/// Characters an `idAbonnement` may hold: it travels as a URL path segment, so only those a segment
/// carries without escaping (RFC 3986 `pchar` less `%`).
fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:@!$&'()*+,;=".contains(c)
}

/// A subscription that breaks a rule. Each error names its rule and the field at fault; `Display` is
/// the English message and [`SubscriptionError::french`] the French one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    #[error("{field} is required")]
    Missing { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field}: `{value}` is not valid: {expected}")]
    Invalid { field: &'static str, value: String, expected: &'static str },
    #[error("publicCible `{0}` is given twice")]
    RepeatedPublic(Public),
    #[error("uaiEtab `{0}` is given twice")]
    RepeatedSchool(Uai),
    #[error("give either nbLicenceGlobale or at least one non-zero per-public count, not both nor neither")]
    Counts,
    #[error("give either uaiEtab or codeNatureUAI, not both nor neither")]
    Schools,
    #[error("idDistributeurCom `{0}` is not a SIREN_ISNI id (9 digits, `_`, 16 digits)")]
    Distributor(String),
    #[error("categorieAffectation `{0}` is not allowed: the only value is `transferable`")]
    Category(String),
    #[error("typeAffectation `{0}` is neither INDIV nor ETABL")]
    AssignmentType(String),
    #[error("{field} is set but publicCible does not include {public}")]
    CountWithoutPublic { field: &'static str, public: Public },
    #[error("an ETABL subscription takes a non-zero nbLicenceGlobale and no per-public count")]
    SchoolWideCounts,
    #[error(
        "anneeFinValidite `{0}` must end after debutValidite, at most ten school years after it, its second year \
         following its first"
    )]
    SchoolYearSpan(String),
    #[error("finValidite must come after debutValidite, less than ten years later")]
    Period,
    #[error("give either finValidite or anneeFinValidite, not both nor neither")]
    End,
    #[error("anneeFinValidite `{0}` is not a school year written YYYY-YYYY, e.g. 2026-2027")]
    SchoolYear(String),
    #[error("{uai} is a first-degree school: no DOCUMENTALISTE public and no non-zero nbLicenceProfDoc")]
    FirstDegreeLibrarian { uai: String },
    #[error("codeNatureUAI {0} names first-degree schools: no DOCUMENTALISTE public and no non-zero nbLicenceProfDoc")]
    FirstDegreeNature(String),
    #[error("idAbonnement `{0}` is reserved by the service")]
    ReservedId(String),
    #[error("idAbonnement `{0}` starts with `_`, which marks deleted subscriptions")]
    DeletedPrefix(String),
}

impl SubscriptionError {
    /// The rule broken.
    pub fn rule(&self) -> Rule {
        match self {
            Self::Missing { .. }
            | Self::TooLong { .. }
            | Self::Invalid { .. }
            | Self::RepeatedPublic(_)
            | Self::RepeatedSchool(_) => Rule::Schema,
            Self::Counts => Rule::Rg(1),
            Self::Schools => Rule::Rg(2),
            Self::Distributor(_) => Rule::Rg(3),
            Self::Category(_) | Self::AssignmentType(_) => Rule::Rg(4),
            Self::CountWithoutPublic { .. } => Rule::Rg(5),
            Self::SchoolWideCounts => Rule::Rg(6),
            Self::SchoolYearSpan(_) => Rule::Rg(7),
            Self::Period => Rule::Rg(8),
            Self::End => Rule::Rg(9),
            Self::SchoolYear(_) => Rule::Rg(10),
            Self::FirstDegreeLibrarian { .. } | Self::FirstDegreeNature(_) => Rule::Rg(11),
            Self::ReservedId(_) => Rule::Rg(12),
            Self::DeletedPrefix(_) => Rule::Rg(13),
        }
    }

    /// The `<abonnement>` element at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Missing { field }
            | Self::TooLong { field, .. }
            | Self::Invalid { field, .. }
            | Self::CountWithoutPublic { field, .. } => field,
            Self::RepeatedPublic(_) | Self::FirstDegreeLibrarian { .. } | Self::FirstDegreeNature(_) => "publicCible",
            Self::Counts | Self::SchoolWideCounts => "nbLicenceGlobale",
            Self::Schools | Self::RepeatedSchool(_) => "uaiEtab",
            Self::Distributor(_) => "idDistributeurCom",
            Self::Category(_) => "categorieAffectation",
            Self::AssignmentType(_) => "typeAffectation",
            Self::SchoolYearSpan(_) | Self::End | Self::SchoolYear(_) => "anneeFinValidite",
            Self::Period => "finValidite",
            Self::ReservedId(_) | Self::DeletedPrefix(_) => "idAbonnement",
        }
    }

    /// The message in French, as the error body gives it beside the English one.
    pub fn french(&self) -> String {
        match self {
            Self::Missing { field } => format!("{field} est obligatoire"),
            Self::TooLong { field, max } => format!("{field} dépasse {max} caractères"),
            Self::Invalid { field, value, expected } => {
                format!("{field} : « {value} » n'est pas valide (attendu : {expected})")
            }
            Self::RepeatedPublic(public) => format!("publicCible « {public} » est donné deux fois"),
            Self::RepeatedSchool(uai) => format!("uaiEtab « {uai} » est donné deux fois"),
            Self::Counts => "donner soit nbLicenceGlobale, soit au moins un nombre de licences par public non nul, \
                             pas les deux ni aucun"
                .to_owned(),
            Self::Schools => "donner soit uaiEtab, soit codeNatureUAI, pas les deux ni aucun".to_owned(),
            Self::Distributor(value) => {
                format!(
                    "idDistributeurCom « {value} » n'est pas un identifiant SIREN_ISNI (9 chiffres, _, 16 chiffres)"
                )
            }
            Self::Category(value) => {
                format!("categorieAffectation « {value} » n'est pas admise : la seule valeur est « transferable »")
            }
            Self::AssignmentType(value) => format!("typeAffectation « {value} » n'est ni INDIV ni ETABL"),
            Self::CountWithoutPublic { field, public } => {
                format!("{field} est renseigné mais publicCible ne contient pas {public}")
            }
            Self::SchoolWideCounts => {
                "un abonnement ETABL prend un nbLicenceGlobale non nul et aucun nombre de licences par public"
                    .to_owned()
            }
            Self::SchoolYearSpan(year) => format!(
                "anneeFinValidite « {year} » doit finir après debutValidite, au plus dix années scolaires plus \
                 tard, sa seconde année suivant la première"
            ),
            Self::Period => "finValidite doit suivre debutValidite, moins de dix ans plus tard".to_owned(),
            Self::End => "donner soit finValidite, soit anneeFinValidite, pas les deux ni aucun".to_owned(),
            Self::SchoolYear(year) => {
                format!("anneeFinValidite « {year} » n'est pas une année scolaire AAAA-AAAA, par exemple 2026-2027")
            }
            Self::FirstDegreeLibrarian { uai } => format!(
                "{uai} est une école du premier degré : pas de public DOCUMENTALISTE ni de nbLicenceProfDoc non nul"
            ),
            Self::FirstDegreeNature(codes) => format!(
                "codeNatureUAI {codes} désigne des écoles du premier degré : pas de public DOCUMENTALISTE ni de \
                 nbLicenceProfDoc non nul"
            ),
            Self::ReservedId(id) => format!("idAbonnement « {id} » est réservé par le service"),
            Self::DeletedPrefix(id) => {
                format!("idAbonnement « {id} » commence par « _ », réservé aux abonnements supprimés")
            }
        }
    }
}

/// Whether a count takes part in RG1, RG5, RG6 and RG11: given and not zero. The GAR's own rules
/// read a zero count as absent ("ne doit pas être renseigné ou avoir la valeur 0", RG11).
fn counts(count: Option<LicenceCount>) -> bool {
    count.is_some_and(|count| count != LicenceCount::Limited(0))
}

/// Whether a school nature (N_NATURE_UAI) is a first-degree one: codes 1xx are écoles.
pub fn is_first_degree_nature(code: &str) -> bool {
    code.starts_with('1')
}

impl Subscription {
    /// The per-public counts that are present.
    pub fn public_counts(&self) -> Vec<(Public, LicenceCount)> {
        [
            (Public::Pupil, self.licences_pupil),
            (Public::Teacher, self.licences_teacher),
            (Public::Librarian, self.licences_librarian),
            (Public::OtherStaff, self.licences_other_staff),
        ]
        .into_iter()
        .filter_map(|(public, count)| count.map(|count| (public, count)))
        .collect()
    }

    /// The counters each school of the subscription gets: the global one, or one per counted public.
    pub fn pools(&self) -> Vec<(PoolPublic, LicenceCount)> {
        match self.licences_global {
            Some(count) => vec![(PoolPublic::Global, count)],
            None => {
                self.public_counts().into_iter().map(|(public, count)| (PoolPublic::Public(public), count)).collect()
            }
        }
    }

    /// When the subscription ends: `finValidite`, else the end (31 August) of `anneeFinValidite`.
    pub fn ends_at(&self) -> Option<NaiveDateTime> {
        ends_at(self.valid_until, self.end_school_year.as_deref())
    }

    /// Whether the subscription is in force at `now`.
    pub fn is_valid_at(&self, now: NaiveDateTime) -> bool {
        self.valid_from <= now && self.ends_at().is_some_and(|end| now <= end)
    }

    /// The school natures of `codeNatureUAI`, in the order given (empty codes dropped).
    pub fn nature_codes(&self) -> Vec<&str> {
        self.nature_codes
            .as_deref()
            .map(|codes| codes.split(',').map(str::trim).filter(|code| !code.is_empty()).collect())
            .unwrap_or_default()
    }

    /// Every rule that needs nothing but the subscription itself: the schema limits, then RG1–RG10,
    /// RG12 and RG13, in that order; the first broken one is returned. RG11 needs the schools'
    /// degrees: see [`Subscription::check_first_degree`].
    pub fn validate(&self) -> Result<(), SubscriptionError> {
        self.check_schema()?;
        if ["abonnements", "categorie"].contains(&self.id.as_str()) {
            return Err(SubscriptionError::ReservedId(self.id.clone()));
        }
        if self.id.starts_with('_') {
            return Err(SubscriptionError::DeletedPrefix(self.id.clone()));
        }
        if self.category != TRANSFERABLE {
            return Err(SubscriptionError::Category(self.category.clone()));
        }
        if self.establishments.is_empty() == self.nature_codes().is_empty() {
            return Err(SubscriptionError::Schools);
        }
        let public_counts = self.public_counts();
        let any_public_count = public_counts.iter().any(|(_, count)| counts(Some(*count)));
        if counts(self.licences_global) == any_public_count {
            return Err(SubscriptionError::Counts);
        }
        if self.assignment_type == AssignmentType::Establishment && !counts(self.licences_global) {
            return Err(SubscriptionError::SchoolWideCounts);
        }
        if self.assignment_type == AssignmentType::Establishment && any_public_count {
            return Err(SubscriptionError::SchoolWideCounts);
        }
        let uncovered =
            public_counts.iter().find(|(public, count)| counts(Some(*count)) && !self.publics.contains(public));
        if let Some((public, _)) = uncovered {
            return Err(SubscriptionError::CountWithoutPublic { field: count_field(*public), public: *public });
        }
        match (&self.valid_until, &self.end_school_year) {
            (Some(_), None) => {}
            (None, Some(year)) => {
                let (first, last) =
                    school_year_shape(year).ok_or_else(|| SubscriptionError::SchoolYear(year.clone()))?;
                // The school year debutValidite falls in starts on 1 September.
                let start = self.valid_from.year() - i32::from(self.valid_from.month() < 9);
                if last <= first || last - first > MAX_YEARS || last <= start || last - start > MAX_YEARS {
                    return Err(SubscriptionError::SchoolYearSpan(year.clone()));
                }
            }
            _ => return Err(SubscriptionError::End),
        }
        if let Some(until) = self.valid_until {
            let limit = self.valid_from.checked_add_months(chrono::Months::new(12 * MAX_YEARS as u32));
            if until <= self.valid_from || limit.is_none_or(|limit| until >= limit) {
                return Err(SubscriptionError::Period);
            }
        }
        Ok(())
    }

    /// Lengths, character sets and repetitions: what the GAR's schema limits.
    fn check_schema(&self) -> Result<(), SubscriptionError> {
        let text_fields = [
            ("idAbonnement", Some(self.id.as_str()), MAX_ID, true),
            ("commentaireAbonnement", self.comment.as_deref(), MAX_COMMENT, false),
            ("idRessource", Some(self.resource_id.as_str()), MAX_RESOURCE_ID, true),
            ("typeIdRessource", Some(self.resource_id_type.as_str()), MAX_RESOURCE_ID_TYPE, true),
            ("libelleRessource", Some(self.resource_label.as_str()), MAX_RESOURCE_LABEL, true),
            ("categorieAffectation", Some(self.category.as_str()), MAX_CATEGORY, true),
            ("codeProjetRessource", self.project_code.as_deref(), MAX_PROJECT_CODE, false),
            ("codeNatureUAI", self.nature_codes.as_deref(), MAX_NATURE_CODES, false),
        ];
        for (field, value, max, required) in text_fields {
            match value {
                Some(text) if text.chars().count() > max => return Err(SubscriptionError::TooLong { field, max }),
                Some(text) if required && text.trim().is_empty() => return Err(SubscriptionError::Missing { field }),
                None if required => return Err(SubscriptionError::Missing { field }),
                _ => {}
            }
        }
        if !self.id.chars().all(is_id_char) {
            return Err(SubscriptionError::Invalid {
                field: "idAbonnement",
                value: self.id.clone(),
                expected: "letters, digits and - . _ ~ : @ ! $ & ' ( ) * + , ; = only",
            });
        }
        if let Some(code) =
            self.nature_codes().into_iter().find(|code| code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(SubscriptionError::Invalid {
                field: "codeNatureUAI",
                value: code.to_owned(),
                expected: "three-digit school nature codes (N_NATURE_UAI) separated by commas, e.g. 340,300",
            });
        }
        let all_counts = self.public_counts().into_iter().map(|(public, count)| (count_field(public), count));
        for (field, count) in all_counts.chain(self.licences_global.map(|count| ("nbLicenceGlobale", count))) {
            if matches!(count, LicenceCount::Limited(n) if n > MAX_COUNT) {
                return Err(SubscriptionError::TooLong { field, max: 8 });
            }
        }
        if self.publics.is_empty() {
            return Err(SubscriptionError::Missing { field: "publicCible" });
        }
        let mut seen = Vec::new();
        for public in &self.publics {
            if seen.contains(public) {
                return Err(SubscriptionError::RepeatedPublic(*public));
            }
            seen.push(*public);
        }
        let mut schools = std::collections::HashSet::new();
        if let Some(uai) = self.establishments.iter().find(|uai| !schools.insert(*uai)) {
            return Err(SubscriptionError::RepeatedSchool(uai.clone()));
        }
        Ok(())
    }

    /// Whether the subscription is for documentalists: the public, or a non-zero `nbLicenceProfDoc`.
    pub fn targets_librarians(&self) -> bool {
        self.publics.contains(&Public::Librarian) || counts(self.licences_librarian)
    }

    /// RG11: no documentalist in first-degree schools, neither as a public nor as a non-zero
    /// `nbLicenceProfDoc`. `is_first_degree` tells a school's degree; natures 1xx are first degree.
    pub fn check_first_degree(&self, is_first_degree: impl Fn(&Uai) -> bool) -> Result<(), SubscriptionError> {
        if !self.targets_librarians() {
            return Ok(());
        }
        if let Some(uai) = self.establishments.iter().find(|uai| is_first_degree(uai)) {
            return Err(SubscriptionError::FirstDegreeLibrarian { uai: uai.to_string() });
        }
        let first_degree: Vec<&str> =
            self.nature_codes().into_iter().filter(|code| is_first_degree_nature(code)).collect();
        if !first_degree.is_empty() {
            return Err(SubscriptionError::FirstDegreeNature(first_degree.join(",")));
        }
        Ok(())
    }

    /// The `<abonnement>` elements whose value differs from `before`, in the GAR order.
    pub fn changed_fields(&self, before: &Subscription) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let mut check = |field, same: bool| {
            if !same {
                changed.push(field);
            }
        };
        check("commentaireAbonnement", self.comment == before.comment);
        check("idRessource", self.resource_id == before.resource_id);
        check("typeIdRessource", self.resource_id_type == before.resource_id_type);
        check("libelleRessource", self.resource_label == before.resource_label);
        check("debutValidite", self.valid_from == before.valid_from);
        check("finValidite", self.valid_until == before.valid_until);
        check("anneeFinValidite", self.end_school_year == before.end_school_year);
        check("uaiEtab", self.establishments == before.establishments);
        check("codeNatureUAI", self.nature_codes == before.nature_codes);
        check("categorieAffectation", self.category == before.category);
        check("typeAffectation", self.assignment_type == before.assignment_type);
        check("nbLicenceEnseignant", self.licences_teacher == before.licences_teacher);
        check("nbLicenceEleve", self.licences_pupil == before.licences_pupil);
        check("nbLicenceProfDoc", self.licences_librarian == before.licences_librarian);
        check("nbLicenceAutrePersonnel", self.licences_other_staff == before.licences_other_staff);
        check("nbLicenceGlobale", self.licences_global == before.licences_global);
        let (mut now, mut then) = (self.publics.clone(), before.publics.clone());
        now.sort();
        then.sort();
        check("publicCible", now == then);
        check("codeProjetRessource", self.project_code == before.project_code);
        changed
    }
}

/// The `nbLicence…` element counting one public.
pub fn count_field(public: Public) -> &'static str {
    match public {
        Public::Pupil => "nbLicenceEleve",
        Public::Teacher => "nbLicenceEnseignant",
        Public::Librarian => "nbLicenceProfDoc",
        Public::OtherStaff => "nbLicenceAutrePersonnel",
    }
}

/// When a subscription ends: `finValidite`, else 31 August 23:59:59 of the last year of `anneeFinValidite`.
pub fn ends_at(valid_until: Option<NaiveDateTime>, end_school_year: Option<&str>) -> Option<NaiveDateTime> {
    valid_until.or_else(|| {
        let (_, last) = parse_school_year(end_school_year?)?;
        NaiveDate::from_ymd_opt(last, 8, 31)?.and_hms_opt(23, 59, 59)
    })
}

/// The two years of `YYYY-YYYY` (RG10), whatever their order.
fn school_year_shape(text: &str) -> Option<(i32, i32)> {
    let (first, last) = text.trim().split_once('-')?;
    let digits = |s: &str| s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(first) || !digits(last) {
        return None;
    }
    Some((first.parse().ok()?, last.parse().ok()?))
}

/// `YYYY-YYYY` with the second year after the first, at most ten years apart (RG7, RG10).
fn parse_school_year(text: &str) -> Option<(i32, i32)> {
    school_year_shape(text).filter(|(first, last)| last > first && last - first <= MAX_YEARS)
}

/// Parses the GAR's date-times: `2026-09-01T00:00:00`, with optional fraction and offset
/// (`2021-09-02T16:18:27.000+02:00`); an offset is converted to naive UTC, and a time without one
/// is taken as UTC. Fractions of a second are dropped, as the GAR does (it answers `.000`): a client
/// that sends back the `debutValidite` it read must find it unchanged.
pub fn parse_gar_datetime(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    let at = chrono::DateTime::parse_from_rfc3339(text)
        .map(|at| at.naive_utc())
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()?;
    at.with_nanosecond(0)
}

/// Written as `2026-09-01T00:00:00`, the shape the GAR accepts.
fn format_gar_datetime(at: &NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

mod gar_datetime {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer, de};

    pub fn serialize<S: Serializer>(at: &NaiveDateTime, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::format_gar_datetime(at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDateTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse_gar_datetime(&text)
            .ok_or_else(|| de::Error::custom(format!("`{text}` is not a date-time like 2026-09-01T00:00:00")))
    }
}

mod gar_datetime_opt {
    use chrono::NaiveDateTime;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Option<NaiveDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => super::gar_datetime::serialize(at, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDateTime>, D::Error> {
        super::gar_datetime::deserialize(deserializer).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscription() -> Subscription {
        serde_json::from_value(serde_json::json!({
            "idAbonnement": "DEMO-1",
            "idDistributeurCom": "999000001_0000000000000000",
            "idRessource": "ark:/99999/demo.test",
            "typeIdRessource": "ark",
            "libelleRessource": "Test",
            "debutValidite": "2026-09-01T00:00:00",
            "anneeFinValidite": "2026-2027",
            "uaiEtab": ["0990001N"],
            "categorieAffectation": "transferable",
            "typeAffectation": "INDIV",
            "nbLicenceEleve": 30,
            "nbLicenceEnseignant": "ILLIMITE",
            "publicCible": ["ELEVE", "ENSEIGNANT"]
        }))
        .unwrap()
    }

    fn at(text: &str) -> NaiveDateTime {
        parse_gar_datetime(text).unwrap()
    }

    /// The rule code and field of the first rule `sub` breaks.
    fn broken(sub: &Subscription) -> (String, &'static str) {
        let error = sub.validate().unwrap_err();
        (error.rule().code(), error.field())
    }

    #[test]
    fn a_well_formed_subscription_is_valid() {
        let sub = subscription();
        sub.validate().unwrap();
        assert_eq!(
            sub.pools(),
            [
                (PoolPublic::Public(Public::Pupil), LicenceCount::Limited(30)),
                (PoolPublic::Public(Public::Teacher), LicenceCount::Unlimited)
            ]
        );
        assert_eq!(sub.ends_at(), Some(at("2027-08-31T23:59:59")));
        assert!(sub.is_valid_at(at("2026-11-24T12:00:00")));
        assert!(!sub.is_valid_at(at("2027-09-01T00:00:00")));
        assert!(!sub.is_valid_at(at("2026-08-31T23:59:59")));
    }

    #[test]
    fn reads_real_gar_date_times() {
        assert_eq!(parse_gar_datetime("2021-09-02T16:18:27.000+02:00"), Some(at("2021-09-02T14:18:27")));
        assert_eq!(parse_gar_datetime("2023-09-15T00:00:00"), Some(at("2023-09-15T00:00:00")));
        // django-gar sends `datetime.now().isoformat()`; the fraction is dropped, as the GAR does.
        assert_eq!(parse_gar_datetime("2024-03-04T10:12:13.987654"), Some(at("2024-03-04T10:12:13")));
        assert_eq!(parse_gar_datetime("2023-09-15"), None);
    }

    #[test]
    fn rg1_one_kind_of_count() {
        let mut both = subscription();
        both.licences_global = Some(LicenceCount::Unlimited);
        assert_eq!(broken(&both), ("RG1".into(), "nbLicenceGlobale"));
        let mut neither = subscription();
        (neither.licences_pupil, neither.licences_teacher) = (None, None);
        assert_eq!(broken(&neither), ("RG1".into(), "nbLicenceGlobale"));
        // A zero count is no count: the GAR reads it as absent.
        let mut zeros = subscription();
        (zeros.licences_pupil, zeros.licences_teacher) = (Some(LicenceCount::Limited(0)), None);
        assert_eq!(broken(&zeros), ("RG1".into(), "nbLicenceGlobale"));
        let mut global_and_zero = subscription();
        (global_and_zero.licences_pupil, global_and_zero.licences_teacher) = (Some(LicenceCount::Limited(0)), None);
        global_and_zero.licences_global = Some(LicenceCount::Limited(10));
        global_and_zero.validate().unwrap();
    }

    #[test]
    fn rg2_schools_or_natures() {
        let mut nowhere = subscription();
        nowhere.establishments.clear();
        assert_eq!(broken(&nowhere), ("RG2".into(), "uaiEtab"));
        let mut both = subscription();
        both.nature_codes = Some("340".into());
        assert_eq!(broken(&both), ("RG2".into(), "uaiEtab"));
        let mut natures = subscription();
        natures.establishments.clear();
        natures.nature_codes = Some("340, 300".into());
        natures.validate().unwrap();
        assert_eq!(natures.nature_codes(), ["340", "300"]);
        natures.nature_codes = Some("34O".into());
        assert_eq!(broken(&natures), ("SCHEMA".into(), "codeNatureUAI"));
    }

    #[test]
    fn rg4_category_and_type() {
        let mut sub = subscription();
        sub.category = "non transferable".into();
        assert_eq!(broken(&sub), ("RG4".into(), "categorieAffectation"));
    }

    #[test]
    fn rg5_counts_need_their_public() {
        let mut orphan = subscription();
        orphan.licences_other_staff = Some(LicenceCount::Limited(2));
        assert_eq!(broken(&orphan), ("RG5".into(), "nbLicenceAutrePersonnel"));
        orphan.licences_other_staff = Some(LicenceCount::Limited(0));
        orphan.validate().unwrap();
    }

    #[test]
    fn rg6_school_wide_takes_the_global_count_alone() {
        let mut school_wide = subscription();
        school_wide.assignment_type = AssignmentType::Establishment;
        assert_eq!(broken(&school_wide), ("RG6".into(), "nbLicenceGlobale"));
        (school_wide.licences_pupil, school_wide.licences_teacher) = (None, None);
        school_wide.licences_global = Some(LicenceCount::Unlimited);
        school_wide.validate().unwrap();
        assert_eq!(school_wide.pools(), [(PoolPublic::Global, LicenceCount::Unlimited)]);
        school_wide.licences_global = Some(LicenceCount::Limited(0));
        assert_eq!(broken(&school_wide), ("RG1".into(), "nbLicenceGlobale"));
    }

    #[test]
    fn rg7_rg9_rg10_school_years() {
        let mut sub = subscription();
        for (year, rule) in [("2027-2026", "RG7"), ("2026-2038", "RG7"), ("2024-2025", "RG7"), ("2036-2037", "RG7")] {
            sub.end_school_year = Some(year.into());
            assert_eq!(broken(&sub), (rule.into(), "anneeFinValidite"), "{year}");
        }
        sub.end_school_year = Some("2035-2036".into());
        sub.validate().unwrap();
        sub.end_school_year = Some("2026/2027".into());
        assert_eq!(broken(&sub), ("RG10".into(), "anneeFinValidite"));
        sub.valid_until = Some(at("2027-07-14T00:00:00"));
        sub.end_school_year = Some("2026-2027".into());
        assert_eq!(broken(&sub), ("RG9".into(), "anneeFinValidite"));
        sub.end_school_year = None;
        sub.valid_until = None;
        assert_eq!(broken(&sub), ("RG9".into(), "anneeFinValidite"));
    }

    #[test]
    fn rg8_end_date_within_ten_years() {
        let mut sub = subscription();
        sub.end_school_year = None;
        sub.valid_until = Some(at("2036-08-31T23:59:59"));
        sub.validate().unwrap();
        sub.valid_until = Some(at("2036-09-01T00:00:00"));
        assert_eq!(broken(&sub), ("RG8".into(), "finValidite"));
        sub.valid_until = Some(at("2026-08-01T00:00:00"));
        assert_eq!(broken(&sub), ("RG8".into(), "finValidite"));
    }

    #[test]
    fn rg12_rg13_ids() {
        let mut sub = subscription();
        for reserved in ["abonnements", "categorie"] {
            sub.id = reserved.into();
            assert_eq!(broken(&sub), ("RG12".into(), "idAbonnement"));
        }
        sub.id = "_DEMO-1".into();
        assert_eq!(broken(&sub), ("RG13".into(), "idAbonnement"));
    }

    #[test]
    fn schema_limits() {
        let mut sub = subscription();
        sub.id = "x".repeat(46);
        assert_eq!(sub.validate(), Err(SubscriptionError::TooLong { field: "idAbonnement", max: 45 }));
        for bad in ["with space", "a/b", "50%", "é"] {
            sub.id = bad.into();
            assert_eq!(broken(&sub), ("SCHEMA".into(), "idAbonnement"), "{bad}");
        }
        sub.id = "briefme_0941295X_1709542737.2902117".into();
        sub.validate().unwrap();
        sub.project_code = Some("p".repeat(51));
        assert_eq!(broken(&sub), ("SCHEMA".into(), "codeProjetRessource"));
        sub.project_code = None;
        sub.licences_pupil = Some(LicenceCount::Limited(100_000_000));
        assert_eq!(broken(&sub), ("SCHEMA".into(), "nbLicenceEleve"));
        sub.licences_pupil = Some(LicenceCount::Limited(3));
        sub.publics.push(Public::Pupil);
        assert_eq!(sub.validate(), Err(SubscriptionError::RepeatedPublic(Public::Pupil)));
        sub.publics.clear();
        assert_eq!(broken(&sub), ("SCHEMA".into(), "publicCible"));
        sub.publics.push(Public::Pupil);
        sub.establishments.push(sub.establishments[0].clone());
        assert_eq!(broken(&sub), ("SCHEMA".into(), "uaiEtab"));
    }

    #[test]
    fn rg11_no_librarians_in_first_degree_schools() {
        let mut sub = subscription();
        sub.check_first_degree(|_| true).unwrap();
        sub.publics.push(Public::Librarian);
        let error = sub.check_first_degree(|_| true).unwrap_err();
        assert_eq!((error.rule(), error.field()), (Rule::Rg(11), "publicCible"));
        sub.check_first_degree(|_| false).unwrap();

        let mut natures = subscription();
        natures.establishments.clear();
        natures.nature_codes = Some("340,151".into());
        natures.check_first_degree(|_| false).unwrap();
        natures.licences_librarian = Some(LicenceCount::Limited(0));
        natures.check_first_degree(|_| false).unwrap();
        natures.licences_librarian = Some(LicenceCount::Limited(1));
        assert_eq!(natures.check_first_degree(|_| false), Err(SubscriptionError::FirstDegreeNature("151".into())));
    }

    #[test]
    fn every_error_has_both_languages() {
        let mut sub = subscription();
        sub.category = "non transferable".into();
        let error = sub.validate().unwrap_err();
        assert!(error.to_string().contains("transferable"));
        assert!(error.french().contains("n'est pas admise"));
    }

    #[test]
    fn lists_changed_fields() {
        let before = subscription();
        let mut after = before.clone();
        after.licences_pupil = Some(LicenceCount::Limited(10));
        after.publics.reverse();
        after.comment = Some("x".into());
        assert_eq!(after.changed_fields(&before), ["commentaireAbonnement", "nbLicenceEleve"]);
    }

    #[test]
    fn serializes_with_gar_names() {
        let value = serde_json::to_value(subscription()).unwrap();
        assert_eq!(value["debutValidite"], "2026-09-01T00:00:00");
        assert_eq!(value["nbLicenceEnseignant"], "ILLIMITE");
        assert_eq!(value["publicCible"], serde_json::json!(["ELEVE", "ENSEIGNANT"]));
        assert!(value.get("finValidite").is_none());
    }
}
