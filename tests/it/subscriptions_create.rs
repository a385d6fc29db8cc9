//! `PUT /{idAbonnement}`: creation, duplicates (also concurrent), schools, natures, routing.

use chrono::TimeDelta;
use reqwest::{Method, StatusCode};
use sesame::store::school_subscriptions::{Standing, school_subscriptions};

use crate::subscriptions_support::{A, Abonnement, B, NS, Ws};

crate::storage_test! {
    async fn creates_and_answers_201_with_the_subscription(db) {
        let ws = Ws::start(&db).await;
        let answer = ws.put(&ws.a, &Abonnement::indiv("ABO-1", A)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        assert!(answer.content_type.starts_with("application/xml"));
        assert!(answer.body.contains(&format!("<abonnement xmlns=\"{NS}\">")), "{}", answer.body);
        assert_eq!(answer.element("debutValidite").as_deref(), Some("2026-09-01T00:00:00.000+00:00"));
        assert_eq!(answer.element("nbLicenceEleve").as_deref(), Some("30"));

        // Stored with one pool per public and school, and one audit event naming the distributor.
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM subscriptions"), 1);
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM licence_pools WHERE uai = '0990001N' AND used = 0"), 2);
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM licence_pools WHERE public = 'ELEVE' AND total = 30"), 1);
        assert_eq!(ws.count(&format!(
            "SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'subscription.created' \
             AND actor = 'distributor:{A}' AND uai = '0990001N' AND details LIKE '%ABO-1%'"
        )), 1);

        // It is at once in the school's console, not in force before debutValidite.
        let listed = school_subscriptions(&mut ws.app.conn(), "0990001N",
            "2026-08-31T12:00:00".parse().unwrap(), TimeDelta::days(15)).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].stored.subscription.id, "ABO-1");
        assert_eq!(listed[0].standing, Standing::NotYet);
        assert_eq!(listed[0].counters.len(), 2);
        let at = |when: &str| school_subscriptions(&mut ws.app.conn(), "0990001N", when.parse().unwrap(),
            TimeDelta::days(15)).unwrap()[0].standing;
        assert_eq!(at("2026-09-01T00:00:00"), Standing::InForce);
        assert_eq!(at("2027-08-31T23:59:59"), Standing::InForce);
        assert_eq!(at("2027-09-01T00:00:00"), Standing::Ended);
    }
}

crate::storage_test! {
    async fn a_duplicate_answers_409_existe_deja_and_the_retry_as_post_works(db) {
        let ws = Ws::start(&db).await;
        let body = Abonnement::indiv("ABO-1", A);
        assert_eq!(ws.put(&ws.a, &body).await.status, StatusCode::CREATED);
        let again = ws.put(&ws.a, &body.clone().set("nbLicenceEleve", "40")).await;
        again.assert_error(409, "DOUBLON", "idAbonnement");
        // django-gar looks for this exact text before retrying as an update.
        assert!(again.body.contains("existe deja"), "{}", again.body);
        let retry = ws.post(&ws.a, &body.set("nbLicenceEleve", "40").without("uaiEtab")).await;
        assert_eq!(retry.status, StatusCode::OK, "{}", retry.body);
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM subscriptions"), 1);
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM licence_pools WHERE public = 'ELEVE' AND total = 40"), 1);
        // Another distributor may use the same idAbonnement: ids are per distributor.
        assert_eq!(ws.put(&ws.b, &Abonnement::indiv("ABO-1", B)).await.status, StatusCode::CREATED);
    }
}

crate::storage_test! {
    async fn twenty_concurrent_creates_of_one_id_make_one_subscription(db) {
        let ws = Ws::start(&db).await;
        let body = Abonnement::etabl("CONCURRENT-1", A).xml();
        let url = format!("{}/CONCURRENT-1", ws.app.mtls_url);
        // All twenty in flight at once (the client opens a connection per request in flight).
        let calls: Vec<_> = (0..20)
            .map(|_| {
                let (client, url, body) = (ws.a.clone(), url.clone(), body.clone());
                actix_web::rt::spawn(async move {
                    let response = client.put(url).body(body).send().await.unwrap();
                    (response.status(), response.text().await.unwrap())
                })
            })
            .collect();
        let mut answers = Vec::new();
        for call in calls {
            answers.push(call.await.unwrap());
        }
        let created = answers.iter().filter(|(status, _)| *status == StatusCode::CREATED).count();
        let conflicts: Vec<_> = answers.iter().filter(|(status, _)| *status == StatusCode::CONFLICT).collect();
        assert_eq!(created, 1, "{answers:?}");
        assert_eq!(conflicts.len(), 19, "{answers:?}");
        assert!(conflicts.iter().all(|(_, body)| body.contains("existe deja")));
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM subscriptions"), 1);
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM subscription_publics"), 4);
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM licence_pools"), 1);
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'subscription.created'"), 1);
    }
}

crate::storage_test! {
    async fn schools_must_be_known_and_natures_are_expanded(db) {
        let ws = Ws::start(&db).await;
        let unknown = ws.put(&ws.a, &Abonnement::indiv("ABO-X", A).with("uaiEtab", "0990099X")).await;
        unknown.assert_error(400, "UAI", "uaiEtab");
        assert!(unknown.body.contains("0990099X"), "{}", unknown.body);
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM subscriptions"), 0);

        // codeNatureUAI 340: both collèges of the seed, nothing else.
        let natures = Abonnement::etabl("ABO-COLLEGES", A).without("uaiEtab").set("codeNatureUAI", "340");
        let answer = ws.put(&ws.a, &natures).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        assert_eq!(answer.element("codeNatureUAI").as_deref(), Some("340"));
        assert!(answer.element("uaiEtab").is_none(), "the natures are shown, not their schools");
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM subscription_establishments \
            WHERE uai IN ('0990001N', '0990004S')"), 2);
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM subscription_establishments"), 2);
        let search = ws.search_ids(&ws.a, "", "<filtre><filtreNom>uaiEtab</filtreNom>\
            <filtreValeur>0990004S</filtreValeur></filtre>").await;
        assert_eq!(search, ["ABO-COLLEGES"]);
    }
}

crate::storage_test! {
    async fn the_url_and_the_body_name_the_same_subscription_of_the_caller(db) {
        let ws = Ws::start(&db).await;
        let body = Abonnement::indiv("ABO-1", A);
        let mismatch = ws.call(&ws.a, Method::PUT, "/ABO-2", Some(body.xml())).await;
        mismatch.assert_error(400, "SCHEMA", "idAbonnement");
        let foreign = ws.put(&ws.a, &Abonnement::indiv("ABO-1", B)).await;
        foreign.assert_error(400, "RG3", "idDistributeurCom");
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM subscriptions"), 0);
    }
}

crate::storage_test! {
    async fn the_catch_all_route_leaves_other_routes_alone(db) {
        let ws = Ws::start(&db).await;
        // Fixed routes of the same listener still answer.
        let whoami = ws.call(&ws.a, Method::GET, "/v1/whoami", None).await;
        assert_eq!(whoami.status, StatusCode::OK, "{}", whoami.body);
        assert!(whoami.body.contains(A));
        assert_eq!(ws.call(&ws.a, Method::GET, "/healthz", None).await.status, StatusCode::OK);
        // GET of a subscription id is no route at all; POST /abonnements is a search, never an update.
        assert_eq!(ws.call(&ws.a, Method::GET, "/ABO-1", None).await.status, StatusCode::NOT_FOUND);
        let search = ws.call(&ws.a, Method::POST, "/abonnements", None).await;
        assert_eq!(search.status, StatusCode::OK, "{}", search.body);
        assert!(search.body.contains("<abonnements"), "{}", search.body);
        // PUT /abonnements reaches the create, which refuses the reserved id (RG12).
        let reserved = Abonnement::indiv("abonnements", A);
        ws.put(&ws.a, &reserved).await.assert_error(400, "RG12", "idAbonnement");
        // A JSON client gets JSON.
        let json = ws.call_with(&ws.a, Method::PUT, "/ABO-J", Some(Abonnement::indiv("ABO-J", A).xml()),
            &[("Accept", "application/json")]).await;
        assert_eq!(json.status, StatusCode::CREATED);
        let value: serde_json::Value = serde_json::from_str(&json.body).unwrap();
        assert_eq!(value["idAbonnement"], "ABO-J");
        assert_eq!(value["uaiEtab"], "0990001N");
    }
}
