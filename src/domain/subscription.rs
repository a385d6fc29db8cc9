//! Subscriptions as the abonnement web service describes them (`<abonnement>`, GAR-INTERFACES §2.3).

use chrono::{NaiveDate, NaiveDateTime};
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

/// A rule of the abonnement web service (RG1–RG13) that a subscription breaks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    #[error("idAbonnement `{0}` is empty, starts with `_` or is reserved (RG12, RG13)")]
    Id(String),
    #[error("{0}: give either uaiEtab or codeNatureUAI, not both nor neither (RG2)")]
    Schools(String),
    #[error("{0}: categorieAffectation must be `transferable` (RG4)")]
    Category(String),
    #[error("{0}: give either nbLicenceGlobale or per-public counts, not both nor neither (RG1)")]
    Counts(String),
    #[error("{0}: an ETABL subscription takes nbLicenceGlobale alone (RG6)")]
    SchoolWideCounts(String),
    #[error("{id}: a licence count for {public} needs publicCible {public} (RG5)")]
    CountWithoutPublic { id: String, public: Public },
    #[error("{0}: publicCible is empty or repeats a public")]
    Publics(String),
    #[error("{0}: give either finValidite or anneeFinValidite, not both nor neither (RG9)")]
    End(String),
    #[error("{id}: anneeFinValidite `{year}` is not a school year YYYY-YYYY (RG10)")]
    SchoolYear { id: String, year: String },
    #[error("{0}: the subscription ends before it starts")]
    Period(String),
    #[error("{id}: {uai} is a first-degree school, which has no DOCUMENTALISTE public (RG11)")]
    FirstDegreeLibrarian { id: String, uai: Uai },
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
        end_of_validity(self.valid_until, self.end_school_year.as_deref())
    }

    /// Whether the subscription is in force at `now`.
    pub fn is_valid_at(&self, now: NaiveDateTime) -> bool {
        self.valid_from <= now && self.ends_at().is_some_and(|end| now <= end)
    }

    /// The rules that need nothing but the subscription itself.
    pub fn validate(&self) -> Result<(), SubscriptionError> {
        let id = || self.id.clone();
        if self.id.trim().is_empty()
            || self.id.starts_with('_')
            || ["abonnements", "categorie"].contains(&self.id.as_str())
        {
            return Err(SubscriptionError::Id(id()));
        }
        if self.establishments.is_empty() == self.nature_codes.as_deref().is_none_or(|codes| codes.trim().is_empty()) {
            return Err(SubscriptionError::Schools(id()));
        }
        if self.category != TRANSFERABLE {
            return Err(SubscriptionError::Category(id()));
        }
        let public_counts = self.public_counts();
        if self.licences_global.is_some() != public_counts.is_empty() {
            return Err(SubscriptionError::Counts(id()));
        }
        if self.assignment_type == AssignmentType::Establishment && self.licences_global.is_none() {
            return Err(SubscriptionError::SchoolWideCounts(id()));
        }
        let mut publics = self.publics.clone();
        publics.sort();
        publics.dedup();
        if publics.is_empty() || publics.len() != self.publics.len() {
            return Err(SubscriptionError::Publics(id()));
        }
        if let Some((public, _)) = public_counts.iter().find(|(public, _)| !self.publics.contains(public)) {
            return Err(SubscriptionError::CountWithoutPublic { id: id(), public: *public });
        }
        match (&self.valid_until, &self.end_school_year) {
            (Some(_), None) => {}
            (None, Some(year)) if parse_school_year(year).is_some() => {}
            (None, Some(year)) => return Err(SubscriptionError::SchoolYear { id: id(), year: year.clone() }),
            _ => return Err(SubscriptionError::End(id())),
        }
        if self.ends_at().is_none_or(|end| end <= self.valid_from) {
            return Err(SubscriptionError::Period(id()));
        }
        Ok(())
    }

    /// RG11: no documentalist licences in first-degree schools. `is_first_degree` tells a school's degree.
    pub fn check_first_degree(&self, is_first_degree: impl Fn(&Uai) -> bool) -> Result<(), SubscriptionError> {
        let librarians = self.publics.contains(&Public::Librarian)
            || self.licences_librarian.is_some_and(|count| count != LicenceCount::Limited(0));
        match self.establishments.iter().find(|uai| is_first_degree(uai)) {
            Some(uai) if librarians => {
                Err(SubscriptionError::FirstDegreeLibrarian { id: self.id.clone(), uai: uai.clone() })
            }
            _ => Ok(()),
        }
    }
}

/// When a subscription stops granting: `finValidite`, else the end (31 August 23:59:59) of the last
/// year of `anneeFinValidite`. `None` when neither is usable.
pub fn end_of_validity(valid_until: Option<NaiveDateTime>, end_school_year: Option<&str>) -> Option<NaiveDateTime> {
    valid_until.or_else(|| {
        let (_, last) = parse_school_year(end_school_year?)?;
        NaiveDate::from_ymd_opt(last, 8, 31)?.and_hms_opt(23, 59, 59)
    })
}

/// `YYYY-YYYY` with the second year after the first, at most ten years apart (RG7, RG10).
fn parse_school_year(text: &str) -> Option<(i32, i32)> {
    let (first, last) = text.split_once('-')?;
    let digits = |s: &str| s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(first) || !digits(last) {
        return None;
    }
    let (first, last): (i32, i32) = (first.parse().ok()?, last.parse().ok()?);
    (last > first && last - first <= 10).then_some((first, last))
}

/// Parses the GAR's date-times: `2026-09-01T00:00:00`, with optional fraction and offset
/// (`2021-09-02T16:18:27.000+02:00`); an offset is converted to naive UTC.
pub fn parse_gar_datetime(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|at| at.naive_utc())
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()
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
    }

    #[test]
    fn reads_real_gar_date_times() {
        assert_eq!(parse_gar_datetime("2021-09-02T16:18:27.000+02:00"), Some(at("2021-09-02T14:18:27")));
        assert_eq!(parse_gar_datetime("2023-09-15T00:00:00"), Some(at("2023-09-15T00:00:00")));
        assert_eq!(parse_gar_datetime("2023-09-15"), None);
    }

    #[test]
    fn enforces_the_counting_rules() {
        let mut both = subscription();
        both.licences_global = Some(LicenceCount::Unlimited);
        assert!(matches!(both.validate(), Err(SubscriptionError::Counts(_))));

        let mut school_wide = subscription();
        school_wide.assignment_type = AssignmentType::Establishment;
        assert!(matches!(school_wide.validate(), Err(SubscriptionError::SchoolWideCounts(_))));
        (school_wide.licences_pupil, school_wide.licences_teacher) = (None, None);
        school_wide.licences_global = Some(LicenceCount::Unlimited);
        school_wide.validate().unwrap();
        assert_eq!(school_wide.pools(), [(PoolPublic::Global, LicenceCount::Unlimited)]);

        let mut orphan = subscription();
        orphan.licences_other_staff = Some(LicenceCount::Limited(2));
        assert!(matches!(
            orphan.validate(),
            Err(SubscriptionError::CountWithoutPublic { public: Public::OtherStaff, .. })
        ));
    }

    #[test]
    fn enforces_ids_schools_and_periods() {
        let mut deleted = subscription();
        deleted.id = "_DEMO-1".into();
        assert!(matches!(deleted.validate(), Err(SubscriptionError::Id(_))));

        let mut nowhere = subscription();
        nowhere.establishments.clear();
        assert!(matches!(nowhere.validate(), Err(SubscriptionError::Schools(_))));

        let mut two_ends = subscription();
        two_ends.valid_until = Some(at("2027-07-14T00:00:00"));
        assert!(matches!(two_ends.validate(), Err(SubscriptionError::End(_))));

        let mut bad_year = subscription();
        bad_year.end_school_year = Some("2027-2026".into());
        assert!(matches!(bad_year.validate(), Err(SubscriptionError::SchoolYear { .. })));

        let mut backwards = subscription();
        backwards.end_school_year = None;
        backwards.valid_until = Some(at("2026-08-01T00:00:00"));
        assert!(matches!(backwards.validate(), Err(SubscriptionError::Period(_))));
    }

    #[test]
    fn no_librarians_in_first_degree_schools() {
        let mut sub = subscription();
        sub.check_first_degree(|_| true).unwrap();
        sub.publics.push(Public::Librarian);
        assert!(matches!(sub.check_first_degree(|_| true), Err(SubscriptionError::FirstDegreeLibrarian { .. })));
        sub.check_first_degree(|_| false).unwrap();
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
