//! `<abonnement>`: read from a request body, written in answers (XML, or JSON on request).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use quick_xml::Writer;
use serde_json::{Map, Value, json};

use super::error::WsError;
use super::xml::{self, Element};
use crate::domain::subscription::{AssignmentType, Subscription, SubscriptionError, parse_gar_datetime};
use crate::domain::{LicenceCount, Public, SirenIsni, Uai};
use crate::store::subscriptions::StoredSubscription;

/// Elements that appear at most once, in the GAR order.
const SINGLE: [&str; 18] = [
    "idAbonnement",
    "commentaireAbonnement",
    "idDistributeurCom",
    "idRessource",
    "typeIdRessource",
    "libelleRessource",
    "debutValidite",
    "finValidite",
    "anneeFinValidite",
    "codeNatureUAI",
    "categorieAffectation",
    "typeAffectation",
    "nbLicenceEnseignant",
    "nbLicenceEleve",
    "nbLicenceProfDoc",
    "nbLicenceAutrePersonnel",
    "nbLicenceGlobale",
    "codeProjetRessource",
];

/// Reads an `<abonnement>` element. Elements may come in any order; an empty optional element
/// counts as absent (some clients write every element, filled or not). `uaiEtab` may be absent
/// (an update never carries it); the rules are checked later, by `Subscription::validate`.
pub fn read(root: &Element) -> Result<Subscription, WsError> {
    let mut single: HashMap<&'static str, &str> = HashMap::new();
    let (mut schools, mut publics) = (Vec::new(), Vec::new());
    for child in &root.children {
        if !child.children.is_empty() {
            return Err(WsError::Nested(child.name.clone()));
        }
        let text = child.text.as_str();
        match child.name.as_str() {
            "uaiEtab" if !text.is_empty() => schools.push(
                Uai::parse(text)
                    .map_err(|_| invalid("uaiEtab", text, "a UAI: 7 digits and a letter, e.g. 0561641E"))?,
            ),
            "publicCible" if !text.is_empty() => {
                publics.push(Public::parse(text).map_err(|_| {
                    invalid("publicCible", text, "ELEVE, ENSEIGNANT, DOCUMENTALISTE or AUTRE PERSONNEL")
                })?)
            }
            "uaiEtab" | "publicCible" => {}
            name => {
                let Some(name) = SINGLE.iter().find(|known| **known == name) else {
                    return Err(WsError::UnknownElement { parent: "abonnement", name: name.to_owned() });
                };
                if single.insert(name, text).is_some() {
                    return Err(WsError::Repeated((*name).to_owned()));
                }
            }
        }
    }
    let optional = |name: &str| single.get(name).copied().filter(|text| !text.is_empty());
    let required = |field: &'static str| optional(field).ok_or(SubscriptionError::Missing { field });
    let date = |field: &'static str| -> Result<Option<NaiveDateTime>, SubscriptionError> {
        optional(field)
            .map(|text| {
                parse_gar_datetime(text).ok_or_else(|| invalid(field, text, "a date-time like 2026-09-01T00:00:00"))
            })
            .transpose()
    };
    let count = |field: &'static str| -> Result<Option<LicenceCount>, SubscriptionError> {
        optional(field)
            .map(|text| LicenceCount::parse(text).map_err(|_| invalid(field, text, "a whole number or ILLIMITE")))
            .transpose()
    };
    let distributor = required("idDistributeurCom")?;
    let assignment_type = match required("typeAffectation")? {
        "INDIV" => AssignmentType::Individual,
        "ETABL" => AssignmentType::Establishment,
        other => return Err(SubscriptionError::AssignmentType(other.to_owned()).into()),
    };
    Ok(Subscription {
        id: required("idAbonnement")?.to_owned(),
        comment: optional("commentaireAbonnement").map(str::to_owned),
        distributor_id: SirenIsni::parse(distributor)
            .map_err(|_| SubscriptionError::Distributor(distributor.to_owned()))?,
        resource_id: required("idRessource")?.to_owned(),
        resource_id_type: required("typeIdRessource")?.to_owned(),
        resource_label: required("libelleRessource")?.to_owned(),
        valid_from: date("debutValidite")?.ok_or(SubscriptionError::Missing { field: "debutValidite" })?,
        valid_until: date("finValidite")?,
        end_school_year: optional("anneeFinValidite").map(str::to_owned),
        establishments: schools,
        nature_codes: optional("codeNatureUAI").map(str::to_owned),
        category: required("categorieAffectation")?.to_owned(),
        assignment_type,
        licences_teacher: count("nbLicenceEnseignant")?,
        licences_pupil: count("nbLicenceEleve")?,
        licences_librarian: count("nbLicenceProfDoc")?,
        licences_other_staff: count("nbLicenceAutrePersonnel")?,
        licences_global: count("nbLicenceGlobale")?,
        publics,
        project_code: optional("codeProjetRessource").map(str::to_owned),
    })
}

/// The `<abonnement>` body of a PUT or POST: the subscription the URL names, of the caller.
pub async fn read_request(
    payload: actix_web::web::Payload,
    path: String,
    distributor: &SirenIsni,
) -> Result<Subscription, WsError> {
    let body = xml::read_body(payload).await?;
    let sub = read(&xml::parse(&body, "abonnement")?)?;
    if sub.id != path {
        return Err(WsError::PathMismatch { path, body: sub.id });
    }
    if sub.distributor_id != *distributor {
        return Err(WsError::NotYours(sub.distributor_id.to_string()));
    }
    Ok(sub)
}

fn invalid(field: &'static str, value: &str, expected: &'static str) -> SubscriptionError {
    SubscriptionError::Invalid { field, value: value.to_owned(), expected }
}

/// How answers write date-times: the GAR's shape, with milliseconds and an offset
/// (`2021-09-02T16:18:27.000+02:00`); Sesame stores UTC, so the offset is `+00:00`. Clients parse
/// this exact shape (edumedia's `Y-m-d\TH:i:s.uT`).
pub fn format_datetime(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string()
}

/// The idAbonnement a stored subscription is listed under: a deleted one carries the `_` prefix
/// RG13 reserves for deleted subscriptions, so it never reads as the live one of the same id.
pub fn listed_id(stored: &StoredSubscription) -> String {
    match stored.deleted_at {
        Some(_) => format!("_{}", stored.subscription.id),
        None => stored.subscription.id.clone(),
    }
}

/// The fields of a subscription in the GAR order, as (element, values). Absent fields are left out.
fn fields(stored: &StoredSubscription) -> Vec<(&'static str, Vec<String>)> {
    let sub = &stored.subscription;
    let one = |value: Option<String>| value.into_iter().collect::<Vec<_>>();
    let count = |count: Option<LicenceCount>| one(count.map(|count| count.to_string()));
    vec![
        ("idAbonnement", vec![listed_id(stored)]),
        ("commentaireAbonnement", one(sub.comment.clone())),
        ("idDistributeurCom", vec![sub.distributor_id.to_string()]),
        ("idRessource", vec![sub.resource_id.clone()]),
        ("typeIdRessource", vec![sub.resource_id_type.clone()]),
        ("libelleRessource", vec![sub.resource_label.clone()]),
        ("debutValidite", vec![format_datetime(sub.valid_from)]),
        ("finValidite", one(sub.valid_until.map(format_datetime))),
        ("anneeFinValidite", one(sub.end_school_year.clone())),
        ("uaiEtab", sub.establishments.iter().map(Uai::to_string).collect()),
        ("codeNatureUAI", one(sub.nature_codes.clone())),
        ("categorieAffectation", vec![sub.category.clone()]),
        ("typeAffectation", vec![sub.assignment_type.code().to_owned()]),
        ("nbLicenceEnseignant", count(sub.licences_teacher)),
        ("nbLicenceEleve", count(sub.licences_pupil)),
        ("nbLicenceProfDoc", count(sub.licences_librarian)),
        ("nbLicenceAutrePersonnel", count(sub.licences_other_staff)),
        ("nbLicenceGlobale", count(sub.licences_global)),
        ("publicCible", sub.publics.iter().map(|public| public.code().to_owned()).collect()),
        ("codeProjetRessource", one(sub.project_code.clone())),
    ]
}

/// Writes `<abonnement>` (its namespace declared by `xmlns` when it is the root).
pub fn write(writer: &mut Writer<Vec<u8>>, stored: &StoredSubscription, xmlns: bool) {
    let mut element = writer.create_element("abonnement");
    if xmlns {
        element = element.with_attribute(("xmlns", xml::NS));
    }
    element
        .write_inner_content(|w| {
            for (name, values) in fields(stored) {
                for value in values {
                    xml::text_element(w, name, &value);
                }
            }
            Ok(())
        })
        .expect("writing to memory cannot fail");
}

/// The JSON form: the same names; `publicCible` always an array, `uaiEtab` a string for one
/// school and an array for several, counts as text like in XML.
pub fn to_json(stored: &StoredSubscription) -> Value {
    let mut object = Map::new();
    for (name, mut values) in fields(stored) {
        let value = match (name, values.len()) {
            (_, 0) => continue,
            ("publicCible", _) => json!(values),
            (_, 1) => Value::String(values.remove(0)),
            _ => json!(values),
        };
        object.insert(name.to_owned(), value);
    }
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscriptions::xml::{NS, parse};

    fn body(inner: &str) -> String {
        format!(r#"<?xml version="1.0" encoding="UTF-8"?><abonnement xmlns="{NS}">{inner}</abonnement>"#)
    }

    const DJANGO_GAR: &str = "<idAbonnement>briefme_0941295X_1709542737.2902117</idAbonnement>
       <idDistributeurCom>123456789_0000000000000000</idDistributeurCom>
       <idRessource>ark:/47198/briefme</idRessource>
       <typeIdRessource>ark</typeIdRessource>
       <libelleRessource>Brief.me</libelleRessource>
       <debutValidite>2024-03-04T10:12:13.987654</debutValidite>
       <finValidite>2025-08-15T00:00:00</finValidite>
       <uaiEtab>0941295X</uaiEtab>
       <categorieAffectation>transferable</categorieAffectation>
       <typeAffectation>INDIV</typeAffectation>
       <nbLicenceGlobale>ILLIMITE</nbLicenceGlobale>
       <publicCible>ELEVE</publicCible>
       <publicCible>ENSEIGNANT</publicCible>
       <publicCible>DOCUMENTALISTE</publicCible>
       <publicCible>AUTRE PERSONNEL</publicCible>";

    fn read_body(inner: &str) -> Result<Subscription, WsError> {
        read(&parse(body(inner).as_bytes(), "abonnement").unwrap())
    }

    #[test]
    fn reads_a_real_client_body() {
        let sub = read_body(DJANGO_GAR).unwrap();
        sub.validate().unwrap();
        assert_eq!(sub.id, "briefme_0941295X_1709542737.2902117");
        assert_eq!(sub.licences_global, Some(LicenceCount::Unlimited));
        assert_eq!(sub.publics.len(), 4);
        assert_eq!(sub.valid_from, parse_gar_datetime("2024-03-04T10:12:13").unwrap());
    }

    #[test]
    fn writes_what_it_reads() {
        let sub = read_body(DJANGO_GAR).unwrap();
        let stored = StoredSubscription {
            id: 1,
            subscription: sub.clone(),
            created_at: sub.valid_from,
            updated_at: sub.valid_from,
            deleted_at: None,
        };
        let mut writer = xml::writer();
        write(&mut writer, &stored, true);
        let written = String::from_utf8(writer.into_inner()).unwrap();
        assert!(written.contains("<debutValidite>2024-03-04T10:12:13.000+00:00</debutValidite>"), "{written}");
        assert_eq!(read(&parse(written.as_bytes(), "abonnement").unwrap()).unwrap(), sub);
        let json = to_json(&stored);
        assert_eq!(json["uaiEtab"], "0941295X");
        assert_eq!(json["publicCible"][3], "AUTRE PERSONNEL");
        assert_eq!(json["nbLicenceGlobale"], "ILLIMITE");
    }

    #[test]
    fn names_the_field_at_fault() {
        let rule = |inner: &str| match read_body(inner).unwrap_err() {
            WsError::Rule(error) => (error.rule().code(), error.field()),
            other => panic!("{other}"),
        };
        let without = |element: &str| {
            DJANGO_GAR.lines().filter(|line| !line.contains(&format!("<{element}>"))).collect::<Vec<_>>().join("\n")
        };
        assert_eq!(rule(&without("idRessource")), ("SCHEMA".into(), "idRessource"));
        let bad_distributor = DJANGO_GAR.replace("123456789_0000000000000000", "000000_0000000000000000");
        assert_eq!(rule(&bad_distributor), ("RG3".into(), "idDistributeurCom"));
        assert_eq!(rule(&DJANGO_GAR.replace(">INDIV<", ">INDIVIDUEL<")), ("RG4".into(), "typeAffectation"));
        assert_eq!(rule(&DJANGO_GAR.replace(">ILLIMITE<", ">beaucoup<")), ("SCHEMA".into(), "nbLicenceGlobale"));
        assert_eq!(rule(&DJANGO_GAR.replace(">ELEVE<", ">PARENT<")), ("SCHEMA".into(), "publicCible"));
        assert_eq!(rule(&DJANGO_GAR.replace(">0941295X<", ">0941295<")), ("SCHEMA".into(), "uaiEtab"));
        assert_eq!(rule(&DJANGO_GAR.replace("2025-08-15T00:00:00", "15/08/2025")), ("SCHEMA".into(), "finValidite"));
        assert!(matches!(
            read_body(&format!("{DJANGO_GAR}<nbLicence>3</nbLicence>")),
            Err(WsError::UnknownElement { .. })
        ));
        assert!(matches!(
            read_body(&format!("{DJANGO_GAR}<typeIdRessource>ark</typeIdRessource>")),
            Err(WsError::Repeated(_))
        ));
        // An empty optional element is absent.
        let empty_comment = format!("{DJANGO_GAR}<commentaireAbonnement/><codeProjetRessource></codeProjetRessource>");
        let sub = read_body(&empty_comment).unwrap();
        assert_eq!((sub.comment, sub.project_code), (None, None));
    }
}
