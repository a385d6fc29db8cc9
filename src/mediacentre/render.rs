//! The listing as the GAR's médiacentre serves it: JSON (default) or XML, with exactly the GAR's
//! names, field order (GAR-INTERFACES §3.2) and the guarantees real clients rely on (§3.5):
//! `listeRessources.ressource` always present, the four vocabulary fields always arrays, every
//! field a client requires present. Optional notice fields the GAR always sends (`urlVignette`,
//! `urlSourceEtiquette`) are `""` when the notice has none, as in the GAR's own answers.

use quick_xml::Writer;
use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde::Serialize;

use super::listing::{Entry, Listing};
use crate::domain::catalogue::{Presentation, VocabularyTerm};
use crate::domain::entry_url::access_url;

/// Wire format chosen from the `Accept` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Xml => "application/xml; charset=utf-8",
        }
    }
}

/// What the entries need to be written: where the entry URLs point and for which ENT project.
pub struct Context<'a> {
    pub public_url: &'a str,
    pub ent_id: &'a str,
    /// Tag each resource with its schools (`idEtablissement`), for the all-schools listing.
    pub with_schools: bool,
}

pub fn render(listing: &Listing, format: Format, context: &Context) -> Vec<u8> {
    let resources: Vec<Ressource> = listing.entries.iter().map(|entry| Ressource::new(entry, context)).collect();
    match format {
        Format::Json => {
            let document = Document { liste_ressources: ListeRessources { ressource: resources } };
            let mut body = Vec::with_capacity(64 + document.liste_ressources.ressource.len() * 1536);
            serde_json::to_writer(&mut body, &document).expect("strings and arrays always serialize");
            body
        }
        Format::Xml => xml(&resources),
    }
}

#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "listeRessources")]
    liste_ressources: ListeRessources<'a>,
}

#[derive(Serialize)]
struct ListeRessources<'a> {
    ressource: Vec<Ressource<'a>>,
}

/// One `ressource`, fields in the order of the GAR's production answers.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Ressource<'a> {
    id_ressource: &'a str,
    id_type: &'a str,
    nom_ressource: &'a str,
    id_editeur: &'a str,
    nom_editeur: &'a str,
    url_vignette: &'a str,
    type_presentation: &'a Presentation,
    type_pedagogique: &'a [VocabularyTerm],
    typologie_document: &'a [VocabularyTerm],
    niveau_educatif: &'a [VocabularyTerm],
    domaine_enseignement: &'a [VocabularyTerm],
    url_acces_ressource: String,
    nom_source_etiquette_gar: &'a str,
    url_source_etiquette: &'a str,
    distributeur_tech: &'a str,
    validateur_tech: &'a str,
    /// Sesame's all-schools listing only, shaped like GIP-RECIA's own tagging.
    #[serde(rename = "idEtablissement", skip_serializing_if = "Vec::is_empty")]
    id_etablissement: Vec<Etablissement<'a>>,
}

#[derive(Serialize)]
struct Etablissement<'a> {
    #[serde(rename = "UAI")]
    uai: &'a str,
    nom: &'a str,
}

impl<'a> Ressource<'a> {
    /// In the all-schools listing the entry URL names no school: sign-on then uses one of the
    /// user's schools that grants the resource (a resource is listed once, whatever its schools).
    fn new(entry: &'a Entry, context: &Context) -> Self {
        let notice = &entry.notice;
        let (school, id_etablissement) = if context.with_schools {
            let tags = entry.schools.iter().map(|s| Etablissement { uai: s.uai.as_str(), nom: &s.name }).collect();
            (None, tags)
        } else {
            (entry.schools.first().map(|s| &s.uai), Vec::new())
        };
        Self {
            id_ressource: &notice.id,
            id_type: &notice.id_type,
            nom_ressource: &notice.name,
            id_editeur: notice.publisher_id.as_str(),
            nom_editeur: &notice.publisher_name,
            url_vignette: notice.thumbnail_url.as_deref().unwrap_or_default(),
            type_presentation: &notice.presentation,
            type_pedagogique: &notice.pedagogical_types,
            typologie_document: &notice.document_types,
            niveau_educatif: &notice.education_levels,
            domaine_enseignement: &notice.teaching_domains,
            url_acces_ressource: access_url(context.public_url, context.ent_id, school, &notice.id),
            nom_source_etiquette_gar: &notice.source_label,
            url_source_etiquette: notice.source_label_url.as_deref().unwrap_or_default(),
            distributeur_tech: notice.tech_distributor_id.as_str(),
            validateur_tech: notice.tech_validator_id.as_str(),
            id_etablissement,
        }
    }
}

/// The XML form as LaclasseService parses it (GAR-INTERFACES §3.5 item 5): `ressource` children
/// of the root, scalar fields as elements, each vocabulary term a repeated element holding `uri`
/// and `nom` (an empty list writes no element).
fn xml(resources: &[Ressource]) -> Vec<u8> {
    let mut writer = Writer::new(Vec::with_capacity(1024 + resources.len() * 2048));
    let result: std::io::Result<()> = (|| {
        writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        writer.write_event(Event::Start(BytesStart::new("listeRessources")))?;
        for r in resources {
            writer.write_event(Event::Start(BytesStart::new("ressource")))?;
            for (name, value) in [
                ("idRessource", r.id_ressource),
                ("idType", r.id_type),
                ("nomRessource", r.nom_ressource),
                ("idEditeur", r.id_editeur),
                ("nomEditeur", r.nom_editeur),
                ("urlVignette", r.url_vignette),
            ] {
                text_element(&mut writer, name, value)?;
            }
            writer.write_event(Event::Start(BytesStart::new("typePresentation")))?;
            text_element(&mut writer, "code", &r.type_presentation.code)?;
            text_element(&mut writer, "nom", &r.type_presentation.nom)?;
            writer.write_event(Event::End(BytesEnd::new("typePresentation")))?;
            for (name, terms) in [
                ("typePedagogique", r.type_pedagogique),
                ("typologieDocument", r.typologie_document),
                ("niveauEducatif", r.niveau_educatif),
                ("domaineEnseignement", r.domaine_enseignement),
            ] {
                for term in terms {
                    writer.write_event(Event::Start(BytesStart::new(name)))?;
                    text_element(&mut writer, "uri", &term.uri)?;
                    text_element(&mut writer, "nom", &term.nom)?;
                    writer.write_event(Event::End(BytesEnd::new(name)))?;
                }
            }
            text_element(&mut writer, "urlAccesRessource", &r.url_acces_ressource)?;
            text_element(&mut writer, "nomSourceEtiquetteGar", r.nom_source_etiquette_gar)?;
            text_element(&mut writer, "urlSourceEtiquette", r.url_source_etiquette)?;
            text_element(&mut writer, "distributeurTech", r.distributeur_tech)?;
            text_element(&mut writer, "validateurTech", r.validateur_tech)?;
            for school in &r.id_etablissement {
                writer.write_event(Event::Start(BytesStart::new("idEtablissement")))?;
                text_element(&mut writer, "UAI", school.uai)?;
                text_element(&mut writer, "nom", school.nom)?;
                writer.write_event(Event::End(BytesEnd::new("idEtablissement")))?;
            }
            writer.write_event(Event::End(BytesEnd::new("ressource")))?;
        }
        writer.write_event(Event::End(BytesEnd::new("listeRessources")))?;
        Ok(())
    })();
    result.expect("writing XML into memory cannot fail");
    writer.into_inner()
}

/// `<name>value</name>`, with `&`, `<` and `>` escaped (quotes need none in text).
pub(super) fn text_element<W: std::io::Write>(writer: &mut Writer<W>, name: &str, value: &str) -> std::io::Result<()> {
    writer.write_event(Event::Start(BytesStart::new(name)))?;
    writer.write_event(Event::Text(BytesText::from_escaped(partial_escape(value))))?;
    writer.write_event(Event::End(BytesEnd::new(name)))
}
