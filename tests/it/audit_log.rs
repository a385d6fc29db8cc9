//! The audit chain stays whole when several connections append at once, on both backends.

use sesame::domain::audit::{Actor, AuditEvent, AuditKind, GENESIS_HASH, verify_chain};
use sesame::store::audit;

crate::storage_test! {
    fn concurrent_appends_keep_one_chain(db) {
        drop(db.connect());
        let pool = db.url.pool(6).unwrap();
        let writers: Vec<_> = (0..6)
            .map(|writer| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    let mut conn = pool.get().unwrap();
                    for n in 0..20 {
                        let event = AuditEvent::new(
                            AuditKind::ConfigChanged,
                            Actor::system("test"),
                            serde_json::json!({ "writer": writer, "n": n }),
                        )
                        .ent("Z0");
                        audit::append(&mut conn, &event).unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        let events = audit::events_after(&mut pool.get().unwrap(), 0, 1_000).unwrap();
        assert_eq!(events.len(), 120);
        assert_eq!(events.last().unwrap().seq, 120);
        verify_chain((0, GENESIS_HASH), &events).expect("one unbroken chain");
    }
}
