//! Distributor B can neither read, update, delete nor count distributor A's subscriptions, and
//! cannot tell they exist; only distributors reach the service.

use reqwest::{Method, StatusCode};
use sesame::store::partners::CallerKind;

use crate::subscriptions_support::{A, Abonnement, B, Ws};

crate::storage_test! {
    async fn a_distributor_sees_only_its_own_subscriptions(db) {
        let ws = Ws::start(&db).await;
        let mine = Abonnement::indiv("ABO-A", A).set("codeProjetRessource", "PRJ");
        assert_eq!(ws.put(&ws.a, &mine).await.status, StatusCode::CREATED);
        let stored_before = ws.search(&ws.a, "", "").await.body;

        // Read: B's searches never show it, whatever the filters say.
        assert!(ws.search_ids(&ws.b, "", "").await.is_empty());
        let by_id = "<filtre><filtreNom>idAbonnement</filtreNom><filtreValeur>ABO-A</filtreValeur></filtre>";
        assert!(ws.search_ids(&ws.b, "", by_id).await.is_empty());
        let by_owner = format!("<filtre><filtreNom>idDistributeurCom</filtreNom><filtreValeur>{A}</filtreValeur></filtre>");
        assert!(ws.search_ids(&ws.b, "", &by_owner).await.is_empty());
        assert!(ws.search_ids(&ws.b, "", "<aboSuppr>true</aboSuppr>").await.is_empty());

        // Update and delete: "not found", the same answer as for an id nobody uses.
        let as_b = mine.clone().set("idDistributeurCom", B).without("uaiEtab").set("nbLicenceEleve", "1");
        let update = ws.post(&ws.b, &as_b).await;
        update.assert_error(404, "INCONNU", "idAbonnement");
        let nobody = ws.post(&ws.b, &as_b.clone().set("idAbonnement", "ABO-NOBODY")).await;
        nobody.assert_error(404, "INCONNU", "idAbonnement");
        assert_eq!(update.body.replace("ABO-A", "X"), nobody.body.replace("ABO-NOBODY", "X"));
        // Claiming A's id in the body is refused before anything is looked up.
        ws.post(&ws.b, &mine.clone().without("uaiEtab")).await.assert_error(400, "RG3", "idDistributeurCom");
        let delete = ws.delete(&ws.b, "ABO-A").await;
        delete.assert_error(404, "INCONNU", "idAbonnement");

        // Count: not found by id, nothing by project code.
        let counts = ws.call(&ws.b, Method::GET, "/decompteaffectations?idAbonnement=ABO-A", None).await;
        counts.assert_error(404, "INCONNU", "idAbonnement");
        let by_project = ws.call(&ws.b, Method::GET, "/decompteaffectations?codeProjetRessource=PRJ", None).await;
        assert_eq!(by_project.status, StatusCode::OK);
        assert_eq!(by_project.body.lines().count(), 1, "header only: {}", by_project.body);
        let own = ws.call(&ws.a, Method::GET, "/decompteaffectations?codeProjetRessource=PRJ", None).await;
        assert_eq!(own.body.lines().count(), 2, "{}", own.body);

        // A's subscription is untouched, and B's attempts left no trace but its own create below.
        assert_eq!(ws.search(&ws.a, "", "").await.body, stored_before);
        assert_eq!(ws.count(&format!("SELECT COUNT(*) AS n FROM audit_events WHERE actor = 'distributor:{B}'")), 0);
        // B may use the same id for its own subscription.
        assert_eq!(ws.put(&ws.b, &Abonnement::indiv("ABO-A", B)).await.status, StatusCode::CREATED);
        assert_eq!(ws.search_ids(&ws.b, "", "").await, ["ABO-A"]);
        assert_eq!(ws.search(&ws.a, "", "").await.body, stored_before);
    }
}

crate::storage_test! {
    async fn only_registered_distributors_reach_the_service(db) {
        let ws = Ws::start(&db).await;
        let body = Abonnement::indiv("ABO-1", A);
        let ent = ws.app.registered_client(CallerKind::Ent, "Z0");
        let stranger = ws.app.unregistered_client("nobody");
        for client in [&ent, &stranger] {
            ws.put(client, &body).await.assert_error(403, "CERTIFICAT", "");
            ws.search(client, "", "").await.assert_error(403, "CERTIFICAT", "");
            ws.call(client, Method::GET, "/etablissements/etablissements.xml", None).await.assert_error(403, "CERTIFICAT", "");
            ws.call(client, Method::GET, "/decompteaffectations?idAbonnement=ABO-1", None).await
                .assert_error(403, "CERTIFICAT", "");
        }
        // Without any certificate the TLS handshake itself fails.
        assert!(ws.app.anonymous_client().get(format!("{}/abonnements", ws.app.mtls_url)).send().await.is_err());
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM subscriptions"), 0);
    }
}
