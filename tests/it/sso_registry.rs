//! Registering sign-on partners with the `sesame` commands (`ent idp`, `publisher add`,
//! `contract approve|list`), metadata from a file or a URL, and the refresh of URL metadata that
//! keeps the last good registration when a fetch fails.

use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpResponse, HttpServer, web};
use diesel::prelude::*;
use serde_json::json;
use sesame::store::saml::find_identity_provider;
use sesame::store::schema::audit_events;

use crate::common::TestDb;
use crate::interop;
use crate::sso_support::{DICTIONARIES, ENCYCLOPEDIA, publisher_metadata, sp_entity};

/// What the metadata server answers: status and body.
type Served = Arc<Mutex<(u16, String)>>;

/// A plain HTTP server on its own thread (the CLI runs while the test thread waits).
fn metadata_server(served: Served) -> String {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new().app_data(web::Data::new(served.clone())).default_service(web::to(
                    |served: web::Data<Served>| async move {
                        let (status, body) = served.lock().unwrap().clone();
                        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).body(body)
                    },
                ))
            })
            .workers(1)
            .bind("127.0.0.1:0")
            .unwrap();
            sender.send(server.addrs()[0].port()).unwrap();
            server.run().await.unwrap();
        })
    });
    format!("http://127.0.0.1:{}/metadata.xml", receiver.recv().unwrap())
}

/// An ENT identity provider's metadata, fresh keys each time.
fn ent_idp_metadata(entity_id: &str) -> String {
    let answer = interop::python(
        "ent_idp.py",
        &[],
        &json!({
            "sp_metadata": "",
            "console_entity_id": "https://sesame.test/console/metadata",
            "console_acs_url": "https://sesame.test/console/acs",
            "id_ent": "Z0",
            "gar_person_id": "z0-elv-0001",
            "idp_entity_id": entity_id,
        }),
    );
    answer["metadata"].as_str().unwrap().to_owned()
}

fn sesame(db: &TestDb, dir: &std::path::Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sesame"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("SESAME_")) {
        command.env_remove(key);
    }
    command
        .current_dir(dir)
        .args(args)
        .env("SESAME_DATA_DIR", dir)
        .env("SESAME_DATABASE__URL", db.url.expose())
        .env("SESAME_LOG__LEVEL", "warn")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn partner_changes(conn: &mut sesame::store::AnyConnection) -> i64 {
    audit_events::table.filter(audit_events::kind.eq("partner.changed")).count().get_result(conn).unwrap()
}

crate::storage_test! {
    fn partners_and_contracts_from_the_command_line(db) {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = db.connect();
        sesame::demo::load(&mut conn).unwrap();
        let served: Served = Arc::new(Mutex::new((200, ent_idp_metadata("https://ent.test/idp/shibboleth"))));
        let url = metadata_server(served.clone());

        // The ENT's IdP from a URL, refreshed later.
        let output = sesame(&db, dir.path(), &["ent", "idp", "--id", "Z0", "--metadata", &url]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(stdout(&output).contains("identity provider https://ent.test/idp/shibboleth registered"));
        let registered = find_identity_provider(&mut conn, "Z0").unwrap().unwrap();
        assert_eq!(registered.metadata_url.as_deref(), Some(url.as_str()));
        let output = sesame(&db, dir.path(), &["ent", "idp", "--id", "Q9", "--metadata", &url]);
        assert_eq!(output.status.code(), Some(1));
        assert!(stderr(&output).contains("no ENT project Q9"), "{}", stderr(&output));

        // A new ENT project with its IdP in one command (metadata from a file).
        let z9 = dir.path().join("z9.xml");
        std::fs::write(&z9, ent_idp_metadata("https://ent9.test/idp/shibboleth")).unwrap();
        let output = sesame(&db, dir.path(), &["ent", "add", "--id", "Z9", "--name", "ENT 9", "--metadata", z9.to_str().unwrap()]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(stdout(&output).contains("ENT Z9: identity provider https://ent9.test/idp/shibboleth registered"));
        assert_eq!(find_identity_provider(&mut conn, "Z9").unwrap().unwrap().metadata_url, None);
        let output = sesame(&db, dir.path(), &["ent", "add", "--id", "Z8", "--name", "ENT 8", "--metadata", "/nonexistent.xml"]);
        assert_eq!(output.status.code(), Some(1));
        assert!(sesame::store::partners::find_ent_project_name(&mut conn, "Z8").unwrap().is_none(), "nothing registered");

        // A publisher from a file, with a resource that is not its own: nothing is written.
        let file = dir.path().join("sp.xml");
        std::fs::write(&file, publisher_metadata(DICTIONARIES)).unwrap();
        let file = file.to_str().unwrap();
        let changes = partner_changes(&mut conn);
        let output = sesame(&db, dir.path(), &["publisher", "add", "--id", DICTIONARIES, "--name", "Dictionnaires",
            "--metadata", file, "--resource", "ark:/99999/demo.maths6"]);
        assert_eq!(output.status.code(), Some(1));
        assert!(stderr(&output).contains("not resources of publisher"), "{}", stderr(&output));
        assert_eq!(partner_changes(&mut conn), changes);
        let output = sesame(&db, dir.path(), &["publisher", "add", "--id", DICTIONARIES, "--name", "Dictionnaires",
            "--metadata", file, "--resource", ENCYCLOPEDIA, "--assertion-only"]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(stdout(&output).contains("requested attributes: IDO,UAI,PRO,DIV,NOM,PRE,P_MEL"), "{}", stdout(&output));
        assert_eq!(partner_changes(&mut conn), changes + 1);
        let sp = sesame::store::saml::find_service_provider_by_entity_id(&mut conn, &sp_entity(DICTIONARIES)).unwrap().unwrap();
        assert!(!sp.sign_response);

        // Contracts: through the resource, then the SP; the first version is retired.
        let approve = |target: &[&str], attributes: &str| {
            let mut args = vec!["contract", "approve"];
            args.extend_from_slice(target);
            args.extend_from_slice(&["--attributes", attributes, "--purpose", "Accès à l'encyclopédie",
                "--legal-basis", "RGPD art. 6.1.e", "--approver", "DPO académique", "--retention-days", "90"]);
            sesame(&db, dir.path(), &args)
        };
        let output = approve(&["--resource", ENCYCLOPEDIA], "NOM,DIV");
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(stdout(&output).contains("contract version 1 APPROVED"), "{}", stdout(&output));
        assert!(stdout(&output).contains("IDO,UAI,PRO,NOM,DIV"), "the floor is added: {}", stdout(&output));
        let output = approve(&["--sp", &sp_entity(DICTIONARIES)], "DIV");
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(stdout(&output).contains("version 2 APPROVED") && stdout(&output).contains("version 1 RETIRED"));
        let output = approve(&["--sp", &sp_entity(DICTIONARIES)], "IDO,MAIL");
        assert_eq!(output.status.code(), Some(1));
        assert!(stderr(&output).contains("`MAIL` is not a releasable attribute"), "{}", stderr(&output));
        let output = approve(&["--sp", "https://nobody.test/sp"], "DIV");
        assert!(stderr(&output).contains("no service provider is registered as https://nobody.test/sp"));

        let output = sesame(&db, dir.path(), &["contract", "list"]);
        assert!(output.status.success(), "{}", stderr(&output));
        let listing = stdout(&output);
        let lines: Vec<&str> = listing.lines().collect();
        assert_eq!(lines.len(), 3, "{listing}");
        assert!(lines[0].starts_with("SP") && lines[0].contains("APPROVER"), "{listing}");
        assert!(lines[1].contains(" 1 ") && lines[1].contains("RETIRED") && lines[1].contains("IDO,UAI,PRO,NOM,DIV"), "{listing}");
        assert!(lines[2].contains(" 2 ") && lines[2].contains("APPROVED") && lines[2].contains("DPO académique"), "{listing}");
        let approved: Vec<(String, String)> = audit_events::table
            .filter(audit_events::kind.eq_any(["contract.approved", "contract.retired"]))
            .order(audit_events::seq)
            .select((audit_events::kind, audit_events::details))
            .load(&mut conn)
            .unwrap();
        assert_eq!(approved.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["contract.approved", "contract.retired", "contract.approved"]);
        assert!(!approved[0].1.contains("DPO"), "no names in audit details");

        // The refresh job: a changed document replaces the registration; a failure keeps it.
        let pool = db.url.pool(2).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let refresh = || runtime.block_on(sesame::sso::refresh::refresh_all(&pool));
        assert_eq!(refresh().unchanged, 1);
        served.lock().unwrap().1 = ent_idp_metadata("https://ent.test/idp/shibboleth");
        let changes = partner_changes(&mut conn);
        assert_eq!(refresh().updated, 1);
        let refreshed = find_identity_provider(&mut conn, "Z0").unwrap().unwrap();
        assert_ne!(refreshed.certificates, registered.certificates, "new keys");
        assert_eq!(partner_changes(&mut conn), changes + 1);
        served.lock().unwrap().0 = 500;
        assert_eq!(refresh().failed, 1);
        served.lock().unwrap().0 = 200;
        served.lock().unwrap().1 = "<not metadata/>".into();
        assert_eq!(refresh().failed, 1);
        assert_eq!(find_identity_provider(&mut conn, "Z0").unwrap().unwrap(), refreshed, "the last good metadata is kept");
    }
}
