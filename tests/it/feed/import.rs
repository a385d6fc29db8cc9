//! Importing exports through the library: semantics of full snapshots, checks and reports.

use sesame::domain::directory::Degree;
use sesame::store::directory::insert_directory;

use super::support::*;

crate::storage_test! {
    fn the_demo_academie_imports_as_it_loads(db) {
        let dirs = demo_directories();
        let out = tempfile::tempdir().unwrap();

        // Reference: the directories written directly.
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
            assert_eq!(report.rejected, 0, "{report}");
            assert_eq!(report.checksum, "verified");
            assert_eq!(report.tally("pupils").created as usize, dir.persons.iter().filter(|p| p.source == sesame::domain::directory::PersonSource::Pupil).count(), "{report}");
        }
        assert_eq!(snapshot(&mut conn), expected);
    }
}
