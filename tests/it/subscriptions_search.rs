//! `GET|POST /abonnements`: filters, sort, paging, XML and JSON listings.

use reqwest::{Method, StatusCode};

use crate::subscriptions_support::{A, Abonnement, NS, Ws, ids};

/// Twelve subscriptions of A: S01…S12. Odd ones are ETABL for 0990002P (project P-ODD), even ones
/// INDIV for 0990001N; S12 is for documentalists too, S05 ends in 2030.
async fn twelve(ws: &Ws) {
    for n in 1..=12 {
        let id = format!("S{n:02}");
        let body = if n % 2 == 1 {
            Abonnement::etabl(&id, A).set("uaiEtab", "0990002P").set("codeProjetRessource", "P-ODD")
        } else {
            Abonnement::indiv(&id, A)
        };
        let body = body.set("libelleRessource", &format!("Ressource {}", 13 - n));
        let body = match n {
            5 => body.set("anneeFinValidite", "2029-2030"),
            12 => body.set("nbLicenceProfDoc", "1").with("publicCible", "DOCUMENTALISTE"),
            _ => body,
        };
        let answer = ws.put(&ws.a, &body).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{id}: {}", answer.body);
    }
}

fn filter(name: &str, values: &[&str]) -> String {
    let values: String = values.iter().map(|v| format!("<filtreValeur>{v}</filtreValeur>")).collect();
    format!("<filtre><filtreNom>{name}</filtreNom>{values}</filtre>")
}

crate::storage_test! {
    async fn filters_combine(db) {
        let ws = Ws::start(&db).await;
        twelve(&ws).await;
        let all: Vec<String> = (1..=12).map(|n| format!("S{n:02}")).collect();
        assert_eq!(ws.search_ids(&ws.a, "", "").await, all);
        assert_eq!(ws.search_ids(&ws.a, "", &filter("idDistributeurCom", &[A])).await, all);
        assert_eq!(ws.search_ids(&ws.a, "", &filter("uaiEtab", &["0990002P"])).await.len(), 6);
        assert_eq!(ws.search_ids(&ws.a, "", &filter("typeAffectation", &["INDIV"])).await.len(), 6);
        assert_eq!(ws.search_ids(&ws.a, "", &filter("codeProjetRessource", &["P-ODD"])).await.len(), 6);
        assert_eq!(ws.search_ids(&ws.a, "", &filter("idAbonnement", &["S03", "S04", "nope"])).await, ["S03", "S04"]);
        // publicCible: the ETABL ones (all four publics) and S12.
        let librarians = ws.search_ids(&ws.a, "", &filter("publicCible", &["DOCUMENTALISTE"])).await;
        assert_eq!(librarians, ["S01", "S03", "S05", "S07", "S09", "S11", "S12"]);
        // Conditions add up: INDIV and for documentalists.
        let both = format!("{}{}", filter("typeAffectation", &["INDIV"]), filter("publicCible", &["DOCUMENTALISTE"]));
        assert_eq!(ws.search_ids(&ws.a, "", &both).await, ["S12"]);
        assert!(ws.search_ids(&ws.a, "", &filter("categorieAffectation", &["non transferable"])).await.is_empty());

        // Dates: effective end (anneeFinValidite 2029-2030 ends 2030-08-31), debutValidite, creation.
        let late = "<filtreParDate><dateName>finValidite</dateName><dateApres>2029-01-01</dateApres></filtreParDate>";
        assert_eq!(ws.search_ids(&ws.a, "", late).await, ["S05"]);
        let started = "<filtreParDate><dateName>debutValidite</dateName><dateAvant>2026-09-01T00:00:00</dateAvant>\
                       <dateApres>2026-09-01</dateApres></filtreParDate>";
        assert_eq!(ws.search_ids(&ws.a, "", started).await.len(), 12);
        let future = "<filtreParDate><dateName>dateCreation</dateName><dateApres>2099-01-01</dateApres></filtreParDate>";
        assert!(ws.search_ids(&ws.a, "", future).await.is_empty());
        let changed = "<filtreParDate><dateName>dateModification</dateName><dateAvant>2099-01-01</dateAvant></filtreParDate>";
        assert_eq!(ws.search_ids(&ws.a, "", changed).await.len(), 12);

        // A bad filter is a 400 naming it.
        ws.search(&ws.a, "", &filter("couleur", &["bleu"])).await.assert_error(400, "FILTRE", "filtreNom");
        ws.search(&ws.a, "", "<triPar>prix</triPar>").await.assert_error(400, "FILTRE", "triPar");
        ws.search(&ws.a, "fin=20000", "").await.assert_error(400, "FILTRE", "fin");
        ws.call(&ws.a, Method::GET, "/abonnements", Some("<filtres/>".into())).await.assert_error(400, "XML", "");
    }
}

crate::storage_test! {
    async fn sorts_and_pages_without_overlap(db) {
        let ws = Ws::start(&db).await;
        twelve(&ws).await;
        // libelleRessource "Ressource 1" is S12 … "Ressource 12" is S01 (text order: 1, 10, 11, 12, 2, …).
        let by_label = ws.search_ids(&ws.a, "", "<triPar>libelleRessource</triPar><tri>ASC</tri>").await;
        assert_eq!(by_label[..4], ["S12", "S03", "S02", "S01"]);
        let reversed = ws.search_ids(&ws.a, "", "<triPar>idAbonnement</triPar><tri>DSC</tri>").await;
        assert_eq!(reversed.first().map(String::as_str), Some("S12"));
        let by_end = ws.search_ids(&ws.a, "", "<triPar>finValidite</triPar><tri>DSC</tri>").await;
        assert_eq!(by_end[0], "S05");
        let by_public = ws.search_ids(&ws.a, "", "<triPar>publicCible</triPar>").await;
        assert_eq!(by_public.len(), 12);
        let by_project = ws.search_ids(&ws.a, "", "<triPar>codeProjetRessource</triPar>").await;
        assert!(by_project[..6].iter().all(|id| ["S01", "S03", "S05", "S07", "S09", "S11"].contains(&id.as_str())),
            "subscriptions without a project code come last: {by_project:?}");

        // Pages of five: offset `debut`, size `fin`; together they are the whole list, once.
        let mut pages = Vec::new();
        for debut in [0, 5, 10] {
            pages.extend(ws.search_ids(&ws.a, &format!("debut={debut}&fin=5"), "<triPar>typeAffectation</triPar>").await);
        }
        let whole = ws.search_ids(&ws.a, "", "<triPar>typeAffectation</triPar>").await;
        assert_eq!(pages, whole);
        assert!(ws.search_ids(&ws.a, "debut=12&fin=5", "").await.is_empty());
        assert_eq!(ws.search_ids(&ws.a, "debut=0&fin=0", "").await.len(), 0);
    }
}

crate::storage_test! {
    async fn answers_xml_or_json_as_asked(db) {
        let ws = Ws::start(&db).await;
        twelve(&ws).await;
        let only = filter("idAbonnement", &["S01", "S02"]);
        let xml = ws.search(&ws.a, "", &only).await;
        assert_eq!(xml.status, StatusCode::OK);
        assert!(xml.content_type.starts_with("application/xml"), "{}", xml.content_type);
        assert!(xml.body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"), "{}", xml.body);
        assert!(xml.body.contains(&format!("<abonnements xmlns=\"{NS}\">")), "{}", xml.body);
        // Elements in the GAR order, dates with milliseconds and offset.
        let s01 = &xml.body[xml.body.find("<abonnement>").unwrap()..xml.body.find("</abonnement>").unwrap()];
        let order = ["idAbonnement", "idDistributeurCom", "idRessource", "typeIdRessource", "libelleRessource",
            "debutValidite", "anneeFinValidite", "uaiEtab", "categorieAffectation", "typeAffectation",
            "nbLicenceGlobale", "publicCible", "codeProjetRessource"];
        let positions: Vec<usize> = order.iter().map(|name| s01.find(&format!("<{name}>")).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{s01}");
        assert!(s01.contains("<debutValidite>2026-09-01T00:00:00.000+00:00</debutValidite>"), "{s01}");

        // The same search as POST (edumedia), asking for JSON (Ludicat).
        let body = format!("<filtres xmlns=\"{NS}\">{only}</filtres>");
        let json = ws.call_with(&ws.a, Method::POST, "/abonnements", Some(body), &[("Accept", "application/json")]).await;
        assert_eq!(json.status, StatusCode::OK);
        assert!(json.content_type.starts_with("application/json"));
        let value: serde_json::Value = serde_json::from_str(&json.body).unwrap();
        let list = value["abonnements"].as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0]["idAbonnement"], "S01");
        assert_eq!(list[0]["uaiEtab"], "0990002P");
        assert_eq!(list[0]["publicCible"].as_array().unwrap().len(), 4);
        assert_eq!(list[1]["publicCible"], serde_json::json!(["ELEVE", "ENSEIGNANT"]));
        assert_eq!(list[1]["nbLicenceEleve"], "30");
        assert_eq!(ids(&xml.body), ["S01", "S02"]);

        // No body at all: everything, XML by default.
        let everything = ws.call(&ws.a, Method::GET, "/abonnements?debut=0&fin=5000", None).await;
        assert_eq!(ids(&everything.body).len(), 12);
    }
}
