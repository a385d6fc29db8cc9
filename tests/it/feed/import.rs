//! Importing exports through the library: full-snapshot semantics, merges, checks and reports.

use sesame::domain::directory::{Degree, PersonSource};
use sesame::store::directory::insert_directory;

use super::support::*;

const COLLEGE: &str = "0990001N";

crate::storage_test! {
    fn the_demo_academie_imports_as_it_loads(db) {
        let dirs = demo_directories();
        let out = tempfile::tempdir().unwrap();

        // Reference: the same directories written directly.
        let reference = crate::common::TestDb::new(db.backend());
        let mut conn = reference.connect();
        register_ents(&mut conn, &["Z0", "Z1"]);
        for dir in &dirs {
            insert_directory(&mut conn, dir).unwrap();
        }
        let expected = snapshot(&mut conn);

        let mut conn = db.connect();
        register_ents(&mut conn, &["Z0", "Z1"]);
        for (dir, degree) in [(&dirs[0], Degree::Second), (&dirs[1], Degree::First)] {
            let outcome = import(&mut conn, &dir.ent_id, &bundle(&write_bundle(dir, degree, out.path())));
            let report = &outcome.report;
            assert_eq!(report.status, "APPLIED", "{report}");
            assert_eq!((report.rejected, report.repeated), (0, 0), "{report}");
            assert_eq!(report.checksum, "verified");
            assert_eq!(report.degree, Some(degree.number()));
            let types: std::collections::BTreeSet<&str> = report.files.iter().map(|f| f.file_type.as_str()).collect();
            assert_eq!(types.len(), 5, "every file type: {types:?}");
            let pupils = dir.persons.iter().filter(|p| p.source == PersonSource::Pupil).count() as u64;
            assert_eq!(report.tally("pupils").created, pupils, "{report}");
            assert_eq!(report.tally("establishments").created as usize, dir.establishments.len());
            let schools: Vec<String> = dir.establishments.iter().map(|e| e.uai.to_string()).collect();
            assert_eq!(report.affected_establishments, schools);
            assert_eq!(outcome.affected_uais.len(), schools.len());
        }
        assert_eq!(snapshot(&mut conn), expected);
        assert_eq!(statuses(&mut conn), ["APPLIED", "APPLIED"]);
        assert_eq!(audit_kinds(&mut conn), ["feed.applied", "feed.applied"]);
    }
}

crate::storage_test! {
    fn reimporting_the_same_export_changes_nothing(db) {
        let dir = &demo_directories()[0];
        let out = tempfile::tempdir().unwrap();
        let export = bundle(&write_bundle(dir, Degree::Second, out.path()));
        let mut conn = db.connect();
        register_ents(&mut conn, &["Z0"]);
        import(&mut conn, "Z0", &export);
        let before = snapshot(&mut conn);
        let pupil = person_id(&mut conn, "z0-elv-0001");

        let again = import(&mut conn, "Z0", &export).report;
        assert_eq!(again.status, "APPLIED");
        for count in &again.counts {
            let t = count.tally;
            assert_eq!((t.created, t.updated, t.removed), (0, 0, 0), "{}: {again}", count.entity);
        }
        assert!(again.tally("pupils").unchanged > 200 && again.tally("memberships").unchanged > 500, "{again}");
        assert!(again.affected_establishments.is_empty(), "{again}");
        assert_eq!(snapshot(&mut conn), before);
        assert_eq!(person_id(&mut conn, "z0-elv-0001"), pupil, "ids are stable");
    }
}

crate::storage_test! {
    fn a_removed_pupil_leaves_and_frees_memberships_then_comes_back(db) {
        let dir = &demo_directories()[0];
        let out = tempfile::tempdir().unwrap();
        let mut conn = db.connect();
        register_ents(&mut conn, &["Z0"]);
        import(&mut conn, "Z0", &bundle(&write_bundle(dir, Degree::Second, out.path())));
        let leaver = pupils_of(dir, COLLEGE)[0].clone();
        let id = person_id(&mut conn, &leaver);
        let links = |conn: &mut _| {
            ["person_groups", "pupil_subjects", "person_mefs", "person_establishments", "person_profiles"]
                .map(|table| count(conn, &format!("SELECT COUNT(*) AS n FROM {table} WHERE person_id = {id}")))
        };
        let memberships = links(&mut conn)[0];
        assert!(memberships >= 1 && links(&mut conn).iter().all(|n| *n >= 1));

        let next = tempfile::tempdir().unwrap();
        let report = import(&mut conn, "Z0", &bundle(&write_bundle(&without_persons(dir, &[&leaver]), Degree::Second, next.path()))).report;
        assert_eq!(report.status, "APPLIED", "{report}");
        assert_eq!(report.tally("pupils").removed, 1, "{report}");
        assert_eq!(report.tally("memberships").removed as i64, memberships, "{report}");
        assert_eq!(report.affected_establishments, [COLLEGE]);
        assert_eq!(links(&mut conn), [0; 5]);
        assert_eq!(count(&mut conn, &format!("SELECT COUNT(*) AS n FROM persons WHERE id = {id} AND removed_at IS NOT NULL")), 1);

        // Back in the next export: the same row, no longer removed, links restored.
        let back = import(&mut conn, "Z0", &bundle(&write_bundle(dir, Degree::Second, out.path()))).report;
        assert_eq!(back.tally("pupils").created, 1, "{back}");
        assert_eq!(person_id(&mut conn, &leaver), id);
        assert_eq!(count(&mut conn, &format!("SELECT COUNT(*) AS n FROM persons WHERE id = {id} AND removed_at IS NULL")), 1);
        assert_eq!(links(&mut conn)[0], memberships);
    }
}

crate::storage_test! {
    fn a_large_deletion_is_held_until_confirmed(db) {
        let dir = &demo_directories()[0];
        let out = tempfile::tempdir().unwrap();
        let mut conn = db.connect();
        register_ents(&mut conn, &["Z0"]);
        import(&mut conn, "Z0", &bundle(&write_bundle(dir, Degree::Second, out.path())));
        let before = snapshot(&mut conn);

        // A truncated export: half the collège's pupils are missing.
        let pupils = pupils_of(dir, COLLEGE);
        let missing: Vec<&str> = pupils.iter().take(pupils.len() / 2).map(String::as_str).collect();
        let truncated = without_persons(dir, &missing);
        let next = tempfile::tempdir().unwrap();
        let export = bundle(&write_bundle(&truncated, Degree::Second, next.path()));
        let held = import(&mut conn, "Z0", &export).report;
        assert_eq!(held.status, "HELD", "{held}");
        let hold = held.held.clone().unwrap();
        assert_eq!(hold.establishments.len(), 1, "only the collège: {hold:?}");
        assert_eq!(hold.establishments[0].uai, COLLEGE);
        assert_eq!(hold.establishments[0].detached as usize, missing.len());
        assert_eq!(snapshot(&mut conn), before, "nothing applied");
        assert!(count(&mut conn, &format!("SELECT COUNT(*) AS n FROM feed_held_files WHERE import_id = {}", held.id)) >= 1);

        // Confirmation applies the kept files, even after the sender's copy is gone.
        drop(next);
        let options = sesame::feed::Options {
            actor: sesame::domain::audit::Actor::operator(),
            accept_large_deletion: false,
            config: &feed_config(),
            progress: &sesame::feed::Silent,
            pseudonyms: &crate::ledger::pseudonyms(),
        };
        assert!(matches!(sesame::feed::confirm(&mut conn, held.id, Some("Z1"), &options), Err(sesame::feed::FeedError::NotFound(_))),
            "another ENT project's import is not found");
        let confirmed = sesame::feed::confirm(&mut conn, held.id, Some("Z0"), &options).unwrap().report;
        assert_eq!((confirmed.id, confirmed.status.as_str()), (held.id, "APPLIED"), "{confirmed}");
        assert_eq!(confirmed.tally("pupils").removed as usize, missing.len());
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM feed_held_files"), 0);
        assert!(matches!(sesame::feed::confirm(&mut conn, held.id, None, &options), Err(sesame::feed::FeedError::NotHeld { .. })));
        assert_eq!(statuses(&mut conn), ["APPLIED", "APPLIED"]);
        assert_eq!(audit_kinds(&mut conn), ["feed.applied", "feed.held", "feed.confirmed"]);
    }
}

crate::storage_test! {
    fn a_held_export_is_superseded_by_the_next_one_or_accepted_up_front(db) {
        let dir = &demo_directories()[0];
        let mut conn = db.connect();
        register_ents(&mut conn, &["Z0"]);
        let out = tempfile::tempdir().unwrap();
        import(&mut conn, "Z0", &bundle(&write_bundle(dir, Degree::Second, out.path())));
        let pupils = pupils_of(dir, COLLEGE);
        let missing: Vec<&str> = pupils.iter().take(pupils.len() / 2).map(String::as_str).collect();
        let truncated = tempfile::tempdir().unwrap();
        let truncated = bundle(&write_bundle(&without_persons(dir, &missing), Degree::Second, truncated.path()));
        assert_eq!(import(&mut conn, "Z0", &truncated).report.status, "HELD");
        // The next night's complete export supersedes the held one.
        assert_eq!(import(&mut conn, "Z0", &bundle(&write_bundle(dir, Degree::Second, out.path()))).report.status, "APPLIED");
        assert_eq!(statuses(&mut conn), ["APPLIED", "DISCARDED", "APPLIED"]);
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM feed_held_files"), 0);
        // An operator who knows the school emptied accepts it at once.
        let accepted = import_with(&mut conn, "Z0", &truncated, &feed_config(), true).report;
        assert_eq!(accepted.status, "APPLIED", "{accepted}");
        assert_eq!(accepted.tally("pupils").removed as usize, missing.len());
    }
}

crate::storage_test! {
    fn split_files_with_repeated_records_are_merged(db) {
        let dir = &demo_directories()[0];
        let out = tempfile::tempdir().unwrap();
        let mut paths = write_files(dir, Degree::Second, out.path(), 300);
        assert!(paths.len() > 20, "split: {}", paths.len());
        // The same export written again with another stamp repeats every record in other files…
        let repeat = tempfile::tempdir().unwrap();
        let mut name = export_name("Z0", Degree::Second);
        name.stamp = "20261125_220000".into();
        let mut writer = sesame::feed::writer::ExportWriter::folder(repeat.path(), name).unwrap().with_max_nodes(700);
        // …one pupil with another name (the first occurrence wins), one teacher in a second school
        // only in the repeat (lists are merged).
        let mut changed = dir.of_degree(Degree::Second);
        let pupil = changed.persons.iter_mut().find(|p| p.source == PersonSource::Pupil).unwrap();
        pupil.last_name = "AUTRE".into();
        let teacher_id = changed.persons.iter().find(|p| p.source == PersonSource::Staff && p.establishments.len() == 1).unwrap().gar_id.clone();
        let teacher = changed.persons.iter_mut().find(|p| p.gar_id == teacher_id).unwrap();
        let second_school = sesame::domain::Uai::parse("0990003R").unwrap();
        teacher.establishments.push(second_school.clone());
        teacher.profiles.push(sesame::domain::directory::ProfileAt { uai: second_school, profile: sesame::domain::Profile::Teacher });
        writer.write(&changed).unwrap();
        paths.extend(writer.finish().unwrap().paths);

        let mut conn = db.connect();
        register_ents(&mut conn, &["Z0"]);
        let report = import(&mut conn, "Z0", &files(paths)).report;
        assert_eq!(report.status, "APPLIED", "{report}");
        assert_eq!(report.rejected, 0, "{report}");
        // The teacher's repeat only adds a school: merged without a word. The pupil's differs.
        assert_eq!(report.repeated, 1, "{report}");
        assert!(report.repeats.iter().any(|r| r.path.starts_with("GAR-ENT-Eleve/GAREleve[") && r.id == "z0-elv-0001"), "{report}");
        let pupils = dir.persons.iter().filter(|p| p.source == PersonSource::Pupil).count() as u64;
        assert_eq!(report.tally("pupils").created, pupils, "{report}");
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM persons WHERE last_name = 'AUTRE'"), 0);
        let teacher = person_id(&mut conn, &teacher_id);
        assert_eq!(count(&mut conn, &format!("SELECT COUNT(*) AS n FROM person_establishments WHERE person_id = {teacher}")), 2);

        // The reference: one clean export, and the teacher's second school on top.
        let reference = crate::common::TestDb::new(db.backend());
        let mut expected_conn = reference.connect();
        register_ents(&mut expected_conn, &["Z0"]);
        import(&mut expected_conn, "Z0", &bundle(&write_bundle(dir, Degree::Second, out.path())));
        let mut expected = snapshot(&mut expected_conn);
        expected.push(format!("pe|{teacher_id}|0990003R"));
        expected.push(format!("pp|{teacher_id}|0990003R|National_ens"));
        expected.sort();
        assert_eq!(snapshot(&mut conn), expected);
    }
}
