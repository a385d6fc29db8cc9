//! `sesame audit verify` detects tampering done with SQL straight on the database: an event
//! modified (with or without recomputing hashes), deleted, inserted or moved, the end cut below a
//! checkpoint, a checkpoint altered or forged. It exits 1 and names the first bad event.

use chrono::TimeDelta;
use diesel::prelude::*;
use serde_json::json;
use sesame::audit::checkpoint;
use sesame::audit::signing::Signer;
use sesame::domain::audit::{Actor, AuditEvent, AuditKind, StoredEvent, chain_hash};
use sesame::domain::audit_checkpoint::{Checkpoint, CheckpointKind};
use sesame::store::schema::audit_events;
use sesame::store::{AnyConnection, audit, audit_checkpoints};

use crate::audit_support::{days_ago, exec, keys, now, ok, sesame, stderr, stdout};

/// 25 events; a signed checkpoint at event 20. Returns the events and the checkpoint's id.
fn fresh_chain(conn: &mut AnyConnection, signer: &Signer) -> (Vec<StoredEvent>, i64) {
    exec(conn, "DELETE FROM audit_checkpoints");
    exec(conn, "DELETE FROM audit_events");
    let start = days_ago(3);
    let event = |n: i64| {
        let kind = [AuditKind::AssignmentCreated, AuditKind::Release, AuditKind::SubscriptionUpdated][n as usize % 3];
        AuditEvent::new(kind, Actor::manager("Z0", "z0-doc-0001"), json!({ "n": n, "subscription": 100 + n }))
            .ent("Z0")
            .uai("0990001N")
    };
    for n in 1..=20 {
        audit::append_at(conn, &event(n), start + TimeDelta::minutes(n)).unwrap();
    }
    let signed = checkpoint::checkpoint_head(conn, signer, now()).unwrap().expect("a checkpoint of event 20");
    assert_eq!(signed.checkpoint.last_seq, 20);
    for n in 21..=25 {
        audit::append_at(conn, &event(n), start + TimeDelta::minutes(n)).unwrap();
    }
    (audit::events_after(conn, 0, 100).unwrap(), signed.id)
}

/// Rewrites stored events through SQL, as someone with database access would.
fn overwrite(conn: &mut AnyConnection, event: &StoredEvent) {
    diesel::update(audit_events::table.find(event.seq))
        .set((
            audit_events::details.eq(&event.details),
            audit_events::prev_hash.eq(&event.prev_hash),
            audit_events::hash.eq(&event.hash),
        ))
        .execute(conn)
        .unwrap();
}

fn rehash(event: &mut StoredEvent) {
    event.hash = chain_hash(
        &event.prev_hash,
        event.seq,
        event.at,
        &event.kind,
        &event.actor,
        event.ent_id.as_deref(),
        event.uai.as_deref(),
        event.subject.as_deref(),
        &event.details,
    );
}

crate::storage_test! {
    fn verify_detects_every_kind_of_tampering(db) {
        let data = tempfile::tempdir().unwrap();
        let signer = Signer::new(&keys(data.path())).unwrap();
        let conn = &mut db.connect();

        // Intact: exit 0, and a checkpoint of the last event is signed at the end.
        let (_, first_checkpoint) = fresh_chain(conn, &signer);
        let out = ok(sesame(data.path(), &db, &["audit", "verify"]));
        assert!(out.contains("audit log intact: 25 event(s) checked"), "{out}");
        assert!(out.contains("1 checkpoint signature(s) valid"), "{out}");
        let latest = audit_checkpoints::latest(conn).unwrap().unwrap();
        assert_eq!((latest.checkpoint.last_seq, latest.checkpoint.kind), (25, CheckpointKind::Checkpoint));
        assert!(latest.id > first_checkpoint);
        assert!(out.contains(&format!("signed checkpoint #{} at event 25", latest.id)), "{out}");

        let expect_tampered = |conn: &mut AnyConnection, case: &str, message: &str, first_bad: Option<i64>| {
            let output = sesame(data.path(), &db, &["audit", "verify", "--no-checkpoint"]);
            let err = stderr(&output);
            assert_eq!(output.status.code(), Some(1), "{case}: {}{err}", stdout(&output));
            assert!(err.contains("the audit log was tampered with"), "{case}: {err}");
            assert!(err.contains(message), "{case}: expected `{message}` in {err}");
            match first_bad {
                Some(seq) => assert!(err.contains(&format!("first bad event: {seq}\n")), "{case}: {err}"),
                None => assert!(!err.contains("first bad event"), "{case}: {err}"),
            }
            // Verifying never repairs anything: the second run finds the same.
            assert_eq!(sesame(data.path(), &db, &["audit", "verify", "--no-checkpoint"]).status.code(), Some(1), "{case}");
            let _ = conn;
        };

        // Modified content, hash left alone.
        fresh_chain(conn, &signer);
        exec(conn, r#"UPDATE audit_events SET details = '{"n":7,"subscription":999}' WHERE seq = 7"#);
        expect_tampered(conn, "modified", "event 7: its content does not match its hash (modified)", Some(7));

        // Modified and re-hashed: the next event no longer links to it.
        let (events, _) = fresh_chain(conn, &signer);
        let mut forged = events[6].clone();
        forged.details = r#"{"n":7,"subscription":999}"#.into();
        rehash(&mut forged);
        overwrite(conn, &forged);
        expect_tampered(conn, "re-hashed", "event 8: it does not follow event 7", Some(8));

        // The whole tail from event 7 rewritten consistently: only the signed checkpoint notices.
        let (mut events, checkpoint_id) = fresh_chain(conn, &signer);
        events[6].details = r#"{"n":7,"subscription":999}"#.into();
        for i in 6..events.len() {
            if i > 6 {
                events[i].prev_hash = events[i - 1].hash.clone();
            }
            rehash(&mut events[i]);
            overwrite(conn, &events[i]);
        }
        expect_tampered(
            conn,
            "rewritten",
            &format!("event 20: its hash is not the one checkpoint #{checkpoint_id} signed"),
            Some(20),
        );

        // Deleted.
        fresh_chain(conn, &signer);
        exec(conn, "DELETE FROM audit_events WHERE seq = 7");
        expect_tampered(conn, "deleted", "sequence numbers go from 6 to 8", Some(8));

        // Inserted: events after 10 renumbered, a well-formed forged event put at 11.
        let (events, _) = fresh_chain(conn, &signer);
        exec(conn, "UPDATE audit_events SET seq = seq + 1000 WHERE seq > 10");
        exec(conn, "UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000");
        let mut inserted = StoredEvent { seq: 11, prev_hash: events[9].hash.clone(), ..events[10].clone() };
        inserted.details = r#"{"n":0,"subscription":1}"#.into();
        rehash(&mut inserted);
        diesel::insert_into(audit_events::table)
            .values((
                audit_events::seq.eq(inserted.seq),
                audit_events::at.eq(inserted.at),
                audit_events::kind.eq(&inserted.kind),
                audit_events::actor.eq(&inserted.actor),
                audit_events::ent_id.eq(&inserted.ent_id),
                audit_events::uai.eq(&inserted.uai),
                audit_events::subject.eq(&inserted.subject),
                audit_events::details.eq(&inserted.details),
                audit_events::prev_hash.eq(&inserted.prev_hash),
                audit_events::hash.eq(&inserted.hash),
            ))
            .execute(conn)
            .unwrap();
        expect_tampered(conn, "inserted", "event 12: it does not follow event 11", Some(12));

        // Reordered: events 5 and 6 swap places.
        fresh_chain(conn, &signer);
        exec(conn, "UPDATE audit_events SET seq = -5 WHERE seq = 5");
        exec(conn, "UPDATE audit_events SET seq = 5 WHERE seq = 6");
        exec(conn, "UPDATE audit_events SET seq = 6 WHERE seq = -5");
        expect_tampered(conn, "reordered", "event 5: it does not follow event 4", Some(5));

        // The end cut below the checkpoint.
        let (_, checkpoint_id) = fresh_chain(conn, &signer);
        exec(conn, "DELETE FROM audit_events WHERE seq >= 18");
        expect_tampered(
            conn,
            "truncated",
            &format!("the log ends at event 17 but checkpoint #{checkpoint_id} signed events up to 20"),
            Some(18),
        );

        // A checkpoint altered: its signature no longer matches.
        let (_, checkpoint_id) = fresh_chain(conn, &signer);
        exec(conn, &format!("UPDATE audit_checkpoints SET last_seq = 19 WHERE id = {checkpoint_id}"));
        expect_tampered(
            conn,
            "checkpoint altered",
            &format!("checkpoint #{checkpoint_id} (CHECKPOINT at event 19): the signature does not match"),
            None,
        );

        // A checkpoint signed by someone else's key over a rewritten chain.
        let (mut events, _) = fresh_chain(conn, &signer);
        exec(conn, "DELETE FROM audit_checkpoints");
        events[2].details = r#"{"n":3,"subscription":999}"#.into();
        for i in 2..events.len() {
            if i > 2 {
                events[i].prev_hash = events[i - 1].hash.clone();
            }
            rehash(&mut events[i]);
            overwrite(conn, &events[i]);
        }
        let elsewhere = tempfile::tempdir().unwrap();
        let intruder = Signer::new(&keys(elsewhere.path())).unwrap();
        let forged = checkpoint::checkpoint_head(conn, &intruder, now()).unwrap().unwrap();
        expect_tampered(
            conn,
            "foreign key",
            &format!("checkpoint #{} (CHECKPOINT at event 25): signed by key {}, which is not a trusted", forged.id, intruder.key_id()),
            None,
        );

        // A checkpoint naming a key id that exists nowhere.
        let (_, checkpoint_id) = fresh_chain(conn, &signer);
        exec(conn, &format!("UPDATE audit_checkpoints SET key_id = 'abc123' WHERE id = {checkpoint_id}"));
        expect_tampered(conn, "unknown key", "signed by key abc123, which is not a trusted", None);

        // Back to an intact chain, it verifies again.
        fresh_chain(conn, &signer);
        ok(sesame(data.path(), &db, &["audit", "verify", "--no-checkpoint"]));
    }
}

crate::storage_test! {
    fn checkpoints_follow_their_schedule(db) {
        let data = tempfile::tempdir().unwrap();
        let signer = Signer::new(&keys(data.path())).unwrap();
        let conn = &mut db.connect();
        let schedule = checkpoint::Schedule { every_events: 5, every: TimeDelta::minutes(10) };
        let event = AuditEvent::new(AuditKind::ConfigChanged, Actor::system("test"), json!({ "key": "x" }));

        assert!(checkpoint::checkpoint_if_due(conn, &signer, schedule, now()).unwrap().is_none(), "empty log");
        audit::append(conn, &event).unwrap();
        let first = checkpoint::checkpoint_if_due(conn, &signer, schedule, now()).unwrap().expect("the first checkpoint");
        assert_eq!(first.checkpoint.last_seq, 1);
        for _ in 0..4 {
            audit::append(conn, &event).unwrap();
        }
        assert!(checkpoint::checkpoint_if_due(conn, &signer, schedule, now()).unwrap().is_none(), "4 new events, 0 minutes");
        let later = now() + TimeDelta::minutes(11);
        assert_eq!(checkpoint::checkpoint_if_due(conn, &signer, schedule, later).unwrap().unwrap().checkpoint.last_seq, 5);
        for _ in 0..5 {
            audit::append(conn, &event).unwrap();
        }
        assert_eq!(checkpoint::checkpoint_if_due(conn, &signer, schedule, later).unwrap().unwrap().checkpoint.last_seq, 10);
        assert!(checkpoint::checkpoint_if_due(conn, &signer, schedule, later + TimeDelta::hours(1)).unwrap().is_none(), "nothing new");

        // Stored as signed: the message rebuilt from the row verifies with the signer's certificate.
        let stored = audit_checkpoints::all(conn).unwrap();
        assert_eq!(stored.len(), 3);
        let trusted = sesame::audit::signing::TrustedKeys::load(&sesame::config::Config {
            data_dir: data.path().to_owned(),
            ..Default::default()
        })
        .unwrap();
        for signed in &stored {
            let message = Checkpoint { ..signed.checkpoint.clone() }.signed_message();
            trusted.verify(&signed.key_id, message.as_bytes(), &signed.signature).unwrap();
        }
    }
}
