//! `POST /{idAbonnement}` and `DELETE /{idAbonnement}`: what an update may change, lowered counts
//! that never drop anyone, deletion kept as history.

use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use reqwest::StatusCode;
use sesame::store::schema::licence_pools;
use sesame::store::school_subscriptions::{Standing, school_subscriptions};

use crate::subscriptions_support::{A, Abonnement, Ws};

/// Marks `used` seats as taken in a pool, as the assignment ledger does.
fn take_seats(ws: &Ws, public: &str, used: i64) {
    diesel::update(licence_pools::table.filter(licence_pools::public.eq(public)))
        .set(licence_pools::used.eq(used))
        .execute(&mut ws.app.conn())
        .unwrap();
}

crate::storage_test! {
    async fn an_update_changes_the_fields_but_not_the_start_nor_the_schools(db) {
        let ws = Ws::start(&db).await;
        let created = Abonnement::indiv("ABO-1", A);
        assert_eq!(ws.put(&ws.a, &created).await.status, StatusCode::CREATED);

        // Like django-gar: the same body without uaiEtab, debutValidite as read back from a listing.
        let update = created
            .clone()
            .without("uaiEtab")
            .set("debutValidite", "2026-09-01T00:00:00.000+00:00")
            .set("finValidite", "2028-08-31T23:59:59")
            .set("nbLicenceEleve", "45")
            .set("codeProjetRessource", "PRJ-7");
        let answer = ws.post(&ws.a, &update).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.element("finValidite").as_deref(), Some("2028-08-31T23:59:59.000+00:00"));
        assert_eq!(answer.element("uaiEtab").as_deref(), Some("0990001N"), "the schools stay");
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM licence_pools WHERE public = 'ELEVE' AND total = 45"), 1);
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'subscription.updated' \
            AND details LIKE '%finValidite%' AND details LIKE '%nbLicenceEleve%' AND details LIKE '%codeProjetRessource%' \
            AND details NOT LIKE '%libelleRessource%'"), 1);

        ws.post(&ws.a, &update.clone().set("debutValidite", "2026-09-02T00:00:00")).await
            .assert_error(400, "MODIFICATION", "debutValidite");
        ws.post(&ws.a, &update.clone().set("uaiEtab", "0990002P")).await
            .assert_error(400, "MODIFICATION", "uaiEtab");
        // Repeating the stored schools is accepted.
        assert_eq!(ws.post(&ws.a, &update.clone().set("uaiEtab", "0990001N")).await.status, StatusCode::OK);
        // The rules hold on updates too.
        ws.post(&ws.a, &update.clone().set("nbLicenceGlobale", "3")).await.assert_error(400, "RG1", "nbLicenceGlobale");
        ws.post(&ws.a, &Abonnement::indiv("ABO-404", A).without("uaiEtab")).await
            .assert_error(404, "INCONNU", "idAbonnement");
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'subscription.updated'"), 2);
    }
}

crate::storage_test! {
    async fn lowering_counts_below_the_seats_in_use_drops_nobody(db) {
        let ws = Ws::start(&db).await;
        let created = Abonnement::indiv("ABO-1", A);
        assert_eq!(ws.put(&ws.a, &created).await.status, StatusCode::CREATED);
        take_seats(&ws, "ELEVE", 20);
        take_seats(&ws, "ENSEIGNANT", 2);

        // 30 → 12 pupils, and the teacher counter removed (with its public).
        let lowered = created.without("uaiEtab").set("nbLicenceEleve", "12").without("nbLicenceEnseignant")
            .without("publicCible").with("publicCible", "ELEVE");
        let answer = ws.post(&ws.a, &lowered).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        // Seats in use are untouched; the counters are over-allocated, the removed one kept at 0.
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM licence_pools WHERE public = 'ELEVE' AND total = 12 AND used = 20"), 1);
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM licence_pools WHERE public = 'ENSEIGNANT' AND total = 0 AND used = 2"), 1);
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'subscription.updated' \
            AND details LIKE '%overAllocated%ELEVE%'"), 1);

        // The school's managers see it; the distributor sees it in the counts.
        let listed = school_subscriptions(&mut ws.app.conn(), "0990001N", Utc::now().naive_utc(), TimeDelta::days(15)).unwrap();
        assert!(listed[0].needs_attention());
        let over: Vec<_> = listed[0].counters.iter().filter(|c| c.over_allocated()).map(|c| c.pool.as_str()).collect();
        assert_eq!(over, ["ELEVE", "ENSEIGNANT"]);

        // Raising the count back clears the pupils' over-allocation; an unused removed counter goes.
        let raised = lowered.set("nbLicenceEleve", "25");
        assert_eq!(ws.post(&ws.a, &raised).await.status, StatusCode::OK);
        take_seats(&ws, "ENSEIGNANT", 0);
        assert_eq!(ws.post(&ws.a, &raised).await.status, StatusCode::OK);
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM licence_pools WHERE public = 'ENSEIGNANT'"), 0);
        let listed = school_subscriptions(&mut ws.app.conn(), "0990001N", Utc::now().naive_utc(), TimeDelta::days(15)).unwrap();
        assert!(!listed[0].needs_attention());
    }
}

crate::storage_test! {
    async fn a_deleted_subscription_is_history_and_its_id_is_free(db) {
        let ws = Ws::start(&db).await;
        let body = Abonnement::indiv("ABO-1", A);
        assert_eq!(ws.put(&ws.a, &body).await.status, StatusCode::CREATED);
        take_seats(&ws, "ELEVE", 3);

        let deleted = ws.delete(&ws.a, "ABO-1").await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
        assert!(deleted.body.is_empty());
        ws.delete(&ws.a, "ABO-1").await.assert_error(404, "INCONNU", "idAbonnement");
        ws.post(&ws.a, &body.clone().without("uaiEtab")).await.assert_error(404, "INCONNU", "idAbonnement");
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'subscription.deleted' \
            AND details LIKE '%\"seatsHeld\":0%'"), 1, "no seat of the ledger's own table is held here");
        // Seats are kept (grace period), the pools too.
        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM licence_pools WHERE used = 3"), 1);

        // Listed only with aboSuppr=true, under _idAbonnement.
        assert!(ws.search_ids(&ws.a, "", "").await.is_empty());
        assert_eq!(ws.search_ids(&ws.a, "", "<aboSuppr>true</aboSuppr>").await, ["_ABO-1"]);

        // The managers are warned until the grace period ends.
        let now = Utc::now().naive_utc();
        let listed = school_subscriptions(&mut ws.app.conn(), "0990001N", now, TimeDelta::days(15)).unwrap();
        assert!(matches!(listed[0].standing, Standing::Deleted { grace_ends } if grace_ends > now + TimeDelta::days(14)));
        let later = school_subscriptions(&mut ws.app.conn(), "0990001N", now + TimeDelta::days(16), TimeDelta::days(15)).unwrap();
        assert!(later.is_empty());

        // The id is free again: a new subscription, and both in the history.
        assert_eq!(ws.put(&ws.a, &body).await.status, StatusCode::CREATED);
        assert_eq!(ws.search_ids(&ws.a, "", "<aboSuppr>true</aboSuppr>").await, ["_ABO-1", "ABO-1"]);
        assert_eq!(ws.search_ids(&ws.a, "", "").await, ["ABO-1"]);
    }
}
