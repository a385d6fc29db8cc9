//! Resource notices in Sesame's import format (`sesame resource import FILE`, JSON Schema in
//! `schema/resource-import.schema.json`).
//!
//! A notice uses the médiacentre field names (GAR-INTERFACES §3.2) so that a publisher's existing
//! notice can be pasted in; it adds `urlRessource` (where the resource itself lives) and drops
//! `urlAccesRessource`, which the broker builds.

use serde::{Deserialize, Serialize};

use super::SirenIsni;

/// The whole import file: `{"ressources": [ … ]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceImport {
    /// Notices in any order: a family's mother may come after its members.
    #[serde(rename = "ressources")]
    pub resources: Vec<ResourceNotice>,
}

/// One resource, described as the médiacentre lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceNotice {
    /// The ARK of the ScoLOMFR notice, e.g. `ark:/99999/demo.maths6`.
    #[serde(rename = "idRessource")]
    pub id: String,
    /// `ARK` in every known notice.
    #[serde(rename = "idType")]
    pub id_type: String,
    #[serde(rename = "nomRessource")]
    pub name: String,
    #[serde(rename = "idEditeur")]
    pub publisher_id: SirenIsni,
    #[serde(rename = "nomEditeur")]
    pub publisher_name: String,
    #[serde(rename = "urlVignette", default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    #[serde(rename = "typePresentation")]
    pub presentation: Presentation,
    /// ScoLOMFR vocabulary 010.
    #[serde(rename = "typePedagogique")]
    pub pedagogical_types: Vec<VocabularyTerm>,
    /// ScoLOMFR vocabulary 005.
    #[serde(rename = "typologieDocument")]
    pub document_types: Vec<VocabularyTerm>,
    /// ScoLOMFR vocabulary 022.
    #[serde(rename = "niveauEducatif")]
    pub education_levels: Vec<VocabularyTerm>,
    /// ScoLOMFR vocabulary 015.
    #[serde(rename = "domaineEnseignement")]
    pub teaching_domains: Vec<VocabularyTerm>,
    #[serde(rename = "distributeurTech")]
    pub tech_distributor_id: SirenIsni,
    #[serde(rename = "validateurTech")]
    pub tech_validator_id: SirenIsni,
    /// Display label, e.g. "Accessible via le Gestionnaire d'accès aux ressources (GAR)".
    #[serde(rename = "nomSourceEtiquetteGar")]
    pub source_label: String,
    #[serde(rename = "urlSourceEtiquette", default, skip_serializing_if = "Option::is_none")]
    pub source_label_url: Option<String>,
    #[serde(rename = "description", default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where the resource itself lives: the page users land on after sign-on.
    #[serde(rename = "urlRessource")]
    pub url: String,
    /// `idRessource` of the family's mother resource, when this one is a member.
    #[serde(rename = "mereFamille", default, skip_serializing_if = "Option::is_none")]
    pub family_parent_id: Option<String>,
}

/// `typePresentation`: the médiacentre's display category.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Presentation {
    /// e.g. `MAN`, `MUL`, `DIC`, `PRO`, `DOC`, `ACC`.
    pub code: String,
    /// e.g. "manuels numériques".
    pub nom: String,
}

/// A ScoLOMFR concept: `{uri, nom}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VocabularyTerm {
    /// e.g. `http://data.education.fr/voc/scolomfr/concept/scolomfr-voc-022-num-016`.
    pub uri: String,
    pub nom: String,
}

/// A notice that parses but cannot be published.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    #[error("{resource}: `{field}` is empty")]
    Empty { resource: String, field: &'static str },
    #[error("{resource}: `{field}` is not an http(s) URL: {value}")]
    Url { resource: String, field: &'static str, value: String },
    #[error("{resource}: `{field}` holds {uri}, a concept of another ScoLOMFR vocabulary (expected {expected})")]
    Vocabulary { resource: String, field: &'static str, uri: String, expected: &'static str },
    #[error("{resource}: a resource cannot be its own family mother")]
    OwnMother { resource: String },
}

/// The marker of ScoLOMFR concept URIs, followed by the vocabulary number.
const SCOLOMFR_MARKER: &str = "scolomfr-voc-";

impl ResourceNotice {
    /// Rules serde cannot express: non-empty names, URL shapes, each list in its own vocabulary.
    pub fn validate(&self) -> Result<(), NoticeError> {
        let resource = || self.id.clone();
        let required = [
            ("idRessource", &self.id),
            ("idType", &self.id_type),
            ("nomRessource", &self.name),
            ("nomEditeur", &self.publisher_name),
            ("typePresentation.code", &self.presentation.code),
            ("typePresentation.nom", &self.presentation.nom),
            ("nomSourceEtiquetteGar", &self.source_label),
        ];
        for (field, value) in required {
            if value.trim().is_empty() {
                return Err(NoticeError::Empty { resource: resource(), field });
            }
        }
        let urls = [
            ("urlRessource", Some(&self.url)),
            ("urlVignette", self.thumbnail_url.as_ref()),
            ("urlSourceEtiquette", self.source_label_url.as_ref()),
        ];
        for (field, value) in urls {
            if let Some(value) = value.filter(|v| !is_http_url(v)) {
                return Err(NoticeError::Url { resource: resource(), field, value: value.clone() });
            }
        }
        let vocabularies = [
            ("typePedagogique", "010", &self.pedagogical_types),
            ("typologieDocument", "005", &self.document_types),
            ("niveauEducatif", "022", &self.education_levels),
            ("domaineEnseignement", "015", &self.teaching_domains),
        ];
        for (field, expected, terms) in vocabularies {
            for term in terms {
                if term.uri.trim().is_empty() || term.nom.trim().is_empty() {
                    return Err(NoticeError::Empty { resource: resource(), field });
                }
                // Only ScoLOMFR URIs name their vocabulary; others (e.g. `…/concept/lecture`) pass.
                let vocabulary = term.uri.split_once(SCOLOMFR_MARKER).map(|(_, rest)| rest.get(..3));
                if let Some(found) = vocabulary
                    && found != Some(expected)
                {
                    return Err(NoticeError::Vocabulary {
                        resource: resource(),
                        field,
                        uri: term.uri.clone(),
                        expected,
                    });
                }
            }
        }
        if self.family_parent_id.as_deref() == Some(self.id.as_str()) {
            return Err(NoticeError::OwnMother { resource: resource() });
        }
        Ok(())
    }
}

fn is_http_url(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn term(uri: &str, nom: &str) -> VocabularyTerm {
        VocabularyTerm { uri: uri.into(), nom: nom.into() }
    }

    const VOC: &str = "http://data.education.fr/voc/scolomfr/concept/";

    fn notice() -> ResourceNotice {
        let company = SirenIsni::parse("999000001_0000000000000000").unwrap();
        ResourceNotice {
            id: "ark:/99999/demo.test".into(),
            id_type: "ARK".into(),
            name: "Test".into(),
            publisher_id: company.clone(),
            publisher_name: "Éditions Test".into(),
            thumbnail_url: Some("https://example.org/t.png".into()),
            presentation: Presentation { code: "MAN".into(), nom: "manuels numériques".into() },
            pedagogical_types: vec![term(&format!("{VOC}scolomfr-voc-010-num-027"), "activité pédagogique")],
            document_types: vec![term(&format!("{VOC}scolomfr-voc-005-num-024"), "livre numérique")],
            education_levels: vec![term(&format!("{VOC}scolomfr-voc-022-num-016"), "collège")],
            teaching_domains: vec![],
            tech_distributor_id: company.clone(),
            tech_validator_id: company,
            source_label: "Accessible via le GAR".into(),
            source_label_url: Some("https://example.org/label.svg".into()),
            description: Some("A test notice".into()),
            url: "https://example.org/test".into(),
            family_parent_id: Some("ark:/99999/demo.family".into()),
        }
    }

    #[test]
    fn a_complete_notice_is_valid() {
        notice().validate().unwrap();
    }

    #[test]
    fn rejects_terms_of_another_vocabulary() {
        let mut wrong = notice();
        wrong.teaching_domains.push(term(&format!("{VOC}scolomfr-voc-022-num-016"), "collège"));
        assert!(matches!(wrong.validate(), Err(NoticeError::Vocabulary { field: "domaineEnseignement", .. })));
        let mut other_scheme = notice();
        other_scheme.pedagogical_types.push(term(&format!("{VOC}lecture"), "cours / présentation"));
        other_scheme.validate().unwrap();
    }

    #[test]
    fn rejects_bad_urls_and_empty_names() {
        let mut wrong = notice();
        wrong.url = "ftp://example.org/x".into();
        assert!(matches!(wrong.validate(), Err(NoticeError::Url { field: "urlRessource", .. })));
        let mut empty = notice();
        empty.name = " ".into();
        assert!(matches!(empty.validate(), Err(NoticeError::Empty { field: "nomRessource", .. })));
        let mut own = notice();
        own.family_parent_id = Some(own.id.clone());
        assert!(matches!(own.validate(), Err(NoticeError::OwnMother { .. })));
    }

    #[test]
    fn unknown_fields_and_bad_ids_do_not_parse() {
        let mut value = serde_json::to_value(notice()).unwrap();
        value["urlAccesRessource"] = "https://example.org".into();
        assert!(serde_json::from_value::<ResourceNotice>(value).is_err());
        let mut value = serde_json::to_value(notice()).unwrap();
        value["idEditeur"] = "999000001".into();
        assert!(serde_json::from_value::<ResourceNotice>(value).is_err());
    }

    /// The checked-in JSON Schema and the serde struct name the same fields.
    #[test]
    fn json_schema_matches_the_struct() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../schema/resource-import.schema.json")).unwrap();
        let definition = &schema["$defs"]["ressource"];
        let keys =
            |value: &serde_json::Value| -> BTreeSet<String> { value.as_object().unwrap().keys().cloned().collect() };
        let full = serde_json::to_value(notice()).unwrap();
        assert_eq!(keys(&definition["properties"]), keys(&full), "schema properties");

        let mut minimal = notice();
        (minimal.thumbnail_url, minimal.source_label_url, minimal.description, minimal.family_parent_id) =
            (None, None, None, None);
        let required: BTreeSet<String> =
            definition["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
        assert_eq!(required, keys(&serde_json::to_value(minimal).unwrap()), "schema required");
        assert_eq!(schema["required"], serde_json::json!(["ressources"]));
    }
}
