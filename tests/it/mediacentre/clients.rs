//! What real ENT médiacentre clients do with an answer (GAR-INTERFACES §3.5), written as checks
//! that name the first thing that would break each client; applied to live answers on both
//! backends and to the golden exchanges in `contracts/ent/`.

use std::collections::BTreeMap;
use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Map, Value, json};

use super::*;

type Check = Result<(), String>;

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    value.as_object().ok_or_else(|| format!("{what} is not an object: {value}"))
}

fn string(resource: &Map<String, Value>, key: &str) -> Check {
    match resource.get(key) {
        Some(Value::String(_)) => Ok(()),
        other => Err(format!("`{key}` must be a string, got {other:?}")),
    }
}

/// `listeRessources.ressource`, both keys required (gar-connector dereferences them unchecked).
fn resources(body: &Value) -> Result<&Vec<Value>, String> {
    body.get("listeRessources")
        .and_then(|l| l.get("ressource"))
        .and_then(Value::as_array)
        .ok_or_else(|| format!("no listeRessources.ressource array: {body}"))
}

const VOCABULARIES: [&str; 4] = ["typePedagogique", "typologieDocument", "niveauEducatif", "domaineEnseignement"];

/// OPEN-ENT-NG gar-connector: `DefaultResourceService` reads `listeRessources.ressource`; the front's
/// `getValues` runs `resource[key].forEach(t => t.nom)` on the four vocabularies; `Event` posts
/// idRessource, nomRessource, nomEditeur, urlVignette, typePresentation and the four lists;
/// `open()` opens urlAccesRessource.
pub fn open_ent_ng(body: &Value) -> Check {
    for (n, resource) in resources(body)?.iter().enumerate() {
        let resource = object(resource, &format!("ressource[{n}]"))?;
        for key in ["idRessource", "nomRessource", "nomEditeur", "urlVignette", "urlAccesRessource"] {
            string(resource, key)?;
        }
        presentation(resource)?;
        for key in VOCABULARIES {
            let terms = resource.get(key).and_then(Value::as_array).ok_or(format!("`{key}` must be an array"))?;
            for term in terms {
                string(object(term, key)?, "nom")?;
            }
        }
    }
    Ok(())
}

/// OPEN-ENT-NG ressource-aggregator `GAR#format`: vert.x `getString`/`getJsonObject` throw on a
/// wrong type; `typePresentation.code` feeds a regex matcher (null would throw); lists default to
/// empty but their items' `nom` are read.
pub fn ressource_aggregator(body: &Value) -> Check {
    for resource in resources(body)? {
        let resource = object(resource, "ressource")?;
        for key in ["nomRessource", "nomEditeur", "urlVignette", "urlAccesRessource", "idRessource"] {
            string(resource, key)?;
        }
        presentation(resource)?;
        for key in ["domaineEnseignement", "niveauEducatif", "typologieDocument", "typePedagogique"] {
            for term in resource.get(key).and_then(Value::as_array).into_iter().flatten() {
                string(object(term, key)?, "nom")?;
            }
        }
    }
    Ok(())
}

/// GIP-RECIA MediaCentre-WS `Ressource`: the fields it documents as required, with their types;
/// the optional ones, when present, with theirs.
pub fn gip_recia(body: &Value) -> Check {
    for resource in resources(body)? {
        let resource = object(resource, "ressource")?;
        for key in [
            "distributeurTech",
            "idEditeur",
            "idRessource",
            "idType",
            "nomEditeur",
            "nomRessource",
            "nomSourceEtiquetteGar",
            "urlAccesRessource",
            "validateurTech",
        ] {
            string(resource, key)?;
        }
        presentation(resource)?;
        for key in ["urlSourceEtiquette", "urlVignette"] {
            if resource.contains_key(key) {
                string(resource, key)?;
            }
        }
        for key in VOCABULARIES {
            if let Some(terms) = resource.get(key) {
                for term in terms.as_array().ok_or(format!("`{key}` must be an array"))? {
                    let term = object(term, key)?;
                    string(term, "uri")?;
                    string(term, "nom")?;
                }
            }
        }
    }
    Ok(())
}

fn presentation(resource: &Map<String, Value>) -> Check {
    let presentation = object(resource.get("typePresentation").unwrap_or(&Value::Null), "typePresentation")?;
    string(presentation, "code")?;
    string(presentation, "nom")
}

/// The error body clients read (OPEN-ENT-NG surfaces `Erreur.Message`).
pub fn error_body(body: &Value) -> Check {
    let erreur = object(body.get("Erreur").unwrap_or(&Value::Null), "Erreur")?;
    for key in ["Code", "Message", "Resource"] {
        string(erreur, key)?;
    }
    Ok(())
}

const LACLASSE_SCALARS: [&str; 10] = [
    "idRessource",
    "idType",
    "nomRessource",
    "idEditeur",
    "nomEditeur",
    "urlVignette",
    "urlAccesRessource",
    "nomSourceEtiquetteGar",
    "distributeurTech",
    "validateurTech",
];

/// LaclasseService `GAR/Resources.cs`, step by step: the root's `ressource` children; each scalar
/// field from the single descendant of that name (`SingleOrDefault`: two would throw); the four
/// multi-valued fields as arrays of objects keyed by child name, absent when there are none. It
/// does not read `typePedagogique`.
pub fn laclasse_parse(xml: &str) -> Value {
    const MULTI: [&str; 4] = ["typePresentation", "typologieDocument", "niveauEducatif", "domaineEnseignement"];
    let root = parse_tree(xml);
    let mut out = Vec::new();
    for resource in root.children.iter().filter(|c| c.name == "ressource") {
        let mut json = Map::new();
        for name in LACLASSE_SCALARS {
            let found = resource.descendants().filter(|d| d.name == name).collect::<Vec<_>>();
            assert!(found.len() <= 1, "Laclasse's SingleOrDefault throws: {} `{name}` elements", found.len());
            if let Some(node) = found.first() {
                json.insert(name.into(), Value::String(node.text()));
            }
        }
        for name in MULTI {
            let nodes: Vec<&Node> = resource.children.iter().filter(|c| c.name == name).collect();
            if !nodes.is_empty() {
                let items = nodes
                    .iter()
                    .map(|n| {
                        Value::Object(n.children.iter().map(|c| (c.name.clone(), Value::String(c.text()))).collect())
                    })
                    .collect();
                json.insert(name.into(), Value::Array(items));
            }
        }
        out.push(Value::Object(json));
    }
    Value::Array(out)
}

/// What Laclasse keeps of a JSON listing: the same fields, in its shapes, for comparison.
pub fn as_laclasse_sees_json(resources: &Value) -> Value {
    let keep = |resource: &Value| {
        let mut json = Map::new();
        for (key, value) in resource.as_object().unwrap() {
            match key.as_str() {
                "typePedagogique" | "urlSourceEtiquette" | "idEtablissement" => {}
                "typePresentation" => {
                    json.insert(key.clone(), json!([value]));
                }
                "typologieDocument" | "niveauEducatif" | "domaineEnseignement" => {
                    if !value.as_array().unwrap().is_empty() {
                        json.insert(key.clone(), value.clone());
                    }
                }
                _ => {
                    json.insert(key.clone(), value.clone());
                }
            }
        }
        Value::Object(json)
    };
    Value::Array(resources.as_array().unwrap().iter().map(keep).collect())
}

struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn descendants(&self) -> Box<dyn Iterator<Item = &Node> + '_> {
        Box::new(self.children.iter().flat_map(|c| std::iter::once(c).chain(c.descendants())))
    }

    /// `XElement.Value`: the concatenated text of the element and its descendants.
    fn text(&self) -> String {
        let mut text = self.text.clone();
        for child in &self.children {
            text.push_str(&child.text());
        }
        text
    }
}

fn parse_tree(xml: &str) -> Node {
    let mut reader = Reader::from_str(xml);
    let mut stack = vec![Node { name: String::new(), text: String::new(), children: Vec::new() }];
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                let name = String::from_utf8(e.local_name().as_ref().as_bytes().to_vec()).unwrap();
                stack.push(Node { name, text: String::new(), children: Vec::new() });
            }
            Event::Empty(e) => {
                let name = String::from_utf8(e.local_name().as_ref().as_bytes().to_vec()).unwrap();
                stack.last_mut().unwrap().children.push(Node { name, text: String::new(), children: Vec::new() });
            }
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved = match &*r.xml10_content() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "apos" => "'",
                    "quot" => "\"",
                    other => panic!("unexpected entity {other}"),
                };
                stack.last_mut().unwrap().text.push_str(resolved);
            }
            Event::End(_) => {
                let node = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(node);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut document = stack.pop().unwrap();
    assert_eq!(document.children.len(), 1, "one root element");
    document.children.pop().unwrap()
}

/// The JSON type of each key of a real answer's resource, nested values included.
fn shape(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(items) => Value::Array(items.first().map(shape).into_iter().collect()),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => json!("null"),
    }
}

/// Every resource has the keys of the GAR's real answers, with the same JSON types. Only
/// `description`, which appears in GIP-RECIA's mock data and never in real GAR answers, may miss.
pub fn like_real_samples(body: &Value) -> Check {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-samples");
    let mut expected: BTreeMap<String, Value> = BTreeMap::new();
    for file in ["gar_reponse_0377777U.json", "gar_reponse_0450822X.json"] {
        let sample: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
        for resource in resources(&sample)? {
            for (key, value) in object(resource, file)? {
                // The shape of a non-empty list, whichever sample has one.
                let entry = expected.entry(key.clone()).or_insert_with(|| shape(value));
                if entry.as_array().is_some_and(Vec::is_empty) {
                    *entry = shape(value);
                }
            }
        }
    }
    expected.remove("description");
    for resource in resources(body)? {
        let resource = object(resource, "ressource")?;
        for (key, expected_shape) in &expected {
            let actual = resource.get(key).ok_or(format!("`{key}` missing"))?;
            let actual_shape = shape(actual);
            let comparable = actual_shape == *expected_shape
                || (actual.as_array().is_some_and(Vec::is_empty) && expected_shape.is_array());
            if !comparable {
                return Err(format!("`{key}`: {actual_shape} where the GAR sends {expected_shape}"));
            }
        }
        let extra: Vec<&String> =
            resource.keys().filter(|k| !expected.contains_key(*k) && k.as_str() != "idEtablissement").collect();
        if !extra.is_empty() {
            return Err(format!("keys the GAR never sends: {extra:?}"));
        }
    }
    Ok(())
}

fn every_json_check(body: &Value) -> Check {
    open_ent_ng(body).map_err(|e| format!("OPEN-ENT-NG gar-connector: {e}"))?;
    ressource_aggregator(body).map_err(|e| format!("OPEN-ENT-NG ressource-aggregator: {e}"))?;
    gip_recia(body).map_err(|e| format!("GIP-RECIA MediaCentre-WS: {e}"))?;
    like_real_samples(body).map_err(|e| format!("real GAR samples: {e}"))
}

#[test]
fn the_checks_accept_the_real_samples_and_catch_broken_answers() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-samples");
    for file in ["gar_reponse_0377777U.json", "gar_reponse_0450822X.json"] {
        let sample: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
        open_ent_ng(&sample).unwrap();
        ressource_aggregator(&sample).unwrap();
        gip_recia(&sample).unwrap();
    }
    let erreur: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("gar_reponse_erreur.json")).unwrap()).unwrap();
    error_body(&erreur).unwrap();

    let good = json!({"listeRessources": {"ressource": [{
        "idRessource": "ark:/1/x", "idType": "ARK", "nomRessource": "X", "idEditeur": "e", "nomEditeur": "E",
        "urlVignette": "", "typePresentation": {"code": "MAN", "nom": "manuels"}, "typePedagogique": [],
        "typologieDocument": [], "niveauEducatif": [{"uri": "u", "nom": "n"}], "domaineEnseignement": [],
        "urlAccesRessource": "https://x", "nomSourceEtiquetteGar": "GAR", "urlSourceEtiquette": "",
        "distributeurTech": "d", "validateurTech": "v"
    }]}});
    every_json_check(&good).unwrap();
    let broken = |path: &[&str], value: Value| {
        let mut body = good.clone();
        let resource = &mut body["listeRessources"]["ressource"][0];
        match path {
            [key] => resource[*key] = value,
            [key, inner] => resource[*key][*inner] = value,
            _ => unreachable!(),
        }
        body
    };
    assert!(open_ent_ng(&broken(&["niveauEducatif"], Value::Null)).is_err(), "a null list breaks forEach");
    assert!(open_ent_ng(&broken(&["urlVignette"], Value::Null)).is_err());
    assert!(ressource_aggregator(&broken(&["typePresentation", "code"], Value::Null)).is_err());
    assert!(gip_recia(&broken(&["validateurTech"], json!(3))).is_err());
    assert!(like_real_samples(&broken(&["domaineEnseignement"], json!("maths"))).is_err());
    assert!(open_ent_ng(&json!({"ressource": []})).is_err(), "the wrapper is required");
    assert!(every_json_check(&json!({"listeRessources": {"ressource": []}})).is_ok());
}

crate::storage_test! {
    async fn real_clients_accept_every_answer(db) {
        let demo = Demo::start(&db).await;
        let conn = &mut demo.app.conn();
        let people = [
            (person(conn, COLLEGE, "National_elv", Some("6A")), COLLEGE),
            ("z0-ens-0001".to_owned(), COLLEGE),
            ("z0-doc-0002".to_owned(), LYCEE),
            (person(conn, "0990003R", "National_elv", Some("2MRC-G1")), "0990003R"),
        ];
        for (gar_id, uai) in &people {
            let path = format!("/ressources/Z0/{uai}/{gar_id}");
            let answer = demo.listing(&demo.z0, &path, &[("Accept", "application/json")]).await;
            assert_eq!(answer.status, StatusCode::OK);
            let body = answer.json();
            assert!(!resources(&body).unwrap().is_empty(), "{path}");
            every_json_check(&body).unwrap_or_else(|e| panic!("{path}: {e}"));

            let xml = demo.listing(&demo.z0, &path, &[("Accept", "application/xml")]).await;
            assert_eq!(laclasse_parse(&xml.text()), as_laclasse_sees_json(&body["listeRessources"]["ressource"]), "{path}");
        }
        let all = demo.listing(&demo.z0, &format!("/ressources/Z0/-/{}", people[0].0), &[]).await;
        every_json_check(&all.json()).unwrap();
        let xml = demo.listing(&demo.z0, &format!("/ressources/Z0/-/{}", people[0].0), &[("Accept", "application/xml")]).await;
        assert_eq!(laclasse_parse(&xml.text()), as_laclasse_sees_json(&all.json()["listeRessources"]["ressource"]));

        let refused = demo.listing(&demo.z0, &format!("/ressources/Z0/{LYCEE}/{}", people[0].0), &[]).await;
        error_body(&refused.json()).unwrap();
    }
}

/// The golden exchanges of `contracts/ent/` hold what the clients need too (a contract cannot be
/// recorded with a shape they would reject).
#[test]
fn the_golden_exchanges_satisfy_the_clients() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts/ent");
    let mut listings = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let contract: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for step in contract["steps"].as_array().unwrap() {
            let listing_path = step["request"]["path"].as_str().unwrap().starts_with("/ressources/");
            if !listing_path {
                continue;
            }
            let response = &step["response"];
            let file = path.display();
            match (response["status"].as_u64().unwrap(), response.get("json"), response.get("text_file")) {
                (200, Some(body), _) => {
                    every_json_check(body).unwrap_or_else(|e| panic!("{file}: {e}"));
                    listings += 1;
                }
                (200, None, Some(xml)) => {
                    let xml = std::fs::read_to_string(dir.join(xml.as_str().unwrap())).unwrap();
                    let parsed = laclasse_parse(&xml);
                    assert!(!parsed.as_array().unwrap().is_empty(), "{file}");
                    for resource in parsed.as_array().unwrap() {
                        for key in LACLASSE_SCALARS {
                            assert!(resource.get(key).is_some(), "{file}: Laclasse finds no {key} in {resource}");
                        }
                    }
                    listings += 1;
                }
                (400..=599, Some(body), _) => error_body(body).unwrap_or_else(|e| panic!("{file}: {e}")),
                _ => {}
            }
        }
    }
    assert!(listings >= 3, "contracts/ent/ records JSON and XML listings ({listings} found)");
}
