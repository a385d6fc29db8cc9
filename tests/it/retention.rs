//! Retention: `sesame audit purge` removes exactly what is due — old release traces and audit
//! events, people gone from the directory past the grace period (their seats given back), past
//! school years of assignment history, expired sign-on state — and the audit log still verifies,
//! from a signed boundary that keeps detecting tampering with what stayed. The job inside
//! `sesame serve` does the same on its own.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde_json::{Value, json};
use sesame::audit::retention::{EventsPurge, Purger};
use sesame::audit::signing::{Signer, TrustedKeys};
use sesame::audit::verify::{self, Tampering};
use sesame::config::Config;
use sesame::demo;
use sesame::domain::audit::{Actor, AuditEvent, AuditKind, StoredEvent};
use sesame::domain::audit_checkpoint::CheckpointKind;
use sesame::domain::retention::school_year_start;
use sesame::store::schema::{
    assignment_history, assignment_seats, assignments, audit_events, persons, saml_replay_cache, saml_requests,
    web_sessions,
};
use sesame::store::{AnyConnection, audit, audit_checkpoints};

use crate::audit_support::*;
use crate::common::TestApp;

/// Rows the purge must remove or keep, set up on the demo académie.
struct Due {
    /// Seqs of the audit events that are due, and of those that must stay.
    events_due: Vec<i64>,
    events_kept: Vec<i64>,
    gone_person: i64,
    gone_person_active_seats: i64,
    staying_person: i64,
    /// History rows the demo load itself wrote (this school year: kept).
    demo_history: i64,
}

fn person_id(conn: &mut AnyConnection, sql: &str) -> i64 {
    count(conn, sql)
}

fn insert_history(conn: &mut AnyConnection, at: NaiveDateTime, assignment: Option<i64>) {
    diesel::insert_into(assignment_history::table)
        .values((
            assignment_history::uai.eq("0990001N"),
            assignment_history::assignment_id.eq(assignment),
            assignment_history::action.eq("ASSIGN"),
            assignment_history::actor.eq("z0-doc-0001"),
            assignment_history::at.eq(at),
            assignment_history::details.eq("{}"),
        ))
        .execute(conn)
        .unwrap();
}

/// A revoked assignment of one pupil with one released seat.
fn revoked_assignment(conn: &mut AnyConnection, person: i64, gar_id: &str, at: NaiveDateTime) -> (i64, i64) {
    let subscription = count(conn, "SELECT id AS n FROM subscriptions WHERE external_id = 'DEMO-2026-MATHS6-TILLEULS'");
    let assignment: i64 = diesel::insert_into(assignments::table)
        .values((
            assignments::subscription_id.eq(subscription),
            assignments::uai.eq("0990001N"),
            assignments::target_kind.eq("PERSON"),
            assignments::target_ref.eq(gar_id),
            assignments::created_by.eq("z0-doc-0001"),
            assignments::created_at.eq(at - TimeDelta::days(30)),
            assignments::revoked_at.eq(Some(at)),
            assignments::revoked_by.eq(Some("z0-doc-0001")),
        ))
        .returning(assignments::id)
        .get_result(conn)
        .unwrap();
    let seat: i64 = diesel::insert_into(assignment_seats::table)
        .values((
            assignment_seats::assignment_id.eq(assignment),
            assignment_seats::subscription_id.eq(subscription),
            assignment_seats::uai.eq("0990001N"),
            assignment_seats::person_id.eq(person),
            assignment_seats::public.eq("ELEVE"),
            assignment_seats::status.eq("RELEASED"),
            assignment_seats::granted_at.eq(at - TimeDelta::days(30)),
            assignment_seats::released_at.eq(Some(at)),
        ))
        .returning(assignment_seats::id)
        .get_result(conn)
        .unwrap();
    (assignment, seat)
}

fn event(kind: AuditKind, n: i64) -> AuditEvent {
    AuditEvent::new(kind, Actor::manager("Z0", "z0-doc-0001"), json!({ "n": n })).ent("Z0").uai("0990001N")
}

fn set_up(conn: &mut AnyConnection, signer: &Signer) -> Due {
    demo::load(conn).unwrap();
    let demo_history = count(conn, "SELECT COUNT(*) AS n FROM assignment_history");
    let now = now();
    // A pupil holding active seats leaves the directory 40 days ago; another one 5 days ago.
    let gone_person = person_id(
        conn,
        "SELECT MIN(person_id) AS n FROM assignment_seats WHERE status = 'ACTIVE' AND public = 'ELEVE'",
    );
    let gone_person_active_seats = count(
        conn,
        &format!("SELECT COUNT(*) AS n FROM assignment_seats WHERE person_id = {gone_person} AND status = 'ACTIVE'"),
    );
    assert!(gone_person_active_seats >= 1);
    let staying_person = person_id(
        conn,
        &format!(
            "SELECT MAX(person_id) AS n FROM assignment_seats WHERE status = 'ACTIVE' AND person_id <> {gone_person}"
        ),
    );
    for (person, days) in [(gone_person, 40), (staying_person, 5)] {
        diesel::update(persons::table.find(person))
            .set(persons::removed_at.eq(Some(now - TimeDelta::days(days))))
            .execute(conn)
            .unwrap();
    }
    let gone_gar: String = persons::table.find(gone_person).select(persons::gar_id).first(conn).unwrap();

    // Past school year: history, a revoked assignment and its released seat (another pupil's).
    let other_pupil = person_id(
        conn,
        &format!(
            "SELECT MIN(id) AS n FROM persons WHERE source = 'ELEVE' AND ent_id = 'Z0' AND id NOT IN ({gone_person}, {staying_person})"
        ),
    );
    let last_year = school_year_start(now.date()).and_hms_opt(0, 0, 0).unwrap() - TimeDelta::days(10);
    insert_history(conn, last_year, None);
    revoked_assignment(conn, other_pupil, "z0-other", last_year);
    // Still referred to by this year's history: stays.
    let (referenced, _) = revoked_assignment(conn, other_pupil, "z0-other", last_year - TimeDelta::days(1));
    insert_history(conn, now - TimeDelta::minutes(5), Some(referenced));
    // This school year: stays.
    revoked_assignment(conn, other_pupil, "z0-other", now - TimeDelta::minutes(10));

    // Sign-on state, expired and live; a session of the leaving pupil.
    let (past, future) = (now - TimeDelta::minutes(1), now + TimeDelta::hours(1));
    for (id, expires) in [("req-old", past), ("req-live", future)] {
        diesel::insert_into(saml_requests::table)
            .values((
                saml_requests::id.eq(id),
                saml_requests::ent_id.eq("Z0"),
                saml_requests::relay.eq("/"),
                saml_requests::created_at.eq(past - TimeDelta::minutes(5)),
                saml_requests::expires_at.eq(expires),
            ))
            .execute(conn)
            .unwrap();
        diesel::insert_into(saml_replay_cache::table)
            .values((
                saml_replay_cache::assertion_id.eq(id),
                saml_replay_cache::issuer.eq("idp"),
                saml_replay_cache::expires_at.eq(expires),
            ))
            .execute(conn)
            .unwrap();
    }
    for (id, gar, expires) in
        [("s-old", "z0-elv-0100", past), ("s-live", "z0-elv-0100", future), ("s-gone", gone_gar.as_str(), future)]
    {
        diesel::insert_into(web_sessions::table)
            .values((
                web_sessions::id.eq(id),
                web_sessions::kind.eq("LAUNCH"),
                web_sessions::ent_id.eq("Z0"),
                web_sessions::gar_id.eq(gar),
                web_sessions::created_at.eq(past),
                web_sessions::expires_at.eq(expires),
            ))
            .execute(conn)
            .unwrap();
    }

    // Audit events, old and new interleaved, a checkpoint in the middle.
    let days = |n: i64| now - TimeDelta::days(n);
    let mut due = Vec::new();
    let mut kept = Vec::new();
    let mut add = |conn: &mut AnyConnection, event: &AuditEvent, at: NaiveDateTime, is_due: bool| {
        let seq = audit::append_at(conn, event, at).unwrap();
        if is_due { due.push(seq) } else { kept.push(seq) }
    };
    let subject = "p-0000000000000000000000000000abcd";
    add(conn, &release(subject, "0990001N", MATHS6, PUBLISHER, PUBLISHER_SP, (1, 1), &["IDO"]), days(400), true);
    add(conn, &event(AuditKind::AssignmentCreated, 2), days(400), false);
    add(conn, &event(AuditKind::ConfigChanged, 3), days(2000), true);
    add(conn, &turnaway(subject, "0990001N", MATHS6, PUBLISHER), days(380), true);
    add(conn, &release(subject, "0990001N", MATHS6, PUBLISHER, PUBLISHER_SP, (1, 1), &["IDO"]), days(10), false);
    sesame::audit::checkpoint::checkpoint_head(conn, signer, now).unwrap().unwrap();
    add(conn, &release(subject, "0990001N", MATHS6, PUBLISHER, PUBLISHER_SP, (1, 1), &["IDO"]), days(370), true);
    add(conn, &event(AuditKind::SeatGranted, 7), now, false);
    Due { events_due: due, events_kept: kept, gone_person, gone_person_active_seats, staying_person, demo_history }
}

fn used_seats(conn: &mut AnyConnection) -> i64 {
    count(conn, "SELECT CAST(COALESCE(SUM(used), 0) AS BIGINT) AS n FROM licence_pools")
}

fn seqs(conn: &mut AnyConnection) -> Vec<i64> {
    audit_events::table.select(audit_events::seq).order(audit_events::seq).load(conn).unwrap()
}

/// Row counts of everything retention touches.
fn snapshot(conn: &mut AnyConnection) -> Vec<i64> {
    let used = used_seats(conn);
    [
        "persons",
        "person_establishments",
        "person_profiles",
        "person_groups",
        "assignment_seats",
        "assignments",
        "assignment_history",
        "saml_requests",
        "saml_replay_cache",
        "web_sessions",
        "audit_events",
        "audit_checkpoints",
    ]
    .iter()
    .map(|table| count(conn, &format!("SELECT COUNT(*) AS n FROM {table}")))
    .chain([used])
    .collect()
}

fn verify_lib(conn: &mut AnyConnection, trusted: &TrustedKeys) -> Result<verify::Verified, Tampering> {
    verify::verify(conn, trusted, |_| {}, &|_| {}).unwrap()
}

fn restore(conn: &mut AnyConnection, event: &StoredEvent) {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::seq.eq(event.seq),
            audit_events::at.eq(event.at),
            audit_events::kind.eq(&event.kind),
            audit_events::actor.eq(&event.actor),
            audit_events::ent_id.eq(&event.ent_id),
            audit_events::uai.eq(&event.uai),
            audit_events::subject.eq(&event.subject),
            audit_events::details.eq(&event.details),
            audit_events::prev_hash.eq(&event.prev_hash),
            audit_events::hash.eq(&event.hash),
        ))
        .execute(conn)
        .unwrap();
}

fn line<'a>(out: &'a str, start: &str) -> &'a str {
    out.lines().find(|l| l.starts_with(start)).unwrap_or_else(|| panic!("no line `{start}` in:\n{out}"))
}

crate::storage_test! {
    fn purge_removes_exactly_what_is_due_and_the_log_still_verifies(db) {
        let data = tempfile::tempdir().unwrap();
        let config = Config { data_dir: data.path().to_owned(), ..Config::default() };
        let signer = Signer::new(&keys(data.path())).unwrap();
        let trusted = TrustedKeys::load(&config).unwrap();
        let conn = &mut db.connect();
        let due = set_up(conn, &signer);
        let used_before = used_seats(conn);
        let pseudonyms = pseudonyms(data.path());

        // A dry run counts what a real run removes, and changes nothing.
        let before = snapshot(conn);
        let purger = Purger { policy: config.retention.policy(), signer: &signer, trusted: &trusted, pseudonyms: &pseudonyms, actor: Actor::operator() };
        let dry = purger.run(conn, now(), true, &|_| {}).unwrap();
        assert_eq!(snapshot(conn), before, "a dry run changes nothing");
        assert!(matches!(&dry.audit_events, EventsPurge::Purged { deleted, .. } if (deleted.release_traces, deleted.other) == (3, 1)), "{dry:?}");
        let dry_out = ok(sesame(data.path(), &db, &["audit", "purge", "--dry-run"]));
        assert!(dry_out.contains("would purge 3 release trace(s) and 1 other audit event(s)"), "{dry_out}");
        assert_eq!(snapshot(conn), before);

        let out = ok(sesame(data.path(), &db, &["audit", "purge"]));
        assert_eq!(line(&out, "purged 3 release"), "purged 3 release trace(s) and 1 other audit event(s)");
        let memberships = dry.persons.memberships;
        assert!(memberships >= 3, "a pupil has a school, a profile and a class at least");
        assert_eq!(
            line(&out, "purged 1 person"),
            format!("purged 1 person(s) removed from the directory ({} seat(s) freed, {memberships} membership row(s))", due.gone_person_active_seats)
        );
        // Both seats released last school year go; the assignment this year's history refers to stays.
        assert_eq!(line(&out, "purged 1 assignment"), "purged 1 assignment history row(s), 2 released seat(s), 1 revoked assignment(s) of past school years");
        assert_eq!(line(&out, "purged 1 expired"), "purged 1 expired sign-on request(s), 1 replay-cache entr(ies), 2 session(s)");

        // Exactly what was due is gone.
        let remaining = seqs(conn);
        for seq in &due.events_due {
            assert!(!remaining.contains(seq), "event {seq} was due");
        }
        for seq in &due.events_kept {
            assert!(remaining.contains(seq), "event {seq} was not due");
        }
        assert_eq!(count(conn, &format!("SELECT COUNT(*) AS n FROM persons WHERE id = {}", due.gone_person)), 0);
        assert_eq!(count(conn, &format!("SELECT COUNT(*) AS n FROM persons WHERE id = {}", due.staying_person)), 1, "inside the grace period");
        for table in ["person_establishments", "person_profiles", "person_groups", "assignment_seats"] {
            assert_eq!(count(conn, &format!("SELECT COUNT(*) AS n FROM {table} WHERE person_id = {}", due.gone_person)), 0, "{table}");
        }
        assert_eq!(used_seats(conn), used_before - due.gone_person_active_seats, "the seats went back to their counters");
        assert_eq!(
            count(conn, "SELECT COUNT(*) AS n FROM licence_pools l WHERE l.used <> (SELECT COUNT(*) FROM assignment_seats a \
                WHERE a.subscription_id = l.subscription_id AND a.uai = l.uai AND a.status = 'ACTIVE' \
                AND (l.public = 'GLOBAL' OR a.public = l.public))"),
            0,
            "every counter matches its active seats"
        );
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM assignment_history"), due.demo_history + 1);
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM assignments WHERE target_ref = 'z0-other'"), 2);
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM assignment_seats WHERE status = 'RELEASED'"), 1);
        let ids = |conn: &mut AnyConnection, table: &str, column: &str| -> Vec<String> {
            #[derive(QueryableByName)]
            struct Id { #[diesel(sql_type = diesel::sql_types::Text)] id: String }
            diesel::sql_query(format!("SELECT {column} AS id FROM {table} ORDER BY {column}")).load::<Id>(conn).unwrap().into_iter().map(|r| r.id).collect()
        };
        assert_eq!(ids(conn, "saml_requests", "id"), ["req-live"]);
        assert_eq!(ids(conn, "saml_replay_cache", "assertion_id"), ["req-live"]);
        assert_eq!(ids(conn, "web_sessions", "id"), ["s-live"]);

        // The purge is audited, counts only, after a signed segment boundary.
        let (purge_seq, actor, details): (i64, String, String) = audit_events::table
            .filter(audit_events::kind.eq("retention.purged"))
            .select((audit_events::seq, audit_events::actor, audit_events::details))
            .first(conn)
            .unwrap();
        assert_eq!(actor, "operator:cli");
        let details: Value = serde_json::from_str(&details).unwrap();
        assert_eq!(details["auditEvents"], json!({ "outcome": "purged", "deleted": { "releaseTraces": 3, "other": 1 }, "boundary": purge_seq - 1 }));
        assert_eq!(details["persons"]["persons"], 1);
        assert_eq!(details["expired"]["sessions"], 1);
        let segment = audit_checkpoints::latest(conn).unwrap().unwrap();
        assert_eq!((segment.checkpoint.kind, segment.checkpoint.last_seq), (CheckpointKind::Segment, purge_seq - 1));
        assert_eq!(segment.checkpoint.kept.as_ref().unwrap().count, (purge_seq - 1) - 4);

        let verified = ok(sesame(data.path(), &db, &["audit", "verify", "--no-checkpoint"]));
        assert!(verified.contains(&format!("the chain from the purge boundary at event {}", purge_seq - 1)), "{verified}");

        // Nothing is due any more: a second run removes nothing and records nothing.
        let again = ok(sesame(data.path(), &db, &["audit", "purge"]));
        assert!(again.contains("purged 0 release trace(s) and 0 other audit event(s)"), "{again}");
        assert!(!again.contains("recorded as audit event"), "{again}");

        // What the purge kept before the boundary is still protected.
        let events = audit::events_after(conn, 0, 1_000).unwrap();
        let old_kept = events.iter().find(|e| e.seq == due.events_kept[0]).unwrap().clone();
        exec(conn, &format!("DELETE FROM audit_events WHERE seq = {}", old_kept.seq));
        let refused = sesame(data.path(), &db, &["audit", "verify"]);
        assert_eq!(refused.status.code(), Some(1));
        assert!(stderr(&refused).contains(&format!(
            "the events kept at or before the purge boundary at event {} are not the signed ones", purge_seq - 1
        )), "{}", stderr(&refused));
        restore(conn, &old_kept);
        exec(conn, &format!("UPDATE audit_events SET details = '{{\"n\":99}}' WHERE seq = {}", old_kept.seq));
        let refused = sesame(data.path(), &db, &["audit", "verify"]);
        assert!(stderr(&refused).contains(&format!("event {}: its content does not match its hash (modified); it was kept by the purge", old_kept.seq)), "{}", stderr(&refused));
        diesel::update(audit_events::table.find(old_kept.seq)).set(audit_events::details.eq(&old_kept.details)).execute(conn).unwrap();
        // A purged event put back, well-formed: an insertion only the signed kept list shows.
        let mut forged = old_kept.clone();
        forged.seq = due.events_due[0];
        forged.hash = forged.expected_hash();
        restore(conn, &forged);
        assert!(matches!(verify_lib(conn, &trusted), Err(Tampering::KeptChanged { expected, found, .. }) if found == expected + 1));
        exec(conn, &format!("DELETE FROM audit_events WHERE seq = {}", forged.seq));
        // Without the boundary, the purged events are missing from the chain.
        exec(conn, &format!("DELETE FROM audit_checkpoints WHERE id = {}", segment.id));
        assert!(matches!(verify_lib(conn, &trusted), Err(Tampering::Chain(_))));
        audit_checkpoints::insert(conn, &segment.checkpoint, &segment.signature, &segment.key_id).unwrap();
        verify_lib(conn, &trusted).expect("restored");

        // A log that does not verify keeps its events; the rest of the purge still happens.
        let late = audit::append_at(conn, &event(AuditKind::Release, 8), now() - TimeDelta::days(500)).unwrap();
        let tampered = events.iter().find(|e| e.seq == due.events_kept[2]).unwrap().clone();
        exec(conn, &format!("UPDATE audit_events SET actor = 'someone-else' WHERE seq = {}", tampered.seq));
        let kept_out = sesame(data.path(), &db, &["audit", "purge"]);
        assert_eq!(kept_out.status.code(), Some(1));
        assert!(stdout(&kept_out).contains(&format!("kept every audit event: the log does not verify (event {}", tampered.seq)), "{}", stdout(&kept_out));
        assert!(seqs(conn).contains(&late));
        diesel::update(audit_events::table.find(tampered.seq)).set(audit_events::actor.eq(&tampered.actor)).execute(conn).unwrap();
        let purged = ok(sesame(data.path(), &db, &["audit", "purge"]));
        assert!(purged.contains("purged 1 release trace(s)"), "{purged}");
        assert!(!seqs(conn).contains(&late));
        ok(sesame(data.path(), &db, &["audit", "verify"]));
    }
}

crate::storage_test! {
    async fn the_serve_jobs_sign_checkpoints_and_apply_retention(db) {
        let conn = &mut db.connect();
        demo::load(conn).unwrap();
        let old = audit::append_at(conn, &event(AuditKind::Turnaway, 1), now() - TimeDelta::days(400)).unwrap();
        audit::append(conn, &event(AuditKind::AssignmentCreated, 2)).unwrap();
        let gone: i64 = count(conn, "SELECT MIN(id) AS n FROM persons WHERE source = 'ELEVE'");
        diesel::update(persons::table.find(gone)).set(persons::removed_at.eq(Some(now() - TimeDelta::days(31)))).execute(conn).unwrap();

        let app = TestApp::spawn_with(&db, |c| {
            c.retention.enabled = true;
            c.audit.checkpoint_every_secs = 1;
        })
        .await;
        let mut purged = None;
        for _ in 0..150 {
            let found: Option<(String, String)> = audit_events::table
                .filter(audit_events::kind.eq("retention.purged"))
                .select((audit_events::actor, audit_events::details))
                .first(&mut app.conn())
                .optional()
                .unwrap();
            if found.is_some() && count(&mut app.conn(), "SELECT COUNT(*) AS n FROM audit_checkpoints WHERE kind = 'CHECKPOINT'") > 0 {
                purged = found;
                break;
            }
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        }
        let (actor, details) = purged.expect("the retention job ran and a checkpoint was signed within 30 s");
        assert_eq!(actor, "system:retention");
        let details: Value = serde_json::from_str(&details).unwrap();
        assert_eq!(details["auditEvents"]["deleted"]["releaseTraces"], 1);
        assert_eq!(details["persons"]["persons"], 1);
        assert!(!seqs(&mut app.conn()).contains(&old));
        assert_eq!(count(&mut app.conn(), &format!("SELECT COUNT(*) AS n FROM persons WHERE id = {gone}")), 0);
        // The schedule lease holds the next run off for a whole period.
        let lease = count(&mut app.conn(), "SELECT COUNT(*) AS n FROM job_leases WHERE name = 'retention.schedule'");
        assert_eq!(lease, 1);
        let trusted = TrustedKeys::load(&app.config).unwrap();
        verify_lib(&mut app.conn(), &trusted).expect("the log verifies after the job's purge");
    }
}
