//! Every rule RG1–RG13 and the schema limits, broken over HTTP: a 400 XML error naming the rule
//! and the field, in French and English, and nothing stored.

use reqwest::Method;

use crate::subscriptions_support::{A, Abonnement, NS, Ws};

/// Sends `body` as a create and expects a 400 naming `rule` and `field`, with nothing stored.
async fn refused(ws: &Ws, body: &Abonnement, rule: &str, field: &str) {
    let answer = ws.put(&ws.a, body).await;
    answer.assert_error(400, rule, field);
    assert_eq!(ws.count("SELECT COUNT(*) AS n FROM subscriptions"), 0, "{rule}: something was stored");
    assert_eq!(ws.count("SELECT COUNT(*) AS n FROM audit_events"), 0, "{rule}: an event was recorded");
}

crate::storage_test! {
    async fn each_gar_rule_has_its_error(db) {
        let ws = Ws::start(&db).await;
        let indiv = || Abonnement::indiv("ABO-1", A);
        let etabl = || Abonnement::etabl("ABO-1", A);

        // RG1: nbLicenceGlobale XOR per-public counts.
        refused(&ws, &indiv().set("nbLicenceGlobale", "10"), "RG1", "nbLicenceGlobale").await;
        refused(&ws, &indiv().without("nbLicenceEleve").without("nbLicenceEnseignant"), "RG1", "nbLicenceGlobale").await;
        // RG2: uaiEtab XOR codeNatureUAI.
        refused(&ws, &indiv().set("codeNatureUAI", "340"), "RG2", "uaiEtab").await;
        refused(&ws, &indiv().without("uaiEtab"), "RG2", "uaiEtab").await;
        // RG3: idDistributeurCom is SIREN_ISNI.
        refused(&ws, &indiv().set("idDistributeurCom", "000000_0000000000000000"), "RG3", "idDistributeurCom").await;
        // RG4: categorieAffectation transferable; typeAffectation INDIV or ETABL.
        refused(&ws, &indiv().set("categorieAffectation", "non transferable"), "RG4", "categorieAffectation").await;
        refused(&ws, &indiv().set("typeAffectation", "CLASSE"), "RG4", "typeAffectation").await;
        // RG5: a count needs its public.
        refused(&ws, &indiv().set("nbLicenceProfDoc", "2"), "RG5", "nbLicenceProfDoc").await;
        // RG6: ETABL takes nbLicenceGlobale alone.
        let per_public = etabl().without("nbLicenceGlobale").set("nbLicenceEleve", "10");
        refused(&ws, &per_public, "RG6", "nbLicenceGlobale").await;
        // RG7: anneeFinValidite at most ten school years, second year after the first.
        refused(&ws, &etabl().set("anneeFinValidite", "2027-2026"), "RG7", "anneeFinValidite").await;
        refused(&ws, &etabl().set("anneeFinValidite", "2026-2040"), "RG7", "anneeFinValidite").await;
        // RG8: finValidite after debutValidite, less than ten years later.
        refused(&ws, &indiv().set("finValidite", "2036-09-01T00:00:00"), "RG8", "finValidite").await;
        refused(&ws, &indiv().set("finValidite", "2026-08-01T00:00:00"), "RG8", "finValidite").await;
        // RG9: finValidite XOR anneeFinValidite.
        refused(&ws, &indiv().set("anneeFinValidite", "2026-2027"), "RG9", "anneeFinValidite").await;
        refused(&ws, &indiv().without("finValidite"), "RG9", "anneeFinValidite").await;
        // RG10: anneeFinValidite written YYYY-YYYY.
        refused(&ws, &etabl().set("anneeFinValidite", "2026/27"), "RG10", "anneeFinValidite").await;
        // RG11: no documentalist in a first-degree school (degree from the ENT feed), nor natures 1xx.
        refused(&ws, &etabl().set("uaiEtab", "0990011Z"), "RG11", "publicCible").await;
        let natures = etabl().without("uaiEtab").set("codeNatureUAI", "340,151");
        refused(&ws, &natures, "RG11", "publicCible").await;
        let librarian_count = indiv().set("uaiEtab", "0990011Z").set("nbLicenceProfDoc", "1").with("publicCible", "DOCUMENTALISTE");
        refused(&ws, &librarian_count, "RG11", "publicCible").await;
        // RG12: reserved ids.
        refused(&ws, &indiv().set("idAbonnement", "categorie"), "RG12", "idAbonnement").await;
        // RG13: `_` marks deleted subscriptions.
        refused(&ws, &indiv().set("idAbonnement", "_ABO-1"), "RG13", "idAbonnement").await;

        // The same first-degree school without documentalists is fine (RG11 holds).
        let school = etabl().set("uaiEtab", "0990011Z").without("publicCible").with("publicCible", "ELEVE");
        assert_eq!(ws.put(&ws.a, &school).await.status.as_u16(), 201);
    }
}

crate::storage_test! {
    async fn schema_limits_and_formats(db) {
        let ws = Ws::start(&db).await;
        let indiv = || Abonnement::indiv("ABO-1", A);
        refused(&ws, &indiv().without("idRessource"), "SCHEMA", "idRessource").await;
        refused(&ws, &indiv().set("libelleRessource", &"x".repeat(256)), "SCHEMA", "libelleRessource").await;
        refused(&ws, &indiv().set("codeProjetRessource", &"p".repeat(51)), "SCHEMA", "codeProjetRessource").await;
        refused(&ws, &indiv().set("nbLicenceEleve", "trente"), "SCHEMA", "nbLicenceEleve").await;
        refused(&ws, &indiv().set("nbLicenceEleve", "123456789"), "SCHEMA", "nbLicenceEleve").await;
        refused(&ws, &indiv().set("debutValidite", "01/09/2026"), "SCHEMA", "debutValidite").await;
        refused(&ws, &indiv().with("publicCible", "PARENT"), "SCHEMA", "publicCible").await;
        refused(&ws, &indiv().with("publicCible", "ELEVE"), "SCHEMA", "publicCible").await;
        refused(&ws, &indiv().set("uaiEtab", "099001N"), "SCHEMA", "uaiEtab").await;
        refused(&ws, &indiv().with("uaiEtab", "0990001N"), "SCHEMA", "uaiEtab").await;
        refused(&ws, &indiv().set("codeNatureUAI", "COLLEGE").without("uaiEtab"), "SCHEMA", "codeNatureUAI").await;
        refused(&ws, &indiv().with("nbLicence", "3"), "SCHEMA", "nbLicence").await;
        ws.search(&ws.a, "", "<filtre><filtreNom>publicCible</filtreNom><filtreValeur>PARENT</filtreValeur></filtre>")
            .await
            .assert_error(400, "FILTRE", "filtreValeur");
        refused(&ws, &indiv().with("typeIdRessource", "ark"), "SCHEMA", "typeIdRessource").await;
        let long_id = "A".repeat(46);
        let answer = ws.call(&ws.a, Method::PUT, &format!("/{long_id}"), Some(indiv().set("idAbonnement", &long_id).xml())).await;
        answer.assert_error(400, "SCHEMA", "idAbonnement");
    }
}

crate::storage_test! {
    async fn malformed_documents_are_refused(db) {
        let ws = Ws::start(&db).await;
        let put = |body: String| ws.call(&ws.a, Method::PUT, "/ABO-1", Some(body));
        let good = Abonnement::indiv("ABO-1", A).xml();

        put(good.replace("</abonnement>", "")).await.assert_error(400, "XML", "");
        put(good.replace("<libelleRessource>", "<libelleRessource><b>")).await.assert_error(400, "XML", "");
        put(good.replace(NS, "http://www.atosworldline.com/wsabonnement/v2.0/")).await.assert_error(400, "XML", "");
        put(good.replace(&format!(" xmlns=\"{NS}\""), "")).await.assert_error(400, "XML", "");
        put(good.replace("<abonnement ", "<abonnements ").replace("</abonnement>", "</abonnements>"))
            .await
            .assert_error(400, "XML", "");
        put(String::new()).await.assert_error(400, "XML", "");
        put("ceci n'est pas du XML".into()).await.assert_error(400, "XML", "");
        // A DTD, here an external entity (XXE): refused before anything is read.
        let xxe = good.replace(
            "<abonnement ",
            "<!DOCTYPE abonnement [<!ENTITY secret SYSTEM \"file:///etc/passwd\">]>\n<abonnement ",
        );
        let xxe = xxe.replace("Mathématiques 6e", "&secret;");
        let answer = put(xxe).await;
        answer.assert_error(400, "XML", "");
        assert!(!answer.body.contains("root:"), "{}", answer.body);
        // A billion laughs needs a DTD too.
        let laughs = good.replace("<abonnement ", "<!DOCTYPE a [<!ENTITY l \"lol\"><!ENTITY l2 \"&l;&l;\">]>\n<abonnement ");
        put(laughs).await.assert_error(400, "XML", "");
        // Latin-1 text declared as nothing: é as the single byte 0xE9 is not UTF-8.
        let latin1: Vec<u8> = good.replace('é', "\u{1}").bytes().map(|b| if b == 1 { 0xe9 } else { b }).collect();
        let not_utf8 = ws.a.put(format!("{}/ABO-1", ws.app.mtls_url)).body(latin1).send().await.unwrap();
        assert_eq!(not_utf8.status().as_u16(), 400);

        // Too large: refused with 413, still in the service's format.
        let huge = good.replace("Manuels 6e", &"x".repeat(5 << 20));
        let answer = put(huge).await;
        answer.assert_error(413, "XML", "");

        assert_eq!(ws.count("SELECT COUNT(*) AS n FROM subscriptions"), 0);
    }
}
