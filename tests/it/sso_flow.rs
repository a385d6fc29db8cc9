//! The whole sign-on flow over HTTP, browser-free: the médiacentre listing's `urlAccesRessource` → Sesame's
//! AuthnRequest to the ENT → the ENT's signed response (signxml) → `/sp/acs` → back to the entry
//! → the auto-POST form → independent publisher SPs (python3-saml, pysaml2, node-saml) accept the
//! assertion and read exactly the approved contract's attributes.

use serde_json::Value;
use sesame::store::saml::{find_service_provider_by_entity_id, set_sign_response};

use crate::common::TestApp;
use crate::interop::Sp;
use crate::sso_support::*;

fn is_ido(value: &str) -> bool {
    value.len() == 128 && value.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

crate::storage_test! {
    async fn the_publisher_receives_exactly_the_contract(db) {
        let sso = Sso::new(&db, true).await;
        // The ENT lists the pupil's resources (médiacentre, mTLS) and links the encyclopedia.
        let ent = sso.app.registered_client(sesame::store::partners::CallerKind::Ent, "Z0");
        let listing = ent.get(format!("{}/ressources/Z0/{COLLEGE}/{PUPIL}", sso.app.mtls_url)).send().await.unwrap();
        assert_eq!(listing.status(), 200);
        let listing: Value = listing.json().await.unwrap();
        let listed = listing["listeRessources"]["ressource"].as_array().unwrap();
        let link = listed.iter().find(|r| r["idRessource"] == ENCYCLOPEDIA).unwrap()["urlAccesRessource"].as_str().unwrap();
        let encyclopedia = link.strip_prefix(&sso.app.public_url).unwrap().to_owned();
        assert_eq!(encyclopedia, entry(ENCYCLOPEDIA, Some(COLLEGE)), "the médiacentre's urlAccesRessource");
        let mut browser = sso.browser();
        let form = Form::read(sso.sign_in_and_open(&mut browser, &encyclopedia, PUPIL).await).await;
        assert_eq!(form.action, sp_acs(DICTIONARIES));
        assert_eq!(form.relay_state, ENCYCLOPEDIA_URL, "RelayState is the resource URL");

        // Contract IDO,UAI,PRO,DIV; the SP metadata also asks for NOM, PRE and P_MEL.
        let mut idos = Vec::new();
        for sp in Sp::ALL {
            let verdict = form.verify(&sso, sp, DICTIONARIES, None);
            assert!(verdict.accepted, "{}: {:?}", sp.engine(), verdict.error);
            assert_eq!(attribute_names(&verdict), ["DIV", "IDO", "PRO", "UAI"], "{}", sp.engine());
            assert_eq!(verdict.values("UAI"), [COLLEGE]);
            assert_eq!(verdict.values("PRO"), ["National_elv"]);
            assert_eq!(verdict.values("DIV").len(), 1);
            assert!(verdict.values("DIV")[0].starts_with("6A##"), "{:?}", verdict.values("DIV"));
            let ido = verdict.values("IDO").remove(0);
            assert!(is_ido(&ido), "{ido}");
            assert_eq!(verdict.name_id.as_deref(), Some(ido.as_str()), "the NameID is the IDO");
            idos.push(ido);
        }
        assert!(idos.windows(2).all(|w| w[0] == w[1]));
        let xml = form.xml();
        for never in ["NOM", "PRE", "P_MEL"] {
            assert!(!xml.contains(&format!("Name=\"{never}\"")), "{never} is not in the contract");
        }

        // The release is audited with ids and attribute names only.
        let (uai, subject, details) = sso.audit("release").remove(0);
        assert_eq!(uai.as_deref(), Some(COLLEGE));
        assert!(subject.unwrap().starts_with("p-"));
        assert_eq!(details["resource"], ENCYCLOPEDIA);
        assert_eq!(details["publisher"], DICTIONARIES);
        assert_eq!(details["sp"], sp_entity(DICTIONARIES).as_str());
        assert_eq!(details["contract"]["version"], 1);
        assert!(details["contract"]["id"].is_i64());
        assert_eq!(details["attributes"], serde_json::json!(["IDO", "UAI", "PRO", "DIV"]));
        assert!(xml.contains(details["assertion"].as_str().unwrap()));
        assert!(!details.to_string().contains(&idos[0]), "no attribute value in the audit log");

        // Same session, another publisher (idSrc in base64, no idEtab): no trip to the ENT, another IDO.
        let maths = format!("/domaineGar?idENT=WjA=&idSrc={}", base64_of(MATHS));
        let form = Form::read(browser.get(&maths).await).await;
        assert_eq!(form.action, sp_acs(SAVOIRS));
        let verdict = form.verify(&sso, Sp::Python3Saml, SAVOIRS, None);
        assert!(verdict.accepted, "{:?}", verdict.error);
        let other = verdict.values("IDO").remove(0);
        assert!(is_ido(&other));
        assert_ne!(other, idos[0], "one pseudonym per publisher");
    }
}

crate::storage_test! {
    async fn one_ido_per_publisher_in_every_school_and_assertion_only_signing(db) {
        let sso = Sso::new(&db, true).await;
        let mut browser = sso.browser();
        // Hand-built entry URL: everything plain.
        let college = format!("/domaineGar?idENT=Z0&idEtab={COLLEGE}&idRessource={ENCYCLOPEDIA}");
        let first = Form::read(sso.sign_in_and_open(&mut browser, &college, SHARED_TEACHER).await).await;
        let first = first.verify(&sso, Sp::Pysaml2, DICTIONARIES, None);
        assert!(first.accepted, "{:?}", first.error);
        assert_eq!(first.values("UAI"), [COLLEGE]);
        assert_eq!(first.values("PRO"), ["National_ens"]);

        // The publisher takes responses where only the Assertion is signed.
        let sp = find_service_provider_by_entity_id(&mut sso.app.conn(), &sp_entity(DICTIONARIES)).unwrap().unwrap();
        assert!(set_sign_response(&mut sso.app.conn(), sp.id, false).unwrap());
        let lycee = format!("/domaineGar?idENT=Z0&idEtab={}&idSrc={}", base64_of(LYCEE), base64_of(ENCYCLOPEDIA));
        let second = Form::read(browser.get(&lycee).await).await;
        let xml = second.xml();
        assert_eq!(xml.matches("<ds:Signature xmlns").count(), 1, "one signature: {xml}");
        assert!(xml.find("<ds:Signature").unwrap() > xml.find("<saml:Assertion").unwrap(), "in the Assertion");
        for sp in Sp::ALL {
            let verdict = sp.verify_signed(
                &sso.idp_metadata, &second.saml_response, &sp_entity(DICTIONARIES), &sp_acs(DICTIONARIES), None, false,
            );
            assert!(verdict.accepted, "{} refuses an assertion-only response: {:?}", sp.engine(), verdict.error);
            assert_eq!(verdict.values("UAI"), [LYCEE]);
            assert_eq!(verdict.values("IDO"), first.values("IDO"), "the same IDO in both schools of the ENT");
        }
        // An SP that wants the Response signed refuses it, as it should.
        let strict = Sp::Python3Saml.verify(
            &sso.idp_metadata, &second.saml_response, &sp_entity(DICTIONARIES), &sp_acs(DICTIONARIES), None,
        );
        assert!(!strict.accepted);
    }
}

crate::storage_test! {
    async fn turnaways_unknown_resources_and_bad_links(db) {
        let sso = Sso::new(&db, true).await;
        let mut browser = sso.browser();
        let turnaways = format!("sesame_turnaways_total{{publisher=\"{NEWS_PUBLISHER}\"}}");
        let before = counter(&sso.metrics().await, &turnaways);
        let page = sso.sign_in_and_open(&mut browser, &entry(NEWS, Some(COLLEGE)), PUPIL).await;
        assert_eq!(page.status(), 403);
        let html = page_text(page).await;
        assert!(html.contains("Cette ressource ne vous est pas affectée"), "{html}");
        assert!(html.contains("responsable d'affectation"), "{html}");
        assert!(html.contains("This resource is not assigned to you"), "English below");
        // Counters are per process, and other tests may turn people away meanwhile.
        assert!(counter(&sso.metrics().await, &turnaways) > before, "sesame_turnaways_total is incremented");
        let (uai, subject, details) = sso.audit("turnaway").remove(0);
        assert_eq!(uai.as_deref(), Some(COLLEGE));
        assert!(subject.is_some());
        assert_eq!(details["resource"], NEWS);
        assert_eq!(details["publisher"], NEWS_PUBLISHER);

        // Without idEtab the person's schools are searched: still not assigned.
        let page = browser.get(&entry(NEWS, None)).await;
        assert_eq!(page.status(), 403);
        assert_eq!(sso.audit("turnaway").len(), 2);

        let page = browser.get(&entry("ark:/99999/nope", Some(COLLEGE))).await;
        assert_eq!(page.status(), 404);
        assert!(page.text().await.unwrap().contains("Ressource introuvable"));
        let page = browser.get("/domaineGar?idENT=Z0").await;
        assert_eq!(page.status(), 400);
        let page = browser.get("/domaineGar?idENT=Z0&idEtab=xyz&idSrc=a").await;
        assert_eq!(page.status(), 400);
        // Another school of the ENT where the pupil is not: a turnaway too, nothing leaks.
        let page = browser.get(&entry(ENCYCLOPEDIA, Some(LYCEE))).await;
        assert_eq!(page.status(), 403);
        assert_eq!(sso.audit("release").len(), 0);
    }
}

crate::storage_test! {
    async fn no_approved_contract_no_release(db) {
        let sso = Sso::new(&db, false).await;
        let mut browser = sso.browser();
        let maths = entry(MATHS, Some(COLLEGE));
        let page = sso.sign_in_and_open(&mut browser, &maths, PUPIL).await;
        assert_eq!(page.status(), 503);
        assert!(page.text().await.unwrap().contains("pas encore ouvert"));
        assert!(sso.audit("release").is_empty());
        sso.approve(SAVOIRS, &[]);
        let form = Form::read(browser.get(&maths).await).await;
        let verdict = form.verify(&sso, Sp::Python3Saml, SAVOIRS, None);
        assert!(verdict.accepted, "{:?}", verdict.error);
        assert_eq!(attribute_names(&verdict), ["IDO", "PRO", "UAI"], "the floor only");
    }
}

crate::storage_test! {
    async fn replayed_and_foreign_responses_are_refused(db) {
        let sso = Sso::new(&db, true).await;
        let z1 = EntIdp::new("Z1");
        sso.register_idp(&z1, "Z1");
        let mut browser = sso.browser();
        let encyclopedia = entry(ENCYCLOPEDIA, Some(COLLEGE));
        let request_url = location(&browser.get(&encyclopedia).await);

        // Z1's IdP answers the request Sesame sent to Z0's.
        let foreign = z1.answer(&sso, Some(&request_url), PUPIL);
        let refused = browser.post_form("/sp/acs", &[("SAMLResponse", foreign["responses"]["valid"].as_str().unwrap())]).await;
        assert_eq!(refused.status(), 403);
        assert!(refused.text().await.unwrap().contains("in_response_to.unknown"));
        // Z0's IdP vouching for idEnt Z1.
        let answers = sso.idp.answer(&sso, Some(&request_url), PUPIL);
        let refused = browser.post_form("/sp/acs", &[("SAMLResponse", answers["responses"]["wrong_ent"].as_str().unwrap())]).await;
        assert_eq!(refused.status(), 403);
        assert!(browser.cookies.is_empty(), "no session from a refused response");

        let valid = answers["responses"]["valid"].as_str().unwrap();
        assert_eq!(browser.post_form("/sp/acs", &[("SAMLResponse", valid)]).await.status(), 303);
        let replayed = sso.browser().post_form("/sp/acs", &[("SAMLResponse", valid)]).await;
        assert_eq!(replayed.status(), 403);
        assert!(replayed.text().await.unwrap().contains("replay"));
        let garbage = sso.browser().post_form("/sp/acs", &[("SAMLResponse", "not base64!")]).await;
        assert_eq!(garbage.status(), 400);
        let metrics = sso.metrics().await;
        assert!(metrics.contains("sesame_sso_refusals_total{endpoint=\"sp\",reason=\"replay\"}"), "{metrics}");
        assert!(metrics.contains("reason=\"in_response_to.unknown\""), "{metrics}");
    }
}

crate::storage_test! {
    async fn logout_ends_the_session(db) {
        let sso = Sso::new(&db, true).await;
        let mut browser = sso.browser();
        let encyclopedia = entry(ENCYCLOPEDIA, Some(COLLEGE));
        assert_eq!(sso.sign_in_and_open(&mut browser, &encyclopedia, PUPIL).await.status(), 200);
        let token = browser.cookies["sesame_launch"].clone();
        let out = browser.get("/logout").await;
        assert_eq!(out.status(), 200);
        assert!(out.text().await.unwrap().contains("Vous êtes déconnecté"));
        assert!(!browser.cookies.contains_key("sesame_launch"), "the cookie is erased");
        let gone = sesame::store::sessions::find(
            &mut sso.app.conn(),
            &sesame::http::session::token_hash(&token),
            sesame::store::sessions::SessionKind::Launch,
            chrono::Utc::now().naive_utc(),
        )
        .unwrap();
        assert!(gone.is_none(), "the session row is deleted");
        // The old cookie opens nothing: back to the ENT.
        browser.cookies.insert("sesame_launch".into(), token);
        assert_eq!(browser.get(&encyclopedia).await.status(), 302);
    }
}

crate::storage_test! {
    async fn console_sign_in_through_the_ent(db) {
        let sso = Sso::new(&db, true).await;
        // IdP-initiated, as from the ENT's "Console d'affectation" link.
        let unsolicited = |gar_id: &str| -> String {
            sso.idp.answer(&sso, None, gar_id)["responses"]["valid"].as_str().unwrap().to_owned()
        };
        let mut manager = sso.browser();
        let signed_in = manager.post_form("/console/acs", &[("SAMLResponse", &unsolicited(LIBRARIAN))]).await;
        assert_eq!(signed_in.status(), 303);
        assert_eq!(location(&signed_in), "/console");
        assert!(manager.cookies.contains_key("sesame_console"));
        let home = manager.get("/console").await;
        assert_eq!(location(&home), format!("/console/{LYCEE}"));
        assert_eq!(manager.get(&format!("/console/{LYCEE}")).await.status(), 200);

        let mut pupil = sso.browser();
        let refused = pupil.post_form("/console/acs", &[("SAMLResponse", &unsolicited(PUPIL))]).await;
        assert_eq!(refused.status(), 403);
        assert!(page_text(refused).await.contains("responsable d'affectation"));
        assert!(pupil.cookies.is_empty());
        // The resources' ACS does not take unsolicited responses.
        let refused = pupil.post_form("/sp/acs", &[("SAMLResponse", &unsolicited(LIBRARIAN))]).await;
        assert_eq!(refused.status(), 403);

        // SP-initiated from the login page.
        let mut browser = sso.browser();
        let login = browser.get("/console/login").await.text().await.unwrap();
        assert!(login.contains("Se connecter avec mon ENT"), "{login}");
        assert!(!login.contains("demo-login"), "no demo login outside `sesame demo`");
        assert_eq!(browser.get("/console/demo-login").await.status(), 404);
        let to_ent = browser.get("/console/login/ent?ent=Z0").await;
        assert_eq!(to_ent.status(), 302);
        let answers = sso.idp.answer(&sso, Some(&location(&to_ent)), LIBRARIAN);
        let request: &Value = &answers["request"];
        assert_eq!(request["issuer"], sso.endpoint("console/metadata").as_str());
        let back = browser.post_form("/console/acs", &[("SAMLResponse", answers["responses"]["valid"].as_str().unwrap())]).await;
        assert_eq!(back.status(), 303);
        assert_eq!(location(&back), "/console");
        assert!(browser.cookies.contains_key("sesame_console"));
    }
}

crate::storage_test! {
    async fn publisher_initiated_sign_on(db) {
        let sso = Sso::new(&db, true).await;
        let mut browser = sso.browser();
        // Publishers that sign their requests: python3-saml by HTTP-Redirect, pysaml2 by HTTP-POST.
        for (engine, sp) in [("python3-saml", Sp::Python3Saml), ("pysaml2", Sp::Pysaml2)] {
            let publisher = SigningPublisher::register(&sso, engine);
            let request = crate::interop::python("publisher_sp.py", &[engine, "request"], &publisher.input);
            let id = request["id"].as_str().unwrap();
            if !browser.cookies.contains_key("sesame_launch") {
                assert_eq!(send(&mut browser, &request, false).await.status(), 401, "not signed on yet");
                sso.sign_in_and_open(&mut browser, &entry(ENCYCLOPEDIA, Some(COLLEGE)), PUPIL).await;
            }
            let form = Form::read(send(&mut browser, &request, false).await).await;
            assert_eq!(form.action, publisher.acs, "{engine}");
            assert_eq!(form.relay_state, ENCYCLOPEDIA_URL);
            let verdict = sp.verify(&sso.idp_metadata, &form.saml_response, &publisher.entity, &publisher.acs, Some(id));
            assert!(verdict.accepted, "{engine}: {:?}", verdict.error);
            assert_eq!(attribute_names(&verdict), ["IDO", "PRO", "UAI"], "{engine}");
            assert_eq!(send(&mut browser, &request, true).await.status(), 400, "{engine}: a tampered request is refused");
        }
    }
}

/// Sends a publisher's AuthnRequest to `/idp/sso` by its binding; `tamper` corrupts the message.
async fn send(browser: &mut Browser, request: &Value, tamper: bool) -> reqwest::Response {
    match request["url"].as_str() {
        Some(url) => {
            let query = url.split_once('?').unwrap().1;
            let query = if tamper { query.replacen("SAMLRequest=", "SAMLRequest=A", 1) } else { query.to_owned() };
            browser.get(&format!("/idp/sso?{query}")).await
        }
        None => {
            let mut saml_request = request["saml_request"].as_str().unwrap().to_owned();
            if tamper {
                saml_request.insert(0, 'A');
            }
            let relay_state = request["relay_state"].as_str().unwrap();
            browser.post_form("/idp/sso", &[("SAMLRequest", &saml_request), ("RelayState", relay_state)]).await
        }
    }
}

/// A publisher's SP that signs its AuthnRequests, registered for the encyclopedia with the floor contract.
struct SigningPublisher {
    entity: String,
    acs: String,
    input: Value,
}

impl SigningPublisher {
    fn register(sso: &Sso, engine: &str) -> Self {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec![format!("{engine}.test")]).unwrap().self_signed(&key).unwrap();
        let (entity, acs) = (format!("https://{engine}.test/sp"), format!("https://{engine}.test/saml/acs"));
        let input = serde_json::json!({
            "sp_entity_id": entity, "acs_url": acs, "key_pem": key.serialize_pem(), "cert_pem": cert.pem(),
            "xmlsec1": crate::interop::xmlsec1(), "idp_metadata": sso.idp_metadata, "relay_state": ENCYCLOPEDIA_URL,
        });
        let metadata = crate::interop::python("publisher_sp.py", &[engine, "metadata"], &input);
        let registration = sesame::sso::registry::PublisherRegistration {
            publisher_id: DICTIONARIES,
            name: "Dictionnaires",
            xml: metadata["metadata"].as_str().unwrap(),
            url: None,
            resources: &[ENCYCLOPEDIA.to_owned()],
            sign_response: None,
        };
        let now = chrono::Utc::now();
        let actor = sesame::domain::audit::Actor::operator();
        sesame::sso::registry::register_publisher(&mut sso.app.conn(), &registration, actor, now).unwrap();
        let approval = sesame::sso::contracts::Approval {
            target: sesame::sso::contracts::ContractTarget::Resource(ENCYCLOPEDIA.into()),
            attributes: vec![],
            purpose: "Accès".into(),
            legal_basis: "RGPD 6.1.e".into(),
            approver: "DPO".into(),
            retention_days: 30,
        };
        sesame::sso::contracts::approve(&mut sso.app.conn(), &approval, now).unwrap();
        Self { entity, acs, input }
    }
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[actix_web::test]
async fn metadata_routes_serve_both_service_providers() {
    let db = crate::common::TestDb::new(sesame::store::Backend::Sqlite);
    let app = TestApp::spawn(&db).await;
    for (path, acs) in [("/sp/metadata", "/sp/acs"), ("/console/metadata", "/console/acs")] {
        let response = reqwest::get(format!("{}{path}", app.public_url)).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/samlmetadata+xml");
        let xml = response.text().await.unwrap();
        assert!(xml.contains(&format!("entityID=\"{}{path}\"", app.config.public_url())), "{xml}");
        assert!(xml.contains(&format!("Location=\"{}{acs}\"", app.config.public_url())), "{xml}");
    }
}
