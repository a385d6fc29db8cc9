//! `sesame person erase`: an erasure request removes a person's data (seats given back to their
//! counters, identifier replaced by the pseudonym where assignments name them), keeps the
//! pseudonymous audit trail, lists the publishers to forward the request to, and is audited.

use diesel::prelude::*;
use serde_json::Value;
use sesame::demo;
use sesame::store::schema::{audit_events, web_sessions};

use crate::audit_support::*;

crate::storage_test! {
    fn erasure_removes_the_person_and_names_the_recipients(db) {
        let data = tempfile::tempdir().unwrap();
        let conn = &mut db.connect();
        demo::load(conn).unwrap();
        // The lycée's librarian: a seat of a subscription counted globally, an assignment made to
        // her alone, and assignments she made herself as a delegate manager.
        let gar_id = "z0-doc-0002";
        let subject = pseudonyms(data.path()).audit_subject("Z0", gar_id);
        let person = count(conn, &format!("SELECT id AS n FROM persons WHERE gar_id = '{gar_id}'"));
        let active = count(conn, &format!("SELECT COUNT(*) AS n FROM assignment_seats WHERE person_id = {person} AND status = 'ACTIVE'"));
        assert!(active >= 1);
        let global_used = || "SELECT CAST(SUM(l.used) AS BIGINT) AS n FROM licence_pools l JOIN subscriptions s ON s.id = l.subscription_id \
            WHERE s.external_id = 'DEMO-2026-ACTU-LYCEES' AND l.public = 'GLOBAL'";
        let used_before = count(conn, global_used());
        let authored = count(conn, &format!("SELECT COUNT(*) AS n FROM assignments WHERE created_by = '{gar_id}'"));
        assert!(authored >= 1, "the demo has her assign a licence to herself");
        diesel::insert_into(web_sessions::table)
            .values((web_sessions::id.eq("s1"), web_sessions::kind.eq("CONSOLE"), web_sessions::ent_id.eq("Z0"),
                web_sessions::gar_id.eq(gar_id), web_sessions::created_at.eq(now()), web_sessions::expires_at.eq(days_ago(-1))))
            .execute(conn)
            .unwrap();
        for (days, publisher, sp, resource) in [(30, PUBLISHER, PUBLISHER_SP, MATHS6), (20, PUBLISHER, PUBLISHER_SP, MATHS6), (10, OTHER_PUBLISHER, OTHER_SP, ENCYCLO)] {
            sesame::store::audit::append_at(conn, &release(&subject, "0990002P", resource, publisher, sp, (1, 1), &["IDO"]), days_ago(days)).unwrap();
        }
        let rows_naming = |conn: &mut sesame::store::AnyConnection| {
            count(conn, &format!(
                "SELECT (SELECT COUNT(*) FROM persons WHERE gar_id = '{gar_id}') \
                 + (SELECT COUNT(*) FROM assignment_managers WHERE gar_id = '{gar_id}') \
                 + (SELECT COUNT(*) FROM assignments WHERE target_ref = '{gar_id}' OR created_by = '{gar_id}' OR revoked_by = '{gar_id}') \
                 + (SELECT COUNT(*) FROM assignment_history WHERE actor = '{gar_id}' OR undone_by = '{gar_id}') \
                 + (SELECT COUNT(*) FROM web_sessions WHERE gar_id = '{gar_id}') AS n"
            ))
        };
        let naming_before = rows_naming(conn);
        assert!(naming_before >= 4);

        // Without --yes: what would happen, nothing done.
        let dry = ok(sesame(data.path(), &db, &["person", "erase", "--ent", "Z0", "--gar-id", gar_id]));
        assert!(dry.starts_with("would erase (dry run: add --yes to erase): directory record of z0-doc-0002"), "{dry}");
        assert_eq!(rows_naming(conn), naming_before);
        assert_eq!(count(conn, global_used()), used_before);

        let out = ok(sesame(data.path(), &db, &["person", "erase", "--ent", "Z0", "--gar-id", gar_id, "--yes"]));
        assert!(out.starts_with("erased: directory record of z0-doc-0002 in ENT project Z0"), "{out}");
        assert!(out.contains(&format!("{active} active, given back to their licence counters")), "{out}");
        assert!(out.contains(&format!("kept: 3 audit event(s) under the pseudonym {subject}")), "{out}");
        assert!(out.contains("publishers that received data about this person (forward the request to them):"), "{out}");
        assert!(out.contains(&format!("  {PUBLISHER}  Éditions Démo Savoirs  2 release(s), last {}", days_ago(20).format("%Y-%m-%d"))), "{out}");
        assert!(out.contains(&format!("  {OTHER_PUBLISHER}  ")), "{out}");

        // Gone everywhere Sesame names people, the counter given back.
        assert_eq!(rows_naming(conn), 0);
        for table in ["person_establishments", "person_profiles", "assignment_seats", "teacher_posts"] {
            assert_eq!(count(conn, &format!("SELECT COUNT(*) AS n FROM {table} WHERE person_id = {person}")), 0, "{table}");
        }
        assert_eq!(count(conn, global_used()), used_before - active);
        assert_eq!(count(conn, &format!("SELECT COUNT(*) AS n FROM assignments WHERE target_ref = '{subject}' AND revoked_at IS NOT NULL")), 1);
        assert_eq!(count(conn, &format!("SELECT COUNT(*) AS n FROM assignments WHERE created_by = '{subject}'")), authored);

        // Audited by pseudonym and counts; the chain still verifies.
        let (actor, event_subject, details): (String, Option<String>, String) = audit_events::table
            .filter(audit_events::kind.eq("person.erased"))
            .select((audit_events::actor, audit_events::subject, audit_events::details))
            .first(conn)
            .unwrap();
        assert_eq!((actor.as_str(), event_subject.as_deref()), ("operator:cli", Some(subject.as_str())));
        assert!(!details.contains(gar_id), "{details}");
        let details: Value = serde_json::from_str(&details).unwrap();
        assert_eq!(details["removed"]["persons"], 1);
        assert_eq!(details["recipients"], serde_json::json!([PUBLISHER, OTHER_PUBLISHER]));
        ok(sesame(data.path(), &db, &["audit", "verify"]));

        // What a data-subject request now finds: the pseudonymous trail only.
        let printed = ok(sesame(data.path(), &db, &["audit", "export", "data-subject", "--ent", "Z0", "--gar-id", gar_id, "--out", "out"]));
        let json_file = data.path().join(printed.lines().next().unwrap());
        let export: Value = serde_json::from_slice(&std::fs::read(json_file).unwrap()).unwrap();
        assert_eq!(export["identity"], Value::Null);
        assert_eq!(export["schools"], serde_json::json!([]));
        assert_eq!(export["releases"].as_array().unwrap().len(), 3);
        assert_eq!(export["otherEvents"][0]["kind"], "person.erased");

        let unknown = sesame(data.path(), &db, &["person", "erase", "--ent", "Z0", "--gar-id", "z0-nobody", "--yes"]);
        assert_eq!(unknown.status.code(), Some(1));
        assert!(stderr(&unknown).contains("no person `z0-nobody` in ENT project Z0"), "{}", stderr(&unknown));
    }
}
