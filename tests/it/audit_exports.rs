//! The four signed exports on the demo académie, from the CLI and from the auditor API: content,
//! signatures (checked by `sesame audit verify-export` and independently by openssl), and the
//! `export.created` event each one leaves.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::Engine;
use diesel::prelude::*;
use serde_json::Value;
use sesame::audit::signature::{SignatureFile, sha256_hex};
use sesame::demo;
use sesame::domain::audit::AuditEvent;
use sesame::domain::pseudonym::Pseudonyms;
use sesame::pki::{LocalAuthority, TlsPaths};
use sesame::store::schema::{audit_events, persons};
use sesame::store::{AnyConnection, audit, auditors};

use crate::audit_support::*;
use crate::common::{TestApp, TestDb};

/// The traces the exports are checked against, appended on top of the demo académie.
struct Traces {
    pupil: String,
    pupil_subject: String,
    classmate_subject: String,
}

fn at_days_ago(conn: &mut AnyConnection, event: &AuditEvent, days: i64) {
    audit::append_at(conn, event, days_ago(days)).unwrap();
}

/// Demo académie, release contracts, and releases for two pupils of the collège.
fn demo_with_traces(conn: &mut AnyConnection, pseudonyms: &Pseudonyms) -> Traces {
    demo::load(conn).unwrap();
    let sp = service_provider(conn, PUBLISHER, PUBLISHER_SP);
    let v1 = contract(conn, sp, 1, &["IDO", "UAI", "PRO"], "RETIRED", Some(days_ago(300)));
    let v2 = contract(conn, sp, 2, &["IDO", "UAI", "PRO", "DIV"], "APPROVED", Some(days_ago(100)));
    let v3 = contract(conn, sp, 3, &["IDO", "UAI", "PRO", "DIV", "NOM"], "DRAFT", None);
    let other_sp = service_provider(conn, OTHER_PUBLISHER, OTHER_SP);
    let other = contract(conn, other_sp, 1, &["IDO", "UAI"], "APPROVED", Some(days_ago(300)));

    let (pupil, classmate) = ("z0-elv-0001", "z0-elv-0002");
    let (p1, p2) = (pseudonyms.audit_subject("Z0", pupil), pseudonyms.audit_subject("Z0", classmate));
    let college = "0990001N";
    let maths = |subject: &str, contract: (i64, i64), attributes: &[&str]| {
        release(subject, college, MATHS6, PUBLISHER, PUBLISHER_SP, contract, attributes)
    };
    at_days_ago(conn, &maths(&p1, (v1, 1), &["IDO", "UAI", "PRO"]), 400);
    at_days_ago(conn, &maths(&p1, (v1, 1), &["IDO", "UAI", "PRO"]), 200);
    at_days_ago(conn, &maths(&p1, (v2, 2), &["IDO", "UAI", "PRO", "DIV"]), 50);
    at_days_ago(conn, &maths(&p1, (v2, 2), &["IDO", "UAI", "PRO", "NOM"]), 20);
    at_days_ago(conn, &release(&p1, college, ENCYCLO, OTHER_PUBLISHER, OTHER_SP, (other, 1), &["IDO", "UAI"]), 10);
    at_days_ago(conn, &turnaway(&p1, college, "ark:/99999/demo.francais3", PUBLISHER), 5);
    at_days_ago(conn, &maths(&p2, (v2, 2), &["UAI", "IDO", "PRO"]), 30);
    at_days_ago(conn, &maths(&p2, (v3, 3), &["IDO", "UAI", "PRO", "NOM"]), 15);
    // Another school's release, and events that are not access traces.
    let lycee = release("p-someone-else", "0990002P", MATHS6, PUBLISHER, PUBLISHER_SP, (v2, 2), &["IDO"]);
    at_days_ago(conn, &lycee, 12);
    let assignment = AuditEvent::new(
        sesame::domain::audit::AuditKind::AssignmentCreated,
        sesame::domain::audit::Actor::manager("Z0", "z0-doc-0001"),
        serde_json::json!({ "subscription": 1, "target": "DIVISION:6A", "seats": 18 }),
    )
    .ent("Z0")
    .uai(college);
    at_days_ago(conn, &assignment, 40);
    let seat = AuditEvent::new(
        sesame::domain::audit::AuditKind::SeatGranted,
        sesame::domain::audit::Actor::ent("Z0"),
        serde_json::json!({ "subscription": 1 }),
    )
    .ent("Z0")
    .uai(college)
    .subject(&p1);
    at_days_ago(conn, &seat, 40);
    Traces { pupil: pupil.into(), pupil_subject: p1, classmate_subject: p2 }
}

/// The files an export command printed, JSON first.
fn exported(out: &str) -> (PathBuf, PathBuf) {
    let paths: Vec<PathBuf> = out.lines().map(PathBuf::from).collect();
    assert_eq!(paths.len(), 4, "json, json.sig, csv, csv.sig: {out}");
    for path in &paths {
        assert!(path.is_file(), "{}", path.display());
    }
    assert!(paths[0].extension().unwrap() == "json" && paths[2].extension().unwrap() == "csv", "{out}");
    (paths[0].clone(), paths[2].clone())
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The CSV's rows, after checking it is what a French spreadsheet opens: BOM, `;`, CRLF.
fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 byte-order mark");
    assert!(std::str::from_utf8(&bytes).unwrap().contains("\r\n"));
    csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .from_reader(&bytes[3..])
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// `sesame audit verify-export` accepts the file, and openssl agrees, knowing nothing of Sesame.
fn assert_signed(data: &Path, db: &TestDb, file: &Path) {
    let out = ok(sesame(data, db, &["audit", "verify-export", file.to_str().unwrap()]));
    assert!(out.starts_with("valid: "), "{out}");
    let sig = SignatureFile::parse(&std::fs::read_to_string(format!("{}.sig", file.display())).unwrap()).unwrap();
    assert_eq!(sig.sha256, sha256_hex(&std::fs::read(file).unwrap()));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cert.pem"), &sig.certificate).unwrap();
    std::fs::write(
        dir.path().join("sig.bin"),
        base64::engine::general_purpose::STANDARD.decode(&sig.signature).unwrap(),
    )
    .unwrap();
    let pubkey = std::process::Command::new("openssl")
        .args(["x509", "-in", "cert.pem", "-pubkey", "-noout", "-out", "pub.pem"])
        .current_dir(dir.path())
        .status()
        .expect("openssl is installed (scripts/test installs it)");
    assert!(pubkey.success());
    let verified = std::process::Command::new("openssl")
        .args(["dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.bin"])
        .arg(file)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&verified.stdout).trim(), "Verified OK", "{}", stderr(&verified));
}

/// The `export.created` event that names this file.
fn export_event(conn: &mut AnyConnection, file: &Path) -> (Option<String>, Option<String>, String, Value) {
    let name = file.file_name().unwrap().to_str().unwrap();
    let rows: Vec<(Option<String>, Option<String>, String, String)> = audit_events::table
        .filter(audit_events::kind.eq("export.created"))
        .select((audit_events::subject, audit_events::uai, audit_events::actor, audit_events::details))
        .load(conn)
        .unwrap();
    let (subject, uai, actor, details) =
        rows.into_iter().find(|row| row.3.contains(name)).unwrap_or_else(|| panic!("no export.created for {name}"));
    (subject, uai, actor, serde_json::from_str(&details).unwrap())
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

crate::storage_test! {
    fn exports_are_complete_signed_and_audited(db) {
        let data = tempfile::tempdir().unwrap();
        let out_dir = data.path().join("exports");
        let out = out_dir.to_str().unwrap();
        let conn = &mut db.connect();
        let traces = demo_with_traces(conn, &pseudonyms(data.path()));

        // 1. Data-subject access.
        let printed = ok(sesame(data.path(), &db, &["audit", "export", "data-subject", "--ent", "Z0", "--gar-id", &traces.pupil, "--out", out]));
        let (json_path, csv_path) = exported(&printed);
        let export = read_json(&json_path);
        let (last_name, first_name, person_id): (String, String, i64) = persons::table
            .filter(persons::gar_id.eq(&traces.pupil))
            .select((persons::last_name, persons::first_name, persons::id))
            .first(conn)
            .unwrap();
        assert_eq!(export["document"]["kind"], "data-subject");
        assert_eq!(export["document"]["auditPseudonym"], traces.pupil_subject.as_str());
        assert_eq!(export["identity"]["personId"], traces.pupil.as_str());
        assert_eq!(export["identity"]["lastName"], last_name.as_str());
        assert_eq!(export["identity"]["firstName"], first_name.as_str());
        assert_eq!(export["identity"]["directory"], "ELEVE");
        let schools: Vec<&str> = export["schools"].as_array().unwrap().iter().map(|s| s["uai"].as_str().unwrap()).collect();
        assert_eq!(schools, ["0990001N"]);
        assert_eq!(strings(&export["schools"][0]["profiles"]), ["National_elv"]);
        assert_eq!(export["schools"][0]["name"], "Collège des Tilleuls");
        let groups = export["classesAndGroups"].as_array().unwrap();
        assert_eq!(groups.len() as i64, count(conn, &format!("SELECT COUNT(*) AS n FROM person_groups WHERE person_id = {person_id}")));
        assert!(groups.iter().any(|g| g["kind"] == "DIVISION"), "a pupil is in a class: {groups:?}");
        let levels = export["teaching"]["levels"].as_array().unwrap();
        assert_eq!(levels.len() as i64, count(conn, &format!("SELECT COUNT(*) AS n FROM person_mefs WHERE person_id = {person_id}")));
        // Entitlements: the seats held, and the encyclopaedia given school-wide to pupils.
        let seats = count(conn, &format!("SELECT COUNT(*) AS n FROM assignment_seats WHERE person_id = {person_id} AND status <> 'RELEASED'"));
        let entitlements = export["entitlements"].as_array().unwrap();
        assert_eq!(entitlements.iter().filter(|e| e["access"] == "seat").count() as i64, seats);
        let school_wide: Vec<&Value> = entitlements.iter().filter(|e| e["access"] == "school-wide").collect();
        assert_eq!(school_wide.len(), 1, "{entitlements:?}");
        assert_eq!(school_wide[0]["resource"], ENCYCLO);
        assert_eq!(school_wide[0]["profile"], "National_elv");
        assert_eq!(school_wide[0]["subscription"]["type"], "ETABL");
        assert_eq!(export["seats"].as_array().unwrap().len() as i64, count(conn, &format!("SELECT COUNT(*) AS n FROM assignment_seats WHERE person_id = {person_id}")));
        // Every release with its publisher, resource, attribute names and contract version.
        let releases = export["releases"].as_array().unwrap();
        assert_eq!(releases.len(), 5);
        let newest = releases.iter().find(|r| r["resource"] == ENCYCLO).unwrap();
        assert_eq!(newest["publisher"], OTHER_PUBLISHER);
        assert_eq!(newest["serviceProvider"], OTHER_SP);
        assert_eq!(strings(&newest["attributes"]), ["IDO", "UAI"]);
        assert_eq!(newest["contract"]["version"], 1);
        assert_eq!(newest["schoolName"], "Collège des Tilleuls");
        let beyond = releases.iter().find(|r| strings(&r["attributes"]).contains(&"NOM".to_owned())).unwrap();
        assert_eq!((beyond["contract"]["version"].as_i64(), beyond["publisherName"].as_str()), (Some(2), Some("Éditions Démo Savoirs")));
        assert_eq!(beyond["resourceName"], "Mathématiques 6e — manuel numérique élève");
        assert_eq!(export["turnaways"].as_array().unwrap().len(), 1);
        let recipients = export["recipients"].as_array().unwrap();
        assert_eq!(recipients.iter().map(|r| (r["publisher"].as_str().unwrap(), r["releases"].as_u64().unwrap())).collect::<Vec<_>>(),
            [(PUBLISHER, 4), (OTHER_PUBLISHER, 1)]);
        assert_eq!(export["otherEvents"].as_array().unwrap().len(), 1, "the seat granted");
        assert_eq!(export["otherEvents"][0]["kind"], "seat.granted");
        assert_eq!(export["retention"]["releaseTracesDays"], 365);
        assert_eq!(export["labels"]["releases"], "Transmissions aux éditeurs / Data sent to publishers");
        let text = std::fs::read_to_string(&json_path).unwrap();
        assert!(!text.contains(&traces.classmate_subject), "nothing about the classmate");
        // The CSV: one row per fact, readable labels.
        let rows = read_csv(&csv_path);
        assert_eq!(rows[0], ["Rubrique / Section", "Date (UTC)", "Élément / Item", "Valeur / Value"]);
        assert!(rows.iter().any(|r| r[0] == "Identité / Identity" && r[2] == "Nom / Last name" && r[3] == last_name));
        let release_rows: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "Transmissions aux éditeurs / Data sent to publishers").collect();
        assert_eq!(release_rows.len(), 5);
        let beyond_value = format!("Attributs / Attributes: IDO, NOM, PRO, UAI; contrat / contract {} v2", beyond["contract"]["id"]);
        assert!(
            release_rows.iter().any(|r| r[2] == "Mathématiques 6e — manuel numérique élève — Éditions Démo Savoirs" && r[3] == beyond_value),
            "{release_rows:?}"
        );
        for file in [&json_path, &csv_path] {
            assert_signed(data.path(), &db, file);
        }
        // Audited with the pseudonym and the files' hashes, never the identity.
        let (subject, _, actor, details) = export_event(conn, &json_path);
        assert_eq!((subject.as_deref(), actor.as_str()), (Some(traces.pupil_subject.as_str()), "operator:cli"));
        assert_eq!(details["export"], "data-subject");
        let files = details["files"].as_array().unwrap();
        assert_eq!(files[0]["sha256"], sha256_hex(&std::fs::read(&json_path).unwrap()).as_str());
        assert_eq!(files[1]["sha256"], sha256_hex(&std::fs::read(&csv_path).unwrap()).as_str());
        let raw = details.to_string();
        assert!(!raw.contains(&traces.pupil) && !raw.contains(&last_name), "{raw}");

        // A changed byte, a renamed signature or an unknown key: rejected, exit 1.
        let tampered = out_dir.join("tampered.json");
        std::fs::write(&tampered, text.replacen(&last_name, "Martin-Faux", 1)).unwrap();
        std::fs::copy(format!("{}.sig", json_path.display()), format!("{}.sig", tampered.display())).unwrap();
        let refused = sesame(data.path(), &db, &["audit", "verify-export", tampered.to_str().unwrap()]);
        assert_eq!(refused.status.code(), Some(1));
        assert!(stderr(&refused).contains("the file was changed after signing"), "{}", stderr(&refused));
        let elsewhere = tempfile::tempdir().unwrap();
        keys(elsewhere.path());
        let foreign_cert = elsewhere.path().join("keys/signing.pem");
        let untrusted = sesame(data.path(), &db, &["audit", "verify-export", json_path.to_str().unwrap(), "--cert", foreign_cert.to_str().unwrap()]);
        assert_eq!(untrusted.status.code(), Some(1));
        assert!(stderr(&untrusted).contains("which is not a trusted Sesame signing key"), "{}", stderr(&untrusted));
        let own_cert = data.path().join("keys/signing.pem");
        ok(sesame(data.path(), &db, &["audit", "verify-export", json_path.to_str().unwrap(), "--cert", own_cert.to_str().unwrap()]));

        let unknown = sesame(data.path(), &db, &["audit", "export", "data-subject", "--ent", "Z0", "--gar-id", "nobody", "--out", out]);
        assert_eq!(unknown.status.code(), Some(1));
        assert!(stderr(&unknown).contains("no person `nobody` in ENT project Z0"), "{}", stderr(&unknown));

        // 2. Publisher release report: the last 250 days leave out the release of 400 days ago.
        let (from, to) = (days_ago(250).date().to_string(), now().date().to_string());
        let printed = ok(sesame(data.path(), &db, &["audit", "export", "publisher-releases", "--publisher", PUBLISHER, "--from", &from, "--to", &to, "--out", out]));
        let (json_path, csv_path) = exported(&printed);
        let report = read_json(&json_path);
        let summary = &report["summary"];
        assert_eq!(
            (summary["releases"].as_u64(), summary["withinContract"].as_u64(), summary["beyondContract"].as_u64(),
             summary["contractNotApproved"].as_u64(), summary["unknownContract"].as_u64(), summary["turnaways"].as_u64()),
            (Some(6), Some(4), Some(1), Some(1), Some(0), Some(1)),
            "{summary}"
        );
        assert_eq!(summary["schools"], 2);
        assert!(summary["conclusion"].as_str().unwrap().contains("Some releases went beyond an approved contract"));
        let groups: Vec<(String, i64, Vec<String>, u64, String)> = report["releases"].as_array().unwrap().iter().map(|g| (
            g["uai"].as_str().unwrap().to_owned(),
            g["contract"]["version"].as_i64().unwrap(),
            strings(&g["attributes"]),
            g["count"].as_u64().unwrap(),
            g["conformity"].as_str().unwrap().to_owned(),
        )).collect();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(groups, [
            ("0990001N".into(), 1, s(&["IDO", "PRO", "UAI"]), 1, "within-contract".into()),
            ("0990001N".into(), 2, s(&["DIV", "IDO", "PRO", "UAI"]), 1, "within-contract".into()),
            ("0990001N".into(), 2, s(&["IDO", "NOM", "PRO", "UAI"]), 1, "beyond-contract".into()),
            ("0990001N".into(), 2, s(&["IDO", "PRO", "UAI"]), 1, "within-contract".into()),
            ("0990001N".into(), 3, s(&["IDO", "NOM", "PRO", "UAI"]), 1, "contract-not-approved".into()),
            ("0990002P".into(), 2, s(&["IDO"]), 1, "within-contract".into()),
        ]);
        let beyond_row = report["releases"].as_array().unwrap().iter().find(|g| g["conformity"] == "beyond-contract").unwrap();
        assert_eq!(strings(&beyond_row["beyondContract"]), ["NOM"]);
        assert_eq!(report["contracts"].as_array().unwrap().len(), 3, "every version, drafts included");
        let rows = read_csv(&csv_path);
        assert_eq!(rows.len(), 7);
        assert_eq!(rows[3][7..], ["beyond-contract".to_owned(), "NOM".to_owned()]);
        assert_signed(data.path(), &db, &json_path);
        assert_signed(data.path(), &db, &csv_path);
        let (_, _, _, details) = export_event(conn, &json_path);
        assert_eq!(details["about"]["publisher"], PUBLISHER);
        let unknown = sesame(data.path(), &db, &["audit", "export", "publisher-releases", "--publisher", "000000000_0000000000000000", "--from", &from, "--to", &to]);
        assert!(stderr(&unknown).contains("no publisher `000000000_0000000000000000`"), "{}", stderr(&unknown));
        let backwards = sesame(data.path(), &db, &["audit", "export", "publisher-releases", "--publisher", PUBLISHER, "--from", &to, "--to", &from]);
        assert!(stderr(&backwards).contains("before it starts"), "{}", stderr(&backwards));

        // 3. Processing register: approved and retired contracts, not drafts.
        let printed = ok(sesame(data.path(), &db, &["audit", "export", "processing-register", "--out", out]));
        let (json_path, csv_path) = exported(&printed);
        let register = read_json(&json_path);
        let recipients = register["recipients"].as_array().unwrap();
        assert_eq!(recipients.len(), 2);
        assert_eq!(recipients[0]["publisher"], PUBLISHER);
        assert_eq!(recipients[0]["publisherName"], "Éditions Démo Savoirs");
        assert_eq!(recipients[0]["serviceProvider"], PUBLISHER_SP);
        let versions: Vec<(i64, &str)> = recipients[0]["contracts"].as_array().unwrap().iter()
            .map(|c| (c["version"].as_i64().unwrap(), c["status"].as_str().unwrap())).collect();
        assert_eq!(versions, [(1, "RETIRED"), (2, "APPROVED")]);
        let v2 = &recipients[0]["contracts"][1];
        assert_eq!(strings(&v2["purposes"]), ["Accès au manuel numérique", "Suivi de la progression de l'élève"]);
        assert_eq!(strings(&v2["dataCategories"]), ["Identifiant pseudonyme", "Établissement", "Profil"]);
        assert_eq!(strings(&v2["attributes"]), ["IDO", "UAI", "PRO", "DIV"]);
        assert_eq!((v2["retentionDays"].as_i64(), v2["approvedBy"].as_str()), (Some(365), Some("dpo-academie")));
        assert_eq!(register["processing"]["retention"]["releaseTracesDays"], 365);
        let rows = read_csv(&csv_path);
        assert_eq!(rows.len(), 4, "header and three contract versions");
        assert_eq!(rows[2][7], "IDO, UAI, PRO, DIV");
        assert_signed(data.path(), &db, &json_path);
        assert_signed(data.path(), &db, &csv_path);

        // 4. School activity from 100 days ago to yesterday: the demo load's own events of today stay out.
        let (from, to) = (days_ago(100).date().to_string(), days_ago(1).date().to_string());
        let printed = ok(sesame(data.path(), &db, &["audit", "export", "establishment-activity", "--uai", "0990001N", "--from", &from, "--to", &to, "--out", out]));
        let (json_path, csv_path) = exported(&printed);
        let activity = read_json(&json_path);
        assert_eq!(activity["document"]["name"], "Collège des Tilleuls");
        assert_eq!(activity["summary"]["events"], 8);
        assert_eq!(activity["summary"]["byKind"], serde_json::json!({ "release": 5, "turnaway": 1, "assignment.created": 1, "seat.granted": 1 }));
        assert_eq!(activity["summary"]["peopleWithReleases"], 2);
        let releases: Vec<(&str, u64, u64)> = activity["releases"].as_array().unwrap().iter()
            .map(|r| (r["resource"].as_str().unwrap(), r["count"].as_u64().unwrap(), r["people"].as_u64().unwrap())).collect();
        assert_eq!(releases, [(MATHS6, 4, 2), (ENCYCLO, 1, 1)]);
        assert_eq!(activity["turnaways"][0]["resource"], "ark:/99999/demo.francais3");
        let changes = activity["changes"].as_array().unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!((changes[0]["kind"].as_str(), changes[0]["actor"].as_str()), (Some("assignment.created"), Some("manager:Z0/z0-doc-0001")));
        assert_eq!(changes[0]["details"]["seats"], 18);
        let rows = read_csv(&csv_path);
        let release_total: u64 = rows.iter().filter(|r| r[1] == "release").map(|r| r[5].parse::<u64>().unwrap()).sum();
        assert_eq!(release_total, 5);
        assert!(rows.iter().any(|r| r[1] == "assignment.created" && r[2] == "manager:Z0/z0-doc-0001"));
        assert_signed(data.path(), &db, &json_path);
        let (_, uai, _, _) = export_event(conn, &json_path);
        assert_eq!(uai.as_deref(), Some("0990001N"));

        // From a data folder without the nodes' keys, nothing is signed or pseudonymised with new ones.
        let empty = tempfile::tempdir().unwrap();
        let refused = sesame(empty.path(), &db, &["audit", "export", "data-subject", "--ent", "Z0", "--gar-id", &traces.pupil]);
        assert_eq!(refused.status.code(), Some(1));
        assert!(stderr(&refused).contains("no key material at"), "{}", stderr(&refused));
        assert!(!empty.path().join("keys").exists());

        // Every export was audited, and the chain still verifies with them.
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'export.created'"), 4);
        ok(sesame(data.path(), &db, &["audit", "verify"]));
    }
}

/// A client certificate from the node's CA, registered to the auditor `name`.
fn auditor_client(app: &TestApp, name: &str) -> reqwest::Client {
    let authority = LocalAuthority::load_or_create(&TlsPaths::in_data_dir(&app.config.data_dir), &[]).unwrap();
    let issued = authority.issue_client(&format!("Auditor {name}")).unwrap();
    auditors::register_certificate(&mut app.conn(), name, &issued.info).unwrap();
    app.client_with(&issued.cert_pem, &issued.key_pem)
}

crate::storage_test! {
    async fn auditors_get_signed_exports_over_mutual_tls(db) {
        let app = TestApp::spawn(&db).await;
        let traces = demo_with_traces(&mut app.conn(), &pseudonyms(&app.config.data_dir));
        let auditor = auditor_client(&app, "dpo-academie");
        let url = |path: &str| format!("{}/v1/audit/{path}", app.mtls_url);

        let response = auditor.get(url(&format!("exports/data-subject?ent=Z0&garId={}", traces.pupil))).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let bundle: Value = response.json().await.unwrap();
        assert_eq!(bundle["kind"], "data-subject");
        let files = bundle["files"].as_array().unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[1]["contentType"], "text/csv; charset=utf-8");
        // Saved as they come, the files verify like CLI exports.
        let saved = tempfile::tempdir().unwrap();
        for file in files {
            let path = saved.path().join(file["name"].as_str().unwrap());
            std::fs::write(&path, file["content"].as_str().unwrap()).unwrap();
            std::fs::write(format!("{}.sig", path.display()), file["signature"].to_string()).unwrap();
            let out = ok(sesame(&app.config.data_dir, &db, &["audit", "verify-export", path.to_str().unwrap()]));
            assert!(out.starts_with("valid: "), "{out}");
        }
        let export: Value = serde_json::from_str(files[0]["content"].as_str().unwrap()).unwrap();
        assert_eq!(export["identity"]["personId"], traces.pupil.as_str());
        assert_eq!(export["releases"].as_array().unwrap().len(), 5);
        let actor: String = audit_events::table
            .filter(audit_events::seq.eq(bundle["auditEvent"].as_i64().unwrap()))
            .select(audit_events::actor)
            .first(&mut app.conn())
            .unwrap();
        assert_eq!(actor, "auditor:dpo-academie");

        let today = now().date().to_string();
        for path in [
            format!("exports/publisher-releases?publisher={PUBLISHER}&from=2020-01-01&to={today}"),
            "exports/processing-register".to_owned(),
            format!("exports/establishment-activity?uai=0990001N&from=2020-01-01&to={today}"),
        ] {
            let response = auditor.get(url(&path)).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let bundle: Value = response.json().await.unwrap();
            assert_eq!(bundle["files"].as_array().unwrap().len(), 2, "{path}");
        }
        let keys: Value = auditor.get(url("signing-certificates")).send().await.unwrap().json().await.unwrap();
        assert_eq!(keys["keys"][0]["keyId"], files[0]["signature"]["keyId"]);

        // Errors in the API's JSON, with the right status.
        let expect = |status: u16, error: &'static str| move |(got, body): (u16, Value)| {
            assert_eq!(got, status, "{body}");
            assert_eq!(body["error"], error);
        };
        let call = |client: reqwest::Client, path: String| async move {
            let response = client.get(path).send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        };
        expect(404, "no person `nobody` in ENT project Z0, and no audit event about them")(
            call(auditor.clone(), url("exports/data-subject?ent=Z0&garId=nobody")).await);
        expect(400, "`2026-13-01` is not a date (YYYY-MM-DD)")(
            call(auditor.clone(), url(&format!("exports/publisher-releases?publisher={PUBLISHER}&from=2026-13-01&to=2026-12-01"))).await);
        expect(404, "no establishment `0000000X`")(
            call(auditor.clone(), url("exports/establishment-activity?uai=0000000X&from=2026-01-01&to=2026-12-01")).await);
        let (status, body) = call(auditor.clone(), url("exports/data-subject?ent=Z0")).await;
        assert_eq!(status, 400);
        assert!(body["error"].as_str().unwrap().contains("garId"), "{body}");

        // Nobody else: an ENT's certificate, an unregistered or a revoked one.
        let ent = app.registered_client(sesame::store::partners::CallerKind::Ent, "Z0");
        expect(403, "this client certificate does not belong to an auditor")(call(ent, url("exports/processing-register")).await);
        expect(403, "this client certificate does not belong to an auditor")(
            call(app.unregistered_client("stranger"), url("exports/processing-register")).await);
        ok(sesame(&app.config.data_dir, &db, &["audit", "auditor", "revoke", "--name", "dpo-academie"]));
        expect(403, "this client certificate does not belong to an auditor")(call(auditor, url("exports/processing-register")).await);
        let names: BTreeSet<String> = audit_events::table
            .filter(audit_events::kind.eq("export.created"))
            .select(audit_events::actor)
            .load(&mut app.conn())
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(names, BTreeSet::from(["auditor:dpo-academie".to_owned()]));
    }
}
