use std::io::Cursor;

use super::*;
use crate::feed::xml::records::{DroppedPart, Parsed, parse};
use crate::feed::xml::{FeedReader, FileError};

const NS: &str = "http://data.education.fr/ns/gar";

fn file(root: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<men:{root} xmlns:men=\"{NS}\" Version=\"1.0\">\n{body}\n</men:{root}>\n"
    )
}

/// A record parsed with the parts dropped from it, or the reason it was refused.
type Read = Result<(Parsed, Vec<DroppedPart>), Invalid>;

/// Every record of a file.
fn read(xml: &str) -> Result<Vec<Read>, FileError> {
    let mut reader = FeedReader::open(Cursor::new(xml.as_bytes().to_vec()))?;
    let (degree, file) = (reader.header().degree, reader.header().file_type);
    let mut out = Vec::new();
    while let Some(raw) = reader.next_record()? {
        let mut dropped = Vec::new();
        out.push(validate(&raw, degree, file).and_then(|r| parse(&r, degree, &mut dropped)).map(|p| (p, dropped)));
    }
    Ok(out)
}

const PUPIL: &str = "<men:GAREleve>
  <men:GARPersonIdentifiant>u-1</men:GARPersonIdentifiant>
  <men:GARPersonProfils><men:GARStructureUAI>0561641E</men:GARStructureUAI><men:GARPersonProfil>National_ELV</men:GARPersonProfil></men:GARPersonProfils>
  <men:GARPersonNom>DUPONT</men:GARPersonNom>
  <men:GARPersonPrenom>L&#233;a</men:GARPersonPrenom>
  <men:GARPersonAutresPrenoms>L&#xE9;a</men:GARPersonAutresPrenoms>
  <men:GARPersonAutresPrenoms><![CDATA[Marie & Anne]]></men:GARPersonAutresPrenoms>
  <men:GARPersonEtab>0561641e</men:GARPersonEtab>
  <men:GARPersonDateNaissance>2010-05-01</men:GARPersonDateNaissance>
</men:GAREleve>";

#[test]
fn reads_a_pupil_with_references_and_cdata() {
    let records = read(&file("GAR-ENT-Eleve", PUPIL)).unwrap();
    let (Parsed::Person(person), dropped) = records[0].clone().unwrap() else { panic!("{records:?}") };
    assert!(dropped.is_empty());
    assert_eq!(person.gar_id, "u-1");
    assert_eq!(person.first_name, "Léa");
    assert_eq!(person.other_first_names, ["Léa", "Marie & Anne"]);
    assert_eq!(person.establishments[0].as_str(), "0561641E");
    assert_eq!(person.profiles[0].profile, crate::domain::Profile::Pupil);
    assert_eq!(person.birth_date, chrono::NaiveDate::from_ymd_opt(2010, 5, 1));
}

#[test]
fn schema_violations_refuse_the_record_only() {
    let cases = [
        (PUPIL.replace("<men:GARPersonNom>DUPONT</men:GARPersonNom>\n", ""), "lacks `GARPersonNom`"),
        (PUPIL.replace("DUPONT", &"X".repeat(501)), "longer than 500"),
        (PUPIL.replace("2010-05-01", "01/05/2010"), "not a date"),
        (PUPIL.replace("0561641e", "561641E"), "is not a UAI"),
        (
            PUPIL.replace("<men:GARPersonNom>DUPONT", "<men:GARPersonNom>DUPONT</men:GARPersonNom><men:GARPersonNom>X"),
            "more than once",
        ),
        (
            PUPIL.replace(
                "<men:GARPersonDateNaissance>",
                "<men:GARPersonFoo>x</men:GARPersonFoo><men:GARPersonDateNaissance>",
            ),
            "unknown element",
        ),
        (
            PUPIL.replace(
                "<men:GARPersonNom>DUPONT</men:GARPersonNom>\n  <men:GARPersonPrenom>L&#233;a</men:GARPersonPrenom>",
                "<men:GARPersonPrenom>L</men:GARPersonPrenom><men:GARPersonNom>D</men:GARPersonNom>",
            ),
            "out of order",
        ),
        (PUPIL.replace("National_ELV", "National_TUT"), "no GARPersonProfils"),
        (PUPIL.replace("<men:GARPersonIdentifiant>u-1", "<men:GARPersonIdentifiant>"), "is empty"),
    ];
    for (pupil, expected) in cases {
        let records = read(&file("GAR-ENT-Eleve", &format!("{pupil}\n{PUPIL}"))).unwrap();
        let error = records[0].clone().unwrap_err();
        assert!(error.reason.contains(expected), "{expected}: {}", error.reason);
        assert!(records[1].is_ok(), "the next record still reads");
    }
}

#[test]
fn a_bad_profile_is_dropped_when_another_remains() {
    let pupil = PUPIL.replace(
        "</men:GARPersonProfils>",
        "</men:GARPersonProfils><men:GARPersonProfils><men:GARStructureUAI>0561641E</men:GARStructureUAI><men:GARPersonProfil>National_TUT</men:GARPersonProfil></men:GARPersonProfils>",
    );
    let records = read(&file("GAR-ENT-Eleve", &pupil)).unwrap();
    let (Parsed::Person(person), dropped) = records[0].clone().unwrap() else { panic!() };
    assert_eq!(person.profiles.len(), 1);
    assert_eq!(dropped.len(), 1);
    assert!(dropped[0].reason.contains("National_TUT"), "{:?}", dropped[0]);
}

#[test]
fn records_of_another_file_type_or_degree_are_refused() {
    let records = read(&file("GAR-ENT-Enseignant", PUPIL)).unwrap();
    assert!(records[0].clone().unwrap_err().reason.contains("not an element of GAR-ENT-Enseignant"));
    let first_degree = file("GAR-ENT-Etab", "<men:GARMEF><men:GARStructureUAI>0561641E</men:GARStructureUAI><men:GARMEFCode>1</men:GARMEFCode><men:GARMEFLibelle>x</men:GARMEFLibelle></men:GARMEF>")
        .replace(NS, "http://data.education.fr/ns/gar/1d");
    let records = read(&first_degree).unwrap();
    assert!(records[0].clone().unwrap_err().reason.contains("GARMEF` is not an element"));
}

#[test]
fn group_status_and_lines() {
    let xml = file(
        "GAR-ENT-Groupe",
        "<men:GARGroupe><men:GARGroupeCode>6A</men:GARGroupeCode><men:GARStructureUAI>0561641E</men:GARStructureUAI>\
         <men:GARGroupeLibelle>6A</men:GARGroupeLibelle><men:GARGroupeStatut>division</men:GARGroupeStatut></men:GARGroupe>\n\
         <men:GARGroupe><men:GARGroupeCode>X</men:GARGroupeCode><men:GARStructureUAI>0561641E</men:GARStructureUAI>\
         <men:GARGroupeLibelle>X</men:GARGroupeLibelle><men:GARGroupeStatut>CLASSE</men:GARGroupeStatut></men:GARGroupe>",
    );
    let records = read(&xml).unwrap();
    assert!(
        matches!(&records[0], Ok((Parsed::Group(g), _)) if g.status == crate::domain::directory::GroupStatus::Division)
    );
    let error = records[1].clone().unwrap_err();
    assert_eq!(error.line, 4);
    assert!(error.reason.contains("neither DIVISION nor GROUPE"));
}

#[test]
fn structural_failures_refuse_the_file() {
    let cases = [
        (file("GAR-ENT-Eleve", PUPIL).replace("</men:GAREleve>", ""), "not well-formed"),
        (file("GAR-ENT-Eleve", PUPIL).replace(NS, "http://example.org/gar"), "namespace"),
        (file("GAR-ENT-Eleve", PUPIL).replace("GAR-ENT-Eleve", "GAR-ENT-Parents"), "unknown root"),
        (file("GAR-ENT-Eleve", PUPIL).replace(" Version=\"1.0\"", ""), "Version"),
        (
            file("GAR-ENT-Eleve", PUPIL)
                .replace("<men:GAR-ENT-Eleve", "<!DOCTYPE x [<!ENTITY a \"b\">]>\n<men:GAR-ENT-Eleve"),
            "DTD",
        ),
        (file("GAR-ENT-Eleve", &PUPIL.replace("DUPONT", "&xxe;")), "undeclared entity"),
        (cut_after(&file("GAR-ENT-Eleve", PUPIL), "</men:GAREleve>"), "truncated"),
        (file("GAR-ENT-Eleve", PUPIL)[..300].to_owned(), "not well-formed"),
        (format!("{}<x/>", file("GAR-ENT-Eleve", PUPIL)), "after the root"),
        (file("GAR-ENT-Eleve", PUPIL).replace("UTF-8", "ISO-8859-1"), "encoding"),
        (file("GAR-ENT-Eleve", &format!("{}{}", "<men:a>".repeat(20), "</men:a>".repeat(20))), "deeper"),
        (file("GAR-ENT-Eleve", &PUPIL.replace("DUPONT", &"x".repeat(2 << 20))), "larger than"),
        (String::new(), "empty"),
    ];
    for (xml, expected) in cases {
        let error = read(&xml).unwrap_err();
        assert!(error.reason.contains(expected), "{expected}: {error}");
    }
}

fn cut_after(text: &str, marker: &str) -> String {
    let end = text.find(marker).unwrap() + marker.len();
    text[..end].to_owned()
}

#[test]
fn dates() {
    assert!(parse_date("2010-05-01").is_some());
    assert!(parse_date("2010-05-01Z").is_some());
    assert!(parse_date("2010-05-01+02:00").is_some());
    for bad in ["2010-5-1", "2010-02-30", "20100501", "2010-05-01T00:00", ""] {
        assert!(parse_date(bad).is_none(), "{bad}");
    }
}
