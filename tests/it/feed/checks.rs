//! Bad records are refused with their reason while the rest applies; an export that is not
//! well-formed GAR-ENT XML (or whose checksum is wrong) is refused whole, changing nothing.

use sesame::domain::Uai;
use sesame::domain::directory::{Degree, GroupStatus, PersonGroup, PersonMef, TeacherGroupSubject};
use sesame::feed::report::{Rejection, Report};

use super::support::*;

const COLLEGE: &str = "0990001N";

fn find<'a>(report: &'a Report, path_start: &str, reason_part: &str) -> &'a Rejection {
    report
        .rejections
        .iter()
        .find(|r| r.path.starts_with(path_start) && r.reason.contains(reason_part))
        .unwrap_or_else(|| panic!("no rejection {path_start} “{reason_part}”: {report}"))
}

crate::storage_test! {
    fn bad_records_are_refused_with_reasons_while_the_rest_applies(db) {
        let mut dir = demo_directories()[0].clone();
        let college = Uai::parse(COLLEGE).unwrap();
        let pupils = pupils_of(&dir, COLLEGE);
        // References the checks refuse.
        dir.person_groups.push(PersonGroup { uai: college.clone(), gar_id: pupils[1].clone(), group_code: "NOPE".into() });
        dir.person_mefs.push(PersonMef { uai: college.clone(), gar_id: "z0-elv-9999".into(), mef_code: "10010012110".into() });
        let group = dir.groups.iter().find(|g| g.uai == college && g.status == GroupStatus::Group).unwrap().code.clone();
        let teacher = dir.class_subjects[0].gar_id.clone();
        dir.class_subjects.push(TeacherGroupSubject {
            uai: college.clone(),
            gar_id: teacher.clone(),
            group_code: group.clone(),
            subject_codes: vec!["020700".into()],
        });
        let out = tempfile::tempdir().unwrap();
        let paths = write_files(&dir, Degree::Second, out.path(), 10_000);
        // Schema rules broken in the XML itself.
        let bad_date = pupils[2].clone();
        edit(&paths, "_Eleve_", &format!("<men:GARPersonIdentifiant>{bad_date}</men:GARPersonIdentifiant>"),
            &format!("<men:GARPersonIdentifiant>{bad_date}</men:GARPersonIdentifiant><!-- -->"));
        let xml = std::fs::read_to_string(paths.iter().find(|p| p.to_string_lossy().contains("_Eleve_")).unwrap()).unwrap();
        let start = xml.find(&format!("{bad_date}</men:GARPersonIdentifiant>")).unwrap();
        let date_at = start + xml[start..].find("<men:GARPersonDateNaissance>").unwrap() + "<men:GARPersonDateNaissance>".len();
        let date = &xml[date_at..date_at + 10];
        edit(&paths, "_Eleve_", &format!("<men:GARPersonDateNaissance>{date}"), "<men:GARPersonDateNaissance>2015-13-45");
        edit(&paths, "_Eleve_", "<men:GARPersonProfil>National_elv</men:GARPersonProfil>", "<men:GARPersonProfil>National_TUT</men:GARPersonProfil>");
        edit(&paths, "_Enseignant_", "<men:GARPersonProfil>National_ens</men:GARPersonProfil>", "<men:GARPersonProfil>National_ENS</men:GARPersonProfil>");

        let mut conn = db.connect();
        register_ents(&mut conn, &["Z0"]);
        let report = import(&mut conn, "Z0", &files(paths)).report;
        assert_eq!(report.status, "APPLIED", "{report}");

        let date = find(&report, "GAR-ENT-Eleve/GAREleve[", "not a date");
        assert_eq!(date.id, bad_date);
        assert!(date.file.contains("_Eleve_0000.xml") && date.line > 1, "{date:?}");
        // The first pupil lost its only profile: refused as a whole.
        let profile = find(&report, "GAR-ENT-Eleve/GAREleve[1]", "National_TUT");
        assert_eq!(profile.id, pupils[0]);
        find(&report, "GAR-ENT-Groupe/GARPersonGroupe[", "names group `NOPE`");
        // Not a pupil of the export: the writer put it with the staff.
        let unknown = find(&report, "GAR-ENT-Enseignant/GARPersonMEF[", "z0-elv-9999");
        assert_eq!(unknown.id, "z0-elv-9999");
        let not_division = find(&report, "GAR-ENT-Groupe/GAREnsClasseMatiere[", "not a DIVISION");
        assert_eq!(not_division.id, teacher);
        // The links of refused pupils are refused with them.
        find(&report, "GAR-ENT-Groupe/GARPersonGroupe[", "whose record was rejected");
        assert_eq!(report.rejected as usize, report.rejections.len());

        // Everything else applied; `National_ENS` is a profile, whatever its case.
        let all = dir.persons.iter().filter(|p| p.source == sesame::domain::directory::PersonSource::Pupil).count();
        assert_eq!(report.tally("pupils").created as usize, all - 2, "{report}");
        assert_eq!(count(&mut conn, &format!("SELECT COUNT(*) AS n FROM persons WHERE gar_id IN ('{}', '{bad_date}')", pupils[0])), 0);
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM person_profiles WHERE profile = 'National_ens'"),
            dir.persons.iter().flat_map(|p| &p.profiles).filter(|p| p.profile == sesame::domain::Profile::Teacher).count() as i64);
    }
}

crate::storage_test! {
    fn a_refused_record_leaves_what_it_names_alone(db) {
        let dir = demo_directories()[0].clone();
        let mut conn = db.connect();
        register_ents(&mut conn, &["Z0"]);
        let out = tempfile::tempdir().unwrap();
        import(&mut conn, "Z0", &bundle(&write_bundle(&dir, Degree::Second, out.path())));
        let before = snapshot(&mut conn);

        // The next export carries one pupil's record broken: they must not count as departed.
        let pupil = pupils_of(&dir, COLLEGE)[3].clone();
        let next = tempfile::tempdir().unwrap();
        let paths = write_files(&dir, Degree::Second, next.path(), 10_000);
        edit(&paths, "_Eleve_", &format!("<men:GARPersonIdentifiant>{pupil}</men:GARPersonIdentifiant>"),
            &format!("<men:GARPersonIdentifiant>{pupil}</men:GARPersonIdentifiant><men:GARPersonFoo/>"));
        let report = import(&mut conn, "Z0", &files(paths)).report;
        assert_eq!(report.status, "APPLIED", "{report}");
        find(&report, "GAR-ENT-Eleve/GAREleve[", "GARPersonFoo");
        assert_eq!(report.tally("pupils").removed, 0, "{report}");
        assert_eq!(report.tally("memberships").removed, 0, "{report}");
        assert_eq!(snapshot(&mut conn), before);
    }
}

crate::storage_test! {
    fn an_establishment_of_another_ent_project_is_out_of_reach(db) {
        let dirs = demo_directories();
        let mut conn = db.connect();
        register_ents(&mut conn, &["Z0", "Z1"]);
        let out = tempfile::tempdir().unwrap();
        import(&mut conn, "Z0", &bundle(&write_bundle(&dirs[0], Degree::Second, out.path())));
        let before = snapshot(&mut conn);

        // Z1 claims the collège of Z0.
        let mut claim = dirs[0].of_degree(Degree::Second);
        claim.ent_id = "Z1".into();
        let mut writer = sesame::feed::writer::ExportWriter::bundle(out.path(), export_name("Z1", Degree::Second)).unwrap();
        writer.write(&claim).unwrap();
        let path = writer.finish().unwrap().paths.remove(0);
        let report = import(&mut conn, "Z1", &bundle(&path)).report;
        assert_eq!(report.status, "APPLIED", "{report}");
        let refused = find(&report, "GAR-ENT-Etab/GAREtab[", "cannot be fed by this ENT project");
        assert!(!refused.reason.contains("Z0"), "no leak of who feeds it: {refused:?}");
        assert_eq!(report.tally("pupils").created, 0, "{report}");
        assert_eq!(snapshot(&mut conn), before, "Z0's directory is untouched");
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM persons WHERE ent_id = 'Z1'"), 0);
    }
}

/// Imports a good export, then `broken` (built from a fresh copy of the same export), and checks
/// it was refused whole with `reason` and changed nothing.
fn refused_whole(
    db: &crate::common::TestDb,
    reason: &str,
    broken: impl FnOnce(&[std::path::PathBuf], &std::path::Path) -> sesame::feed::Export,
) -> Report {
    let dir = demo_directories()[0].clone();
    let mut conn = db.connect();
    register_ents(&mut conn, &["Z0"]);
    let out = tempfile::tempdir().unwrap();
    import(&mut conn, "Z0", &bundle(&write_bundle(&dir, Degree::Second, out.path())));
    let before = snapshot(&mut conn);
    let audit_before = audit_kinds(&mut conn).len();

    let next = tempfile::tempdir().unwrap();
    let paths = write_files(&without_persons(&dir, &["z0-elv-0001"]), Degree::Second, next.path(), 2_000);
    let report = import(&mut conn, "Z0", &broken(&paths, next.path())).report;
    assert_eq!(report.status, "REJECTED", "{report}");
    let error = report.error.clone().unwrap();
    assert!(error.contains(reason), "expected “{reason}”: {error}");
    assert!(report.counts.is_empty(), "{report}");
    assert_eq!(snapshot(&mut conn), before, "nothing changed");
    assert_eq!(statuses(&mut conn), ["APPLIED", "REJECTED"]);
    assert_eq!(audit_kinds(&mut conn)[audit_before..], ["feed.rejected"]);
    report
}

crate::storage_test! {
    fn malformed_xml_is_refused_whole(db) {
        refused_whole(&db, "not well-formed", |paths, _| {
            edit(paths, "_Groupe_0001", "</men:GARPersonGroupe>", "</men:GARPersonGroup>");
            files(paths.to_vec())
        });
        refused_whole(&db_again(&db), "truncated", |paths, _| {
            let path = paths.iter().find(|p| p.to_string_lossy().contains("_Eleve_0000")).unwrap();
            let xml = std::fs::read_to_string(path).unwrap();
            let cut = xml.rfind("</men:GAREleve>").unwrap();
            std::fs::write(path, &xml[..cut + "</men:GAREleve>".len()]).unwrap();
            files(paths.to_vec())
        });
    }
}

/// A fresh database of the same backend.
fn db_again(db: &crate::common::TestDb) -> crate::common::TestDb {
    crate::common::TestDb::new(db.backend())
}

crate::storage_test! {
    fn a_wrong_namespace_or_root_is_refused_whole(db) {
        refused_whole(&db, "namespace", |paths, _| {
            edit(paths, "_RespAff_", "http://data.education.fr/ns/gar\"", "http://data.education.fr/ns/garr\"");
            files(paths.to_vec())
        });
        refused_whole(&db_again(&db), "degree 1", |paths, _| {
            edit(paths, "_Etab_", "http://data.education.fr/ns/gar\"", "http://data.education.fr/ns/gar/1d\"");
            files(paths.to_vec())
        });
        refused_whole(&db_again(&db), "no GAR-ENT-RespAff", |paths, _| {
            files(paths.iter().filter(|p| !p.to_string_lossy().contains("RespAff")).cloned().collect())
        });
    }
}

crate::storage_test! {
    fn dtds_and_entities_are_refused_whole(db) {
        let secret = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(secret.path(), "TOP-SECRET").unwrap();
        // XXE: an external entity naming a local file.
        let report = refused_whole(&db, "DTD", |paths, _| {
            let xxe = format!("<!DOCTYPE men:GAR-ENT-Eleve [<!ENTITY xxe SYSTEM \"file://{}\">]>\n<men:GAR-ENT-Eleve", secret.path().display());
            edit(paths, "_Eleve_0000", "<men:GAR-ENT-Eleve", &xxe);
            edit(paths, "_Eleve_0000", "<men:GARPersonNom>", "<men:GARPersonNom>&xxe;");
            files(paths.to_vec())
        });
        assert!(!serde_json::to_string(&report).unwrap().contains("TOP-SECRET"));
        // Billion laughs.
        let mut lol = String::from("<!DOCTYPE lolz [<!ENTITY lol \"lol\">");
        for n in 1..10 {
            lol.push_str(&format!("<!ENTITY lol{n} \"{}\">", format!("&lol{};", if n == 1 { String::new() } else { (n - 1).to_string() }).repeat(10)));
        }
        lol.push_str("]>\n<men:GAR-ENT-Groupe");
        refused_whole(&db_again(&db), "DTD", |paths, _| {
            edit(paths, "_Groupe_0000", "<men:GAR-ENT-Groupe", &lol);
            edit(paths, "_Groupe_0000", "<men:GARGroupeLibelle>", "<men:GARGroupeLibelle>&lol9;");
            files(paths.to_vec())
        });
        // An entity used without any declaration is not well-formed either.
        refused_whole(&db_again(&db), "undeclared entity", |paths, _| {
            edit(paths, "_Etab_", "<men:GARStructureNomCourant>", "<men:GARStructureNomCourant>&nbsp;");
            files(paths.to_vec())
        });
    }
}

crate::storage_test! {
    fn a_bundle_whose_md5_differs_is_refused_whole(db) {
        refused_whole(&db, "MD5", |_, folder| {
            let dir = without_persons(&demo_directories()[0], &["z0-elv-0001"]);
            let path = write_bundle(&dir, Degree::Second, folder);
            let md5 = sesame::feed::source::sibling_md5(&path);
            let good = std::fs::read_to_string(&md5).unwrap();
            let bad: String = good.trim().chars().rev().collect();
            std::fs::write(&md5, bad).unwrap();
            bundle(&path)
        });
    }
}
