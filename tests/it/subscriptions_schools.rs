//! The schools list, `sesame schools import` (natures, and nature subscriptions growing with
//! them) and `sesame distributor add|list`, end to end through the binary and the service.

use std::process::{Command, Output};

use reqwest::{Method, StatusCode};
use sesame::pki::{LocalAuthority, TlsPaths};

use crate::common::{TestApp, TestDb};
use crate::subscriptions_support::{A, Abonnement, Ws};

/// Runs the `sesame` binary on the test's database.
fn sesame(app: &TestApp, db: &TestDb, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sesame"));
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("SESAME_")) {
        command.env_remove(key);
    }
    let output = command
        .args(args)
        .env("SESAME_DATABASE__URL", db.url.expose())
        .env("SESAME_DATA_DIR", &app.config.data_dir)
        .output()
        .expect("sesame runs");
    assert!(output.status.success(), "sesame {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output
}

crate::storage_test! {
    async fn the_schools_list_shows_natures_and_base64_ent_ids(db) {
        let ws = Ws::start(&db).await;
        let answer = ws.call(&ws.a, Method::GET, "/etablissements/etablissements.xml", None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert!(answer.body.contains("<listEtablissement xmlns=\"http://www.atosworldline.com/listEtablissement/v1.0/\">"));
        assert_eq!(answer.body.matches("<etablissement>").count(), 4);
        let first = &answer.body[answer.body.find("<etablissement>").unwrap()..answer.body.find("</etablissement>").unwrap()];
        assert!(first.contains("<uai>0990001N</uai>"), "{first}");
        assert!(first.contains("<nature_uai>340</nature_uai>"), "{first}");
        assert!(first.contains("<idENT>WjA=</idENT>"), "Z0 in base64: {first}");
        // Before the national directory is imported, the ENT's name stands in for the official one.
        assert!(first.contains("<appellation_officielle>École 0990001N</appellation_officielle>"), "{first}");
        assert!(answer.body.contains("<idENT>WjE=</idENT>"), "Z1");
        // The sixteen columns of the real list, in its order.
        let names: Vec<&str> = first.split('<').skip(2).filter(|t| !t.starts_with('/')).map(|t| t.split(['>', '/']).next().unwrap()).collect();
        assert_eq!(names, ["uai", "nature_uai", "nature_uai_libe", "type_uai", "type_uai_libe", "commune", "commune_libe",
            "academie", "academie_libe", "departement_insee_3", "departement_insee_3_libe", "appellation_officielle",
            "patronyme_uai", "code_postal_uai", "localite_acheminement_uai", "idENT"]);
    }
}

crate::storage_test! {
    async fn importing_natures_grows_nature_subscriptions(db) {
        let ws = Ws::start(&db).await;
        // No school is a lycée professionnel (320) yet: the subscription covers none.
        let lp = Abonnement::etabl("ABO-LP", A).without("uaiEtab").set("codeNatureUAI", "320");
        assert_eq!(ws.put(&ws.a, &lp).await.status, StatusCode::CREATED);
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM subscription_establishments"), 0);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("annuaire.csv");
        std::fs::write(&file, "uai;nature_uai;nature_uai_libe;commune_libe;appellation_officielle;idENT\n\
            0990002P;320;Lycée professionnel;Valdémo;Lycée professionnel du Belvédère;WjA=\n\
            0990001N;340;Collège;Valdémo;Collège des Tilleuls;WjA=\n\
            0123456W;340;Collège;Ailleurs;Collège inconnu;\n").unwrap();
        let output = sesame(&ws.app, &db, &["schools", "import", file.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("2 schools updated, 1 unknown"), "{stdout}");
        assert!(stdout.contains("unknown: 0123456W"), "{stdout}");
        assert!(stdout.contains("subscription ABO-LP"), "{stdout}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("3/3 written"), "progress is shown");

        // 0990002P joined the subscription, with its counter; the import and the growth are audited.
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM subscription_establishments WHERE uai = '0990002P'"), 1);
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM licence_pools WHERE uai = '0990002P' AND public = 'GLOBAL'"), 1);
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'schools.imported' AND actor = 'operator:cli'"), 1);
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'subscription.updated' \
            AND actor = 'operator:cli' AND details LIKE '%0990002P%'"), 1);
        let search = ws.search_ids(&ws.a, "", "<filtre><filtreNom>uaiEtab</filtreNom><filtreValeur>0990002P</filtreValeur></filtre>").await;
        assert_eq!(search, ["ABO-LP"]);

        let list = ws.call(&ws.a, Method::GET, "/etablissements/etablissements.xml", None).await;
        assert!(list.body.contains("<nature_uai_libe>Lycée professionnel</nature_uai_libe>"), "{}", list.body);
        assert!(list.body.contains("<appellation_officielle>Lycée professionnel du Belvédère</appellation_officielle>"));
        // A column the file did not give is empty, not made up.
        assert!(list.body.contains("<type_uai></type_uai>") || list.body.contains("<type_uai/>"), "{}", list.body);

        // A bad file changes nothing.
        std::fs::write(&file, "uai;nature_uai\n0990001N;300\nnot-a-uai;300\n").unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_sesame"));
        let failed = command.args(["schools", "import", file.to_str().unwrap()])
            .env("SESAME_DATABASE__URL", db.url.expose()).output().unwrap();
        assert_eq!(failed.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&failed.stderr).contains("line 3"), "{}", String::from_utf8_lossy(&failed.stderr));
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM establishments WHERE uai = '0990001N' AND nature_code = '340'"), 1);
    }
}

crate::storage_test! {
    async fn a_distributor_added_on_the_command_line_can_call(db) {
        let ws = Ws::start(&db).await;
        const C: &str = "123456789_0000000000000042";
        let authority = LocalAuthority::load_or_create(&TlsPaths::in_data_dir(&ws.app.config.data_dir), &[]).unwrap();
        let issued = authority.issue_client("Distributeur C").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("c.pem");
        std::fs::write(&cert, &issued.cert_pem).unwrap();

        let added = sesame(&ws.app, &db, &["distributor", "add", "--id", C, "--name", "Distributeur C", "--cert", cert.to_str().unwrap()]);
        assert!(String::from_utf8_lossy(&added.stdout).contains(&issued.info.fingerprint));
        let listed = String::from_utf8_lossy(&sesame(&ws.app, &db, &["distributor", "list"]).stdout).into_owned();
        assert!(listed.contains(&format!("{C}  Distributeur C")), "{listed}");
        assert!(listed.contains(&issued.info.fingerprint), "{listed}");
        assert_eq!(ws.count(&format!("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'partner.changed' AND details LIKE '%{C}%'")), 1);

        let client = ws.app.client_with(&issued.cert_pem, &issued.key_pem);
        assert_eq!(ws.put(&client, &Abonnement::indiv("ABO-C", C)).await.status, StatusCode::CREATED);
        assert_eq!(ws.search_ids(&client, "", "").await, ["ABO-C"]);

        // A malformed id is refused with a message.
        let mut command = Command::new(env!("CARGO_BIN_EXE_sesame"));
        let bad = command.args(["distributor", "add", "--id", "12345", "--name", "X", "--cert", cert.to_str().unwrap()])
            .env("SESAME_DATABASE__URL", db.url.expose()).output().unwrap();
        assert_eq!(bad.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("SIREN_ISNI"));
    }
}
