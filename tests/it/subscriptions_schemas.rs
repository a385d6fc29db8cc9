//! The published XSDs (`schema/`) describe what the abonnement web service accepts and answers:
//! every request body and every recorded answer of `contracts/distributor/` validates with xmllint
//! (libxml2, independent of Sesame's parser). The contracts test proves those answers are what a
//! running node sends.

use std::path::{Path, PathBuf};
use std::process::Command;

fn files(folder: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("contracts/distributor").join(folder);
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    found.sort();
    found
}

/// Validates `file` against `schema/{xsd}`; the error is xmllint's message.
fn validate(xsd: &str, file: &Path) -> Result<(), String> {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema").join(xsd);
    let output = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&schema)
        .arg(file)
        .output()
        .expect("xmllint runs (Debian package libxml2-utils, installed by scripts/test)");
    if output.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&output.stderr).into_owned()) }
}

#[test]
fn contract_bodies_and_answers_match_the_published_schemas() {
    let mut checked = 0;
    for file in files("bodies").into_iter().chain(files("answers")) {
        let xsd =
            if file.ends_with("answers/etablissements.xml") { "listEtablissement.xsd" } else { "wsabonnement.xsd" };
        validate(xsd, &file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        checked += 1;
    }
    assert!(checked >= 15, "{checked} files");
}

#[test]
fn the_schemas_are_not_vacuous() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.xml");
    let good =
        std::fs::read_to_string(files("answers").into_iter().find(|f| f.ends_with("django-gar-created.xml")).unwrap())
            .unwrap();
    for broken in [
        good.replace("<typeAffectation>ETABL</typeAffectation>", "<typeAffectation>CLASSE</typeAffectation>"),
        good.replace("<nbLicenceGlobale>ILLIMITE</nbLicenceGlobale>", "<nbLicenceGlobale>illimité</nbLicenceGlobale>"),
        good.replace("<idRessource>", "<idRessourceX>").replace("</idRessource>", "</idRessourceX>"),
        good.replace("999000101_0000000000000000", "000000_0000000000000000"),
    ] {
        std::fs::write(&bad, broken).unwrap();
        assert!(validate("wsabonnement.xsd", &bad).is_err());
    }
}
