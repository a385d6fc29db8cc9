//! The licence ledger follows a real feed import: newcomers of an assigned class get seats (or
//! wait), leavers free theirs, in the import's transaction.

use sesame::domain::Uai;
use sesame::domain::assignment::AssignmentTarget;
use sesame::domain::directory::{Degree, PersonGroup};

use super::support::*;
use crate::ledger::{COLLEGE, manager, pool, pseudonyms, seat, subscription};

crate::storage_test! {
    fn a_feed_import_moves_seats(db) {
        let conn = &mut db.connect();
        sesame::demo::load(conn).unwrap();
        let pseudonyms = pseudonyms();
        let college = Uai::parse(COLLEGE).unwrap();
        let sub = subscription(conn, "TEST-FEED", 19, None);
        let mut dir = demo_directories().remove(0);
        let members = |dir: &sesame::domain::directory::Directory, class: &str| -> Vec<String> {
            let pupils = pupils_of(dir, COLLEGE);
            dir.person_groups
                .iter()
                .filter(|m| m.uai == college && m.group_code == class && pupils.contains(&m.gar_id))
                .map(|m| m.gar_id.clone())
                .collect()
        };
        let (class_6a, class_5a) = (members(&dir, "6A"), members(&dir, "5A"));
        let assigned = sesame::assignments::assign(
            conn,
            &manager(&pseudonyms),
            &college,
            sub,
            AssignmentTarget::Division("6A".into()),
        )
        .unwrap();
        assert_eq!(assigned.changes.granted, class_6a.len());
        assert_eq!(pool(conn, sub, "ELEVE"), (Some(19), 18));

        // Tonight's export: three pupils of 5A moved to 6A, the first pupil of 6A moved out of it.
        let movers = &class_5a[..3];
        dir.person_groups.retain(|m| {
            let moved_out = m.group_code == "5A" && movers.contains(&m.gar_id);
            !(moved_out || m.group_code == "6A" && m.gar_id == class_6a[0])
        });
        for gar_id in movers {
            dir.person_groups.push(PersonGroup { uai: college.clone(), gar_id: gar_id.clone(), group_code: "6A".into() });
        }
        let out = tempfile::tempdir().unwrap();
        let report = import(conn, "Z0", &bundle(&write_bundle(&dir, Degree::Second, out.path()))).report;
        assert_eq!(report.status, "APPLIED", "{report}");

        // The leaver's seat and the free one go to two newcomers; the third waits.
        assert_eq!(seat(conn, sub, &class_6a[0]), Some(("RELEASED".into(), Some("a quitté la classe 6A".into()))));
        let statuses: Vec<String> = movers.iter().map(|m| seat(conn, sub, m).unwrap().0).collect();
        assert_eq!(statuses, ["ACTIVE", "ACTIVE", "WAITING"]);
        assert_eq!(pool(conn, sub, "ELEVE"), (Some(19), 19));

        // The feed's audit event carries the ledger summary; seat events name the ENT feed.
        let applied = audit_kinds(conn);
        assert!(applied.iter().any(|k| k == "seat.released"), "{applied:?}");
        assert!(applied.iter().any(|k| k == "feed.applied"), "{applied:?}");
    }
}
