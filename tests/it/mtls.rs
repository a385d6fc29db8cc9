//! Caller identity on the mutual-TLS listener.

use sesame::store::partners::CallerKind;

use crate::common::{DISTRIBUTOR, TestApp, seed_partners};
use crate::storage_test;

storage_test! {
    async fn registered_certificates_identify_their_owner(db) {
        let app = TestApp::spawn(&db).await;
        seed_partners(&mut app.conn());

        let ent = app.registered_client(CallerKind::Ent, "Z0");
        let body: serde_json::Value =
            ent.get(format!("{}/v1/whoami", app.mtls_url)).send().await.unwrap().json().await.unwrap();
        assert_eq!(body["kind"], "ent");
        assert_eq!(body["id"], "Z0");
        assert_eq!(body["name"], "ENT Test");

        let distributor = app.registered_client(CallerKind::Distributor, DISTRIBUTOR);
        let body: serde_json::Value =
            distributor.get(format!("{}/v1/whoami", app.mtls_url)).send().await.unwrap().json().await.unwrap();
        assert_eq!(body["kind"], "distributor");
        assert_eq!(body["id"], DISTRIBUTOR);
    }
}

storage_test! {
    async fn unregistered_certificate_is_forbidden(db) {
        let app = TestApp::spawn(&db).await;
        let response = app.unregistered_client("test stranger").get(format!("{}/v1/whoami", app.mtls_url)).send().await.unwrap();
        assert_eq!(response.status(), 403);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "this client certificate is not registered with Sesame");
    }
}

storage_test! {
    async fn handshake_needs_a_trusted_certificate(db) {
        let app = TestApp::spawn(&db).await;
        let url = format!("{}/v1/whoami", app.mtls_url);

        let missing = app.anonymous_client().get(&url).send().await;
        assert!(missing.is_err(), "no client certificate must not get an answer: {missing:?}");
        let foreign = app.foreign_client().get(&url).send().await;
        assert!(foreign.is_err(), "a certificate from an unknown CA must not get an answer: {foreign:?}");

        // The same listener still serves a trusted caller afterwards.
        let ok = app.unregistered_client("test stranger").get(&url).send().await.unwrap();
        assert_eq!(ok.status(), 403);
    }
}

storage_test! {
    async fn subject_matching_accepts_a_renewed_certificate(db) {
        let app = TestApp::spawn_with(&db, |c| c.tls.identify_by = sesame::config::IdentifyBy::Subject).await;
        seed_partners(&mut app.conn());
        // Registered once; a second certificate with the same subject is then recognised too.
        let _first = app.registered_client(CallerKind::Ent, "Z0");
        let renewed = app.unregistered_client("test Z0");
        let body: serde_json::Value =
            renewed.get(format!("{}/v1/whoami", app.mtls_url)).send().await.unwrap().json().await.unwrap();
        assert_eq!(body["id"], "Z0");
    }
}

storage_test! {
    async fn revoked_certificate_is_refused(db) {
        let app = TestApp::spawn(&db).await;
        seed_partners(&mut app.conn());
        let ent = app.registered_client(CallerKind::Ent, "Z0");
        diesel::connection::SimpleConnection::batch_execute(
            &mut *app.conn(),
            "UPDATE client_certificates SET revoked_at = CURRENT_TIMESTAMP",
        )
        .unwrap();
        let response = ent.get(format!("{}/v1/whoami", app.mtls_url)).send().await.unwrap();
        assert_eq!(response.status(), 403);
    }
}
