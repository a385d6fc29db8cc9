//! `GET /decompteaffectations`: consumed licences per school and public, on the demo académie,
//! checked against the seats and people in the database.

use reqwest::{Client, Method, StatusCode};
use sesame::store::partners::CallerKind;

use crate::common::TestApp;
use crate::subscriptions_support::{A, Abonnement, B, Ws};

const HEADER: &str = "UAI;idAbonnement;codeProjetRessource;idRessource;cumulAffectationEleve;cumulAffectationEnseignant;\
                      cumulAffectationDocumentaliste;cumulAffectationAutrePersonnel;surAffectation";

/// The demo académie, with clients for its two distributors.
async fn demo(db: &crate::common::TestDb) -> Ws {
    let app = TestApp::spawn(db).await;
    sesame::demo::load(&mut app.conn()).unwrap();
    let (a, b) = (app.registered_client(CallerKind::Distributor, A), app.registered_client(CallerKind::Distributor, B));
    Ws { app, a, b }
}

async fn csv(ws: &Ws, client: &Client, query: &str) -> Vec<Vec<String>> {
    let answer = ws.call(client, Method::GET, &format!("/decompteaffectations?{query}"), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.content_type.starts_with("text/csv"), "{}", answer.content_type);
    let mut lines = answer.body.split('\n');
    assert_eq!(lines.next(), Some(HEADER));
    assert!(!answer.body.ends_with('\n'), "no final newline, like the GAR's answer");
    lines.map(|line| line.split(';').map(str::to_owned).collect()).collect()
}

/// Active seats of a demo subscription in a school for a public, from the ledger's table.
fn seats(ws: &Ws, subscription: &str, uai: &str, public: &str) -> String {
    ws.count(&format!(
        "SELECT COUNT(*) AS n FROM assignment_seats a JOIN subscriptions s ON s.id = a.subscription_id \
         WHERE s.external_id = '{subscription}' AND a.uai = '{uai}' AND a.public = '{public}' AND a.status = 'ACTIVE'"
    ))
    .to_string()
}

crate::storage_test! {
    async fn counts_seats_of_individual_subscriptions(db) {
        let ws = demo(&db).await;
        let lines = csv(&ws, &ws.b, "idAbonnement=DEMO-2026-MATHS6-TILLEULS").await;
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line[..4], ["0990001N", "DEMO-2026-MATHS6-TILLEULS", "null", "ark:/99999/demo.maths6"]);
        let pupils = seats(&ws, "DEMO-2026-MATHS6-TILLEULS", "0990001N", "ELEVE");
        assert_ne!(pupils, "0", "the demo seats the pupils of 6A and 6B");
        assert_eq!(line[4], pupils);
        assert_eq!(line[5], seats(&ws, "DEMO-2026-MATHS6-TILLEULS", "0990001N", "ENSEIGNANT"));
        assert_eq!(line[6..], ["0", "0", "0"]);

        // The distributor lowers the pupils' count below the seats in use: nobody loses a seat,
        // and the count shows how many seats are beyond the new total.
        let pupils: i64 = pupils.parse().unwrap();
        let lowered = Abonnement::indiv("DEMO-2026-MATHS6-TILLEULS", B)
            .without("uaiEtab")
            .set("idRessource", "ark:/99999/demo.maths6")
            .set("nbLicenceEnseignant", "12")
            .set("nbLicenceEleve", &(pupils - 5).to_string());
        let answer = ws.post(&ws.b, &lowered).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let line = &csv(&ws, &ws.b, "idAbonnement=DEMO-2026-MATHS6-TILLEULS").await[0];
        assert_eq!(line[4], pupils.to_string());
        assert_eq!(line[8], "5");

        // Deleted: still counted during the grace period, under _idAbonnement, all of it beyond.
        assert_eq!(ws.delete(&ws.b, "DEMO-2026-MATHS6-TILLEULS").await.status, StatusCode::NO_CONTENT);
        let line = &csv(&ws, &ws.b, "idAbonnement=DEMO-2026-MATHS6-TILLEULS").await[0];
        assert_eq!(line[1], "_DEMO-2026-MATHS6-TILLEULS");
        let held: i64 = line[4..8].iter().map(|n| n.parse::<i64>().unwrap()).sum();
        assert_eq!(line[8], held.to_string());
    }
}

crate::storage_test! {
    async fn counts_eligible_people_of_school_wide_subscriptions_by_project(db) {
        let ws = demo(&db).await;
        let lines = csv(&ws, &ws.a, "codeProjetRessource=DEMO-REFERENCES").await;
        let keys: Vec<(&str, &str)> = lines.iter().map(|l| (l[1].as_str(), l[0].as_str())).collect();
        assert_eq!(keys, [
            ("DEMO-2026-DICO-ECOLES", "0990011Z"), ("DEMO-2026-DICO-ECOLES", "0990012A"),
            ("DEMO-2026-ENCYCLO-Z0", "0990001N"), ("DEMO-2026-ENCYCLO-Z0", "0990002P"), ("DEMO-2026-ENCYCLO-Z0", "0990003R"),
        ]);
        for line in &lines {
            assert_eq!(line[2], "DEMO-REFERENCES");
            let uai = &line[0];
            let pupils = ws.count(&format!("SELECT COUNT(*) AS n FROM person_profiles pp JOIN persons p ON p.id = pp.person_id \
                WHERE pp.uai = '{uai}' AND pp.profile = 'National_elv' AND p.removed_at IS NULL"));
            assert_eq!(line[4], pupils.to_string(), "{line:?}");
            assert_eq!(line[8], "0", "ILLIMITE is never exceeded");
        }
        // The encyclopédie is for all four publics: everyone of the collège counts, once.
        let everyone = ws.count("SELECT COUNT(DISTINCT pp.person_id) AS n FROM person_profiles pp \
            JOIN persons p ON p.id = pp.person_id WHERE pp.uai = '0990001N' AND p.removed_at IS NULL");
        let college = &lines[2];
        assert_eq!(college[4..8].iter().map(|n| n.parse::<i64>().unwrap()).sum::<i64>(), everyone);
        // The écoles' dictionary has no documentalist public (RG11).
        assert_eq!(lines[0][6], "0");
    }
}

crate::storage_test! {
    async fn asks_for_exactly_one_selector(db) {
        let ws = demo(&db).await;
        for query in ["", "idAbonnement=", "idAbonnement=X&codeProjetRessource=Y"] {
            ws.call(&ws.a, Method::GET, &format!("/decompteaffectations?{query}"), None).await
                .assert_error(400, "FILTRE", "idAbonnement");
        }
        ws.call(&ws.a, Method::GET, "/decompteaffectations?idAbonnement=NOPE", None).await
            .assert_error(404, "INCONNU", "idAbonnement");
        // A's subscription, asked by B: not found either.
        ws.call(&ws.b, Method::GET, "/decompteaffectations?idAbonnement=DEMO-2026-ENCYCLO-Z0", None).await
            .assert_error(404, "INCONNU", "idAbonnement");
        assert!(csv(&ws, &ws.a, "codeProjetRessource=NONE").await.is_empty());
    }
}
