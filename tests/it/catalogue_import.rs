//! `sesame resource import FILE` and `sesame ent origins`: the real binary on both backends.

use std::path::Path;
use std::process::{Command, Output};

use diesel::prelude::*;
use serde_json::Value;
use sesame::store::catalogue;
use sesame::store::schema::{audit_events, publishers, resources};
use sesame::store::{AnyConnection, widget_origins};

use crate::common::{TestDb, seed_partners};

fn sesame(db: &TestDb, dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sesame"));
    command.current_dir(dir).args(args);
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("SESAME_")) {
        command.env_remove(key);
    }
    command.env("SESAME_DATABASE__URL", db.url.expose()).env("SESAME_LOG__LEVEL", "warn");
    command.output().expect("sesame runs")
}

fn out(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn demo_notices() -> Value {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/resources.json"));
    serde_json::from_str(&text.unwrap()).unwrap()
}

fn write(dir: &Path, name: &str, value: &Value) -> String {
    std::fs::write(dir.join(name), serde_json::to_vec_pretty(value).unwrap()).unwrap();
    name.to_owned()
}

fn notice<'a>(file: &'a mut Value, id: &str) -> &'a mut Value {
    file["ressources"].as_array_mut().unwrap().iter_mut().find(|n| n["idRessource"] == id).unwrap()
}

/// (resources, publishers, catalogue.imported events)
fn counts(conn: &mut AnyConnection) -> (i64, i64, i64) {
    (
        resources::table.count().get_result(conn).unwrap(),
        publishers::table.count().get_result(conn).unwrap(),
        audit_events::table.filter(audit_events::kind.eq("catalogue.imported")).count().get_result(conn).unwrap(),
    )
}

crate::storage_test! {
    fn import_creates_then_updates_and_audits_each_import(db) {
        let dir = tempfile::tempdir().unwrap();
        let conn = &mut db.connect();
        let mut file = demo_notices();
        let name = write(dir.path(), "notices.json", &file);

        let first = sesame(&db, dir.path(), &["resource", "import", &name]);
        assert!(first.status.success(), "{}", out(&first));
        assert!(out(&first).contains("8 notices: 8 created, 0 updated, 0 unchanged; 4 publisher(s) added, 0 renamed"), "{}", out(&first));
        assert!(out(&first).contains("8/8 notices written"), "progress: {}", out(&first));
        assert_eq!(counts(conn), (8, 4, 1));

        let again = sesame(&db, dir.path(), &["resource", "import", &name]);
        assert!(out(&again).contains("0 created, 0 updated, 8 unchanged"), "{}", out(&again));

        // A re-issued notice: new title, thumbnail removed, a publisher renamed.
        let maths = notice(&mut file, "ark:/99999/demo.maths6");
        maths["nomRessource"] = "Mathématiques 6e — édition 2027".into();
        maths.as_object_mut().unwrap().remove("urlVignette");
        for id in ["ark:/99999/demo.maths6", "ark:/99999/demo.francais3"] {
            notice(&mut file, id)["nomEditeur"] = "Éditions Savoirs Démo".into();
        }
        let name = write(dir.path(), "notices-2027.json", &file);
        let updated = sesame(&db, dir.path(), &["resource", "import", &name]);
        assert!(updated.status.success(), "{}", out(&updated));
        assert!(out(&updated).contains("0 created, 1 updated, 7 unchanged; 0 publisher(s) added, 1 renamed"), "{}", out(&updated));
        let stored = catalogue::find_notices(conn, &["ark:/99999/demo.maths6"]).unwrap().remove(0);
        assert_eq!(stored.name, "Mathématiques 6e — édition 2027");
        assert_eq!(stored.thumbnail_url, None);
        assert_eq!(stored.publisher_name, "Éditions Savoirs Démo");
        assert_eq!(counts(conn), (8, 4, 3));

        let events: Vec<String> = audit_events::table
            .filter(audit_events::kind.eq("catalogue.imported"))
            .order(audit_events::seq)
            .select(audit_events::details)
            .load(conn)
            .unwrap();
        let last: Value = serde_json::from_str(&events[2]).unwrap();
        assert_eq!((last["notices"].as_u64(), last["updated"].as_u64(), last["publishersRenamed"].as_u64()), (Some(8), Some(1), Some(1)));
        assert_eq!(last["sha256"].as_str().unwrap().len(), 64);
        let actors: Vec<String> = audit_events::table.select(audit_events::actor).load(conn).unwrap();
        assert!(actors.iter().all(|a| a == "operator:cli"), "{actors:?}");
    }
}

crate::storage_test! {
    fn a_refused_file_names_every_problem_and_changes_nothing(db) {
        let dir = tempfile::tempdir().unwrap();
        let conn = &mut db.connect();
        let name = write(dir.path(), "notices.json", &demo_notices());
        assert!(sesame(&db, dir.path(), &["resource", "import", &name]).status.success());
        let before = counts(conn);

        let mut file = demo_notices();
        notice(&mut file, "ark:/99999/demo.fle")["niveauEducatif"][0]["uri"] =
            "http://data.education.fr/voc/scolomfr/concept/scolomfr-voc-015-num-042".into();
        notice(&mut file, "ark:/99999/demo.actu")["mereFamille"] = "ark:/99999/nowhere".into();
        let mut copy = notice(&mut file, "ark:/99999/demo.maths6").clone();
        copy["idRessource"] = "ark:/99999/demo.new".into();
        copy["urlRessource"] = "javascript:alert(1)".into();
        file["ressources"].as_array_mut().unwrap().push(copy);
        let name = write(dir.path(), "bad.json", &file);
        let refused = sesame(&db, dir.path(), &["resource", "import", &name]);
        assert_eq!(refused.status.code(), Some(1), "{}", out(&refused));
        let message = out(&refused);
        assert!(message.contains("2 problem(s), nothing imported"), "{message}");
        assert!(message.contains("ark:/99999/demo.fle: `niveauEducatif` holds"), "{message}");
        assert!(message.contains("ark:/99999/demo.new: `urlRessource` is not an http(s) URL"), "{message}");

        // Family rules need the catalogue: an unknown mother, two levels, a mother joining a family.
        let mut file = demo_notices();
        notice(&mut file, "ark:/99999/demo.actu")["mereFamille"] = "ark:/99999/nowhere".into();
        notice(&mut file, "ark:/99999/demo.fle")["mereFamille"] = "ark:/99999/demo.dicojunior".into();
        notice(&mut file, "ark:/99999/demo.encyclopedie")["mereFamille"] = "ark:/99999/demo.maths6".into();
        let name = write(dir.path(), "families.json", &file);
        let refused = sesame(&db, dir.path(), &["resource", "import", &name]);
        assert_eq!(refused.status.code(), Some(1), "{}", out(&refused));
        let message = out(&refused);
        assert!(message.contains("ark:/99999/demo.actu: family mother ark:/99999/nowhere is neither in the file nor in the catalogue"), "{message}");
        assert!(message.contains("ark:/99999/demo.fle: family mother ark:/99999/demo.dicojunior is itself a member"), "{message}");
        assert!(message.contains("ark:/99999/demo.encyclopedie: cannot join a family while it is the mother of ark:/99999/demo.dicojunior"), "{message}");

        let garbage = dir.path().join("garbage.json");
        std::fs::write(&garbage, "{\"ressources\": [").unwrap();
        let refused = sesame(&db, dir.path(), &["resource", "import", "garbage.json"]);
        assert_eq!(refused.status.code(), Some(1));
        assert!(out(&refused).contains("not a resource import file"), "{}", out(&refused));
        let missing = sesame(&db, dir.path(), &["resource", "import", "missing.json"]);
        assert!(out(&missing).contains("cannot read missing.json"), "{}", out(&missing));

        assert_eq!(counts(conn), before, "nothing written, nothing audited");
    }
}

crate::storage_test! {
    fn ent_origins_are_managed_and_audited(db) {
        let dir = tempfile::tempdir().unwrap();
        let conn = &mut db.connect();
        seed_partners(conn);
        let added = sesame(&db, dir.path(), &["ent", "origins", "add", "--ent", "Z0", "https://ENT.example.org:443/"]);
        assert!(added.status.success(), "{}", out(&added));
        assert!(out(&added).contains("Z0: https://ent.example.org allowed"), "{}", out(&added));
        let twice = sesame(&db, dir.path(), &["ent", "origins", "add", "--ent", "Z0", "https://ent.example.org"]);
        assert!(out(&twice).contains("was already allowed"), "{}", out(&twice));
        assert!(widget_origins::is_allowed(conn, "Z0", "https://ent.example.org").unwrap());
        let listed = sesame(&db, dir.path(), &["ent", "origins", "list", "--ent", "Z0"]);
        assert_eq!(String::from_utf8_lossy(&listed.stdout), "https://ent.example.org\n");

        for (args, expected) in [
            (vec!["ent", "origins", "add", "--ent", "Z0", "https://ent.example.org/portail"], "not a web origin"),
            (vec!["ent", "origins", "add", "--ent", "NOPE", "https://ent.example.org"], "unknown ENT project `NOPE`"),
        ] {
            let refused = sesame(&db, dir.path(), &args);
            assert_eq!(refused.status.code(), Some(1), "{}", out(&refused));
            assert!(out(&refused).contains(expected), "{}", out(&refused));
        }
        let removed = sesame(&db, dir.path(), &["ent", "origins", "remove", "--ent", "Z0", "https://ent.example.org"]);
        assert!(out(&removed).contains("withdrawn"), "{}", out(&removed));
        assert!(widget_origins::list(conn, "Z0").unwrap().is_empty());
        let changes: Vec<(String, Option<String>, String)> = audit_events::table
            .filter(audit_events::kind.eq("partner.changed"))
            .order(audit_events::seq)
            .select((audit_events::actor, audit_events::ent_id, audit_events::details))
            .load(conn)
            .unwrap();
        assert_eq!(changes.len(), 2, "one event per actual change: {changes:?}");
        assert!(changes[0].2.contains("\"action\":\"added\"") && changes[1].2.contains("\"action\":\"removed\""));
        assert_eq!(changes[0].1.as_deref(), Some("Z0"));
    }
}
