//! The GAR listing call on the mutual-TLS listener: content, formats, errors, caching.

use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use quick_xml::events::Event;
use sesame::domain::Uai;
use sesame::domain::entitlement::{Clock, Resolution};
use sesame::store::entitlements;
use sesame::store::schema::{person_establishments, person_profiles, persons, subscriptions};
use sesame::store::subscriptions as stored_subscriptions;

use super::*;

/// What the ledger grants, as the listing should show it.
fn granted(conn: &mut AnyConnection, ent: &str, gar_id: &str, uai: &str) -> Vec<String> {
    let clock = Clock::new(Utc::now().naive_utc(), 15);
    let resolution = entitlements::resolve(conn, ent, gar_id, &Uai::parse(uai).unwrap(), clock).unwrap();
    let Resolution::Granted(found) = resolution else { panic!("{gar_id} in {uai}: {resolution:?}") };
    found.resources.into_iter().map(|r| r.resource_id).collect()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

crate::storage_test! {
    async fn a_pupil_lists_what_the_ledger_grants(db) {
        let demo = Demo::start(&db).await;
        let pupil = person(&mut demo.app.conn(), COLLEGE, "National_elv", Some("6A"));
        let answer = demo.listing(&demo.z0, &format!("/ressources/Z0/{COLLEGE}/{pupil}"), &[]).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        assert_eq!(answer.header("content-type"), Some("application/json"));
        // The 6A assignment (INDIV) and the collège's school-wide encyclopaedia (ETABL); ordered by title.
        assert_eq!(answer.resource_ids(), ["ark:/99999/demo.encyclopedie", "ark:/99999/demo.maths6"]);

        let listed = answer.json();
        let maths = &listed["listeRessources"]["ressource"][1];
        assert_eq!(maths["nomRessource"], "Mathématiques 6e — manuel numérique élève");
        assert_eq!(maths["nomEditeur"], "Éditions Démo Savoirs");
        assert_eq!(maths["typePresentation"], serde_json::json!({"code": "MAN", "nom": "manuels numériques"}));
        assert_eq!(maths["domaineEnseignement"], serde_json::json!([]), "empty lists stay arrays");
        assert_eq!(maths["urlSourceEtiquette"], "", "optional fields the GAR always sends are empty strings");

        // The entry URL: Sesame's sign-on, idENT and UAI in base64, the resource id URL-encoded.
        let url = url::Url::parse(maths["urlAccesRessource"].as_str().unwrap()).unwrap();
        assert_eq!(url.as_str().split("/domaineGar?").next().unwrap(), demo.app.public_url);
        assert!(url.as_str().contains("&idRessource=ark%3A%2F99999%2Fdemo.maths6"), "{url}");
        let query: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into(), v.into())).collect();
        let decode = |v: &str| String::from_utf8(STANDARD.decode(v).unwrap()).unwrap();
        assert_eq!(query[0].0, "idENT");
        assert_eq!(decode(&query[0].1), "Z0");
        assert_eq!((query[1].0.as_str(), decode(&query[1].1)), ("idEtab", COLLEGE.to_owned()));
        assert_eq!(query[2], ("idRessource".into(), "ark:/99999/demo.maths6".into()));
    }
}

crate::storage_test! {
    async fn every_listing_is_the_ledger_resolution(db) {
        let demo = Demo::start(&db).await;
        let conn = &mut demo.app.conn();
        // A personally assigned teacher, a delegate librarian, a pupil of an assigned group, anyone.
        let people = [
            ("z0-ens-0001".to_owned(), COLLEGE),
            ("z0-doc-0002".to_owned(), LYCEE),
            (person(conn, LYCEE, "National_elv", Some("SPE-SES")), LYCEE),
            (person(conn, COLLEGE, "National_elv", Some("3A")), COLLEGE),
            (person(conn, COLLEGE, "National_evs", None), COLLEGE),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for (gar_id, uai) in &people {
            let answer = demo.listing(&demo.z0, &format!("/ressources/Z0/{uai}/{gar_id}"), &[]).await;
            assert_eq!(answer.status, StatusCode::OK, "{gar_id}: {}", answer.text());
            let expected = granted(conn, "Z0", gar_id, uai);
            assert!(!expected.is_empty(), "{gar_id} has resources in the demo");
            assert_eq!(sorted(answer.resource_ids()), expected, "{gar_id} in {uai}");
            seen.extend(expected);
        }
        assert!(seen.contains("ark:/99999/demo.francais3"), "the personal assignment of z0-ens-0001");
        assert!(seen.contains("ark:/99999/demo.actu"), "the librarian's own seat and the SES group's");
    }
}

crate::storage_test! {
    async fn the_xml_form_carries_the_same_listing(db) {
        let demo = Demo::start(&db).await;
        let pupil = person(&mut demo.app.conn(), COLLEGE, "National_elv", Some("6A"));
        let path = format!("/ressources/Z0/{COLLEGE}/{pupil}");
        let json = demo.listing(&demo.z0, &path, &[("Accept", "application/json")]).await.json();
        let xml = demo.listing(&demo.z0, &path, &[("Accept", "application/xml")]).await;
        assert_eq!(xml.status, StatusCode::OK);
        assert_eq!(xml.header("content-type"), Some("application/xml; charset=utf-8"));
        let json_as_laclasse = super::clients::as_laclasse_sees_json(&json["listeRessources"]["ressource"]);
        assert_eq!(super::clients::laclasse_parse(&xml.text()), json_as_laclasse);
    }
}

crate::storage_test! {
    async fn refusals_name_the_problem_in_the_gar_error_body(db) {
        let demo = Demo::start(&db).await;
        let conn = &mut demo.app.conn();
        let pupil = person(conn, COLLEGE, "National_elv", Some("6A"));
        let ecole_pupil = person(conn, ECOLE, "National_elv", None);
        let z1 = demo.app.registered_client(CallerKind::Ent, "Z1");
        let distributor = demo.app.registered_client(CallerKind::Distributor, "999000101_0000000000000000");
        let erreur = |answer: &Answer| answer.json()["Erreur"].clone();
        let check = |answer: Answer, status: StatusCode, message: &str, path: &str| {
            assert_eq!(answer.status, status, "{path}: {}", answer.text());
            assert_eq!(answer.header("content-type"), Some("application/json"), "{path}");
            let body = erreur(&answer);
            assert_eq!(body["Code"], status.canonical_reason().unwrap(), "{path}");
            assert_eq!(body["Message"], message, "{path}");
            assert_eq!(body["Resource"], path.trim_start_matches('/'), "{path}");
        };

        // ENT Z1's certificate on Z0's listing: refused before anything about Z0 is looked at.
        let path = format!("/ressources/Z0/{COLLEGE}/{pupil}");
        check(demo.listing(&z1, &path, &[]).await, StatusCode::FORBIDDEN,
            "Ce certificat n'appartient pas au projet ENT demandé", &path);
        let path = format!("/ressources/Z0/{COLLEGE}/nobody");
        check(demo.listing(&z1, &path, &[]).await, StatusCode::FORBIDDEN,
            "Ce certificat n'appartient pas au projet ENT demandé", &path);
        check(demo.listing(&distributor, &path, &[]).await, StatusCode::FORBIDDEN,
            "Certificat client non autorisé pour le médiacentre", &path);

        // Another project's school reads exactly like a school that does not exist.
        for uai in [ECOLE, "0990099A"] {
            let path = format!("/ressources/Z0/{uai}/{pupil}");
            check(demo.listing(&demo.z0, &path, &[]).await, StatusCode::BAD_REQUEST, "Établissement non trouvé", &path);
        }
        let path = format!("/ressources/Z0/0990001/{pupil}");
        check(demo.listing(&demo.z0, &path, &[]).await, StatusCode::BAD_REQUEST, "UAI invalide", &path);

        // Another project's person reads exactly like a person who does not exist.
        for gar_id in [ecole_pupil.as_str(), "z0-elv-9999"] {
            let path = format!("/ressources/Z0/{COLLEGE}/{gar_id}");
            check(demo.listing(&demo.z0, &path, &[]).await, StatusCode::NOT_FOUND, "Utilisateur non trouvé", &path);
        }
        // A person of the project, but not of that school.
        let path = format!("/ressources/Z0/{LYCEE}/{pupil}");
        check(demo.listing(&demo.z0, &path, &[]).await, StatusCode::NOT_FOUND,
            "L'utilisateur n'est pas rattaché à cet établissement", &path);
        let path = format!("/ressources/Z0/-/{ecole_pupil}");
        check(demo.listing(&demo.z0, &path, &[]).await, StatusCode::NOT_FOUND, "Utilisateur non trouvé", &path);
    }
}

crate::storage_test! {
    async fn nothing_granted_is_an_empty_array(db) {
        let demo = Demo::start(&db).await;
        let pupil = person(&mut demo.app.conn(), COLLEGE, "National_elv", Some("6A"));
        // Every subscription starts next year: nothing is in force.
        let next_year = Utc::now().naive_utc() + chrono::TimeDelta::days(365);
        diesel::update(subscriptions::table).set(subscriptions::valid_from.eq(next_year)).execute(&mut demo.app.conn()).unwrap();
        let answer = demo.listing(&demo.z0, &format!("/ressources/Z0/{COLLEGE}/{pupil}"), &[]).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.text(), r#"{"listeRessources":{"ressource":[]}}"#);
        let xml = demo.listing(&demo.z0, &format!("/ressources/Z0/{COLLEGE}/{pupil}"), &[("Accept", "text/xml")]).await;
        assert_eq!(xml.text(), r#"<?xml version="1.0" encoding="UTF-8"?><listeRessources></listeRessources>"#);
    }
}

crate::storage_test! {
    async fn etag_304_private_caching_and_gzip(db) {
        let demo = Demo::start(&db).await;
        let pupil = person(&mut demo.app.conn(), COLLEGE, "National_elv", Some("6A"));
        let path = format!("/ressources/Z0/{COLLEGE}/{pupil}");
        let first = demo.listing(&demo.z0, &path, &[]).await;
        let etag = first.header("etag").unwrap().to_owned();
        assert!(etag.starts_with('"') && etag.len() == 34, "a strong ETag: {etag}");
        assert_eq!(first.header("cache-control"), Some("private, no-cache"));
        assert_eq!(demo.listing(&demo.z0, &path, &[]).await.header("etag"), Some(etag.as_str()), "stable");

        let again = demo.listing(&demo.z0, &path, &[("If-None-Match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        assert_eq!(again.header("cache-control"), Some("private, no-cache"));
        let other = demo.listing(&demo.z0, &path, &[("If-None-Match", "\"0123\"")]).await;
        assert_eq!(other.status, StatusCode::OK);
        // The XML form is another representation, with its own tag.
        let xml = demo.listing(&demo.z0, &path, &[("Accept", "application/xml"), ("If-None-Match", &etag)]).await;
        assert_eq!(xml.status, StatusCode::OK);
        assert_ne!(xml.header("etag"), Some(etag.as_str()));

        // gzip when asked, as OPEN-ENT-NG always asks.
        let gzipped = demo.listing(&demo.z0, &path, &[("Accept-Encoding", "gzip, deflate")]).await;
        assert_eq!(gzipped.status, StatusCode::OK);
        assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&gzipped.body[..]).read_to_end(&mut plain).unwrap();
        assert_eq!(plain, first.body);
        assert_eq!(gzipped.header("etag"), Some(etag.as_str()));
        assert_eq!(first.header("content-encoding"), None, "identity unless asked");
    }
}

crate::storage_test! {
    async fn an_assignment_a_subscription_or_a_feed_change_shows_at_once(db) {
        let demo = Demo::start(&db).await;
        let conn = &mut demo.app.conn();
        let pupil = person(conn, COLLEGE, "National_elv", Some("6A"));
        let path = format!("/ressources/Z0/{COLLEGE}/{pupil}");
        let before = demo.listing(&demo.z0, &path, &[]).await;
        let etag_before = before.header("etag").unwrap().to_owned();
        assert!(!before.resource_ids().contains(&"ark:/99999/demo.fle".to_owned()));

        // The documentalist gives the pupil a seat of the FLE subscription (INDIV, not assigned in
        // the demo) in the console.
        let distributor = sesame::domain::SirenIsni::parse("999000101_0000000000000000").unwrap();
        let fle = stored_subscriptions::find_live_id(conn, &distributor, "DEMO-2026-FLE-Z0").unwrap().unwrap();
        let console = crate::console_api::Console::login(&demo.app, "Z0", "z0-dir-0001").await;
        let body = serde_json::json!({ "subscription": fle, "target": { "kind": "PERSON", "ref": pupil } });
        let (status, assigned) = console.post(&format!("/console/api/v1/schools/{COLLEGE}/assignments"), body).await;
        assert_eq!(status, StatusCode::CREATED, "{assigned}");
        assert_eq!(assigned["result"]["changes"]["granted"], 1);

        let after = demo.listing(&demo.z0, &path, &[("If-None-Match", &etag_before)]).await;
        assert_eq!(after.status, StatusCode::OK, "the old ETag no longer matches");
        assert!(after.resource_ids().contains(&"ark:/99999/demo.fle".to_owned()));
        let etag_after = after.header("etag").unwrap().to_owned();
        assert_ne!(etag_after, etag_before);
        assert_eq!(demo.listing(&demo.z0, &path, &[("If-None-Match", &etag_after)]).await.status, StatusCode::NOT_MODIFIED);

        // The distributor deleted the maths subscription 16 days ago: the grace period is over.
        let maths_distributor = sesame::domain::SirenIsni::parse("999000102_0000000000000000").unwrap();
        let maths = stored_subscriptions::find_live_id(conn, &maths_distributor, "DEMO-2026-MATHS6-TILLEULS").unwrap().unwrap();
        let deleted_at = Utc::now().naive_utc() - chrono::TimeDelta::days(16);
        diesel::update(subscriptions::table.find(maths)).set(subscriptions::deleted_at.eq(deleted_at)).execute(conn).unwrap();
        let deleted = demo.listing(&demo.z0, &path, &[("If-None-Match", &etag_after)]).await;
        assert_eq!(deleted.status, StatusCode::OK);
        assert!(!deleted.resource_ids().contains(&"ark:/99999/demo.maths6".to_owned()));
        // Within the grace period it still grants.
        let recently = Utc::now().naive_utc() - chrono::TimeDelta::days(3);
        diesel::update(subscriptions::table.find(maths)).set(subscriptions::deleted_at.eq(recently)).execute(conn).unwrap();
        assert!(demo.listing(&demo.z0, &path, &[]).await.resource_ids().contains(&"ark:/99999/demo.maths6".to_owned()));

        // The directory moves the pupil out of the collège.
        let id: i64 = persons::table.filter(persons::gar_id.eq(&pupil)).select(persons::id).first(conn).unwrap();
        // As an import does: the attachment and the profiles there go together.
        diesel::delete(person_establishments::table.find((id, COLLEGE))).execute(conn).unwrap();
        diesel::delete(person_profiles::table.filter(person_profiles::person_id.eq(id)).filter(person_profiles::uai.eq(COLLEGE)))
            .execute(conn)
            .unwrap();
        assert_eq!(demo.listing(&demo.z0, &path, &[]).await.status, StatusCode::NOT_FOUND);
    }
}

crate::storage_test! {
    async fn one_call_lists_every_school_of_a_person(db) {
        let demo = Demo::start(&db).await;
        // The German teacher works in the collège and the lycée (shared_teacher in academie.toml).
        let teacher = person(&mut demo.app.conn(), COLLEGE, "National_ens", Some("5ALL"));
        let answer = demo.listing(&demo.z0, &format!("/ressources/Z0/-/{teacher}"), &[]).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        let listed = answer.json();
        let resources = listed["listeRessources"]["ressource"].as_array().unwrap();
        let encyclopedie = resources.iter().find(|r| r["idRessource"] == "ark:/99999/demo.encyclopedie").unwrap();
        let schools = encyclopedie["idEtablissement"].as_array().unwrap();
        let uais: Vec<&str> = schools.iter().map(|s| s["UAI"].as_str().unwrap()).collect();
        assert_eq!(uais, [COLLEGE, LYCEE]);
        assert_eq!(schools[0]["nom"], "Collège des Tilleuls");
        assert_eq!(schools[1]["nom"], "Lycée du Belvédère");
        // Listed once, so its entry URL names no school: sign-on picks one of the person's schools.
        let url = encyclopedie["urlAccesRessource"].as_str().unwrap();
        assert!(url.contains("/domaineGar?idENT=WjA=&idRessource=ark%3A%2F99999%2Fdemo.encyclopedie"), "{url}");
        assert!(!url.contains("idEtab"), "{url}");
        // Each school's own listing agrees with the merged one.
        let mut merged = std::collections::BTreeMap::<String, Vec<String>>::new();
        for r in resources {
            for s in r["idEtablissement"].as_array().unwrap() {
                merged.entry(s["UAI"].as_str().unwrap().to_owned()).or_default().push(r["idRessource"].as_str().unwrap().to_owned());
            }
        }
        for uai in [COLLEGE, LYCEE] {
            let single = demo.listing(&demo.z0, &format!("/ressources/Z0/{uai}/{teacher}"), &[]).await;
            assert_eq!(sorted(single.resource_ids()), sorted(merged[uai].clone()), "{uai}");
            assert!(single.json()["listeRessources"]["ressource"][0].get("idEtablissement").is_none());
        }
        // XML carries the same tags.
        let xml = demo.listing(&demo.z0, &format!("/ressources/Z0/-/{teacher}"), &[("Accept", "application/xml")]).await;
        let text = xml.text();
        let mut reader = quick_xml::Reader::from_str(&text);
        let mut tags = 0;
        loop {
            match reader.read_event().unwrap() {
                Event::Start(e) if e.local_name().as_ref() == "idEtablissement" => tags += 1,
                Event::Eof => break,
                _ => {}
            }
        }
        let expected: usize = resources.iter().map(|r| r["idEtablissement"].as_array().unwrap().len()).sum();
        assert_eq!(tags, expected);
    }
}

crate::storage_test! {
    async fn a_reimported_notice_shows_once_the_node_checks_the_catalogue(db) {
        // Checking on every listing; by default each node checks every 2 seconds.
        let demo = Demo::start_with(&db, |config| config.mediacentre.catalogue_refresh_secs = 0).await;
        let conn = &mut demo.app.conn();
        let pupil = person(conn, COLLEGE, "National_elv", Some("6A"));
        let path = format!("/ressources/Z0/{COLLEGE}/{pupil}");
        let before = demo.listing(&demo.z0, &path, &[]).await;

        let mut notice = sesame::store::catalogue::find_notices(conn, &["ark:/99999/demo.maths6"]).unwrap().remove(0);
        notice.name = "Mathématiques 6e — édition 2027".into();
        let mut renamed = sesame::store::catalogue::find_notices(conn, &["ark:/99999/demo.encyclopedie"]).unwrap().remove(0);
        renamed.publisher_name = "Dictionnaires Démo & Cie".into();
        let counts = sesame::store::catalogue::upsert_notices(conn, &[notice, renamed], &mut |_| {}).unwrap();
        assert_eq!((counts.updated, counts.publishers_renamed), (1, 1));

        let after = demo.listing(&demo.z0, &path, &[]).await;
        assert_ne!(after.header("etag"), before.header("etag"));
        let listed = after.json();
        let names: Vec<(&str, &str)> = listed["listeRessources"]["ressource"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["nomRessource"].as_str().unwrap(), r["nomEditeur"].as_str().unwrap()))
            .collect();
        assert_eq!(
            names,
            [("Encyclopédie Démo", "Dictionnaires Démo & Cie"), ("Mathématiques 6e — édition 2027", "Éditions Démo Savoirs")]
        );
    }
}
