//! Sesame as identity provider: the responses it issues with a node's keys are accepted by
//! independent service providers configured from the node's `GET /idp/metadata` (python3-saml and
//! pysaml2, both on libxmlsec1, and node-saml on xml-crypto), which read the right name ID and
//! attributes and refuse a tampered copy. xmlsec1 verifies both signatures, and lxml validates the
//! documents against the OASIS schemas.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{TimeDelta, Utc};
use serde_json::json;
use sesame::pki::{KeyMaterial, KeyPaths};
use sesame::sso::saml::authn_request::{IncomingBinding, receive_authn_request};
use sesame::sso::saml::metadata::{ServiceProviderMetadata, parse_service_provider};
use sesame::sso::saml::redirect::{RedirectKind, RedirectMessage};
use sesame::sso::saml::{
    Attribute, Certificate, IssuedResponse, ResponseParams, SamlContext, SignatureAlgorithm, SpEntity, authn_request,
    issue, ns,
};
use sesame::store::partners;
use sesame::store::saml::{self as saml_store, ServiceProviderFields};

use crate::common::TestApp;
use crate::interop::{self, Sp};

pub const SP_ENTITY: &str = "https://publisher.test/sp";
pub const SP_ACS: &str = "https://publisher.test/saml/acs";

/// A running node, its published metadata and its SAML engine.
pub struct IdpNode {
    pub app: TestApp,
    pub metadata: String,
    pub saml: SamlContext,
}

impl IdpNode {
    pub async fn spawn(db: &crate::common::TestDb) -> Self {
        let app = TestApp::spawn(db).await;
        let response = reqwest::get(format!("{}/idp/metadata", app.public_url)).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/samlmetadata+xml");
        let metadata = response.text().await.unwrap();
        let material = KeyMaterial::load_or_create(&KeyPaths::in_data_dir(&app.config.data_dir)).unwrap();
        let saml = SamlContext::new(&app.config, &material).unwrap();
        Self { app, metadata, saml }
    }

    /// A response to the test publisher, signed as it asks.
    pub fn issue(
        &self,
        algorithm: SignatureAlgorithm,
        in_response_to: Option<&str>,
        attributes: &[Attribute],
    ) -> IssuedResponse {
        self.issue_to(SP_ENTITY, SP_ACS, algorithm, in_response_to, attributes)
    }

    pub fn issue_to(
        &self,
        audience: &str,
        acs: &str,
        algorithm: SignatureAlgorithm,
        in_response_to: Option<&str>,
        attributes: &[Attribute],
    ) -> IssuedResponse {
        let now = Utc::now();
        let params = ResponseParams {
            issuer: &self.saml.endpoints.idp_entity_id,
            destination: acs,
            audience,
            in_response_to,
            name_id: &ido(),
            session_index: Some("_sesame-session-1"),
            authn_instant: now - TimeDelta::seconds(30),
            authn_context_class: "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
            attributes,
            issued_at: now,
            lifetime: self.saml.assertion_lifetime(),
            clock_skew: self.saml.clock_skew(),
        };
        issue(&params, self.saml.keys.key(algorithm)).unwrap()
    }
}

/// A 128-hex IDO like the GAR's.
pub fn ido() -> String {
    sesame::domain::pseudonym::Pseudonyms::new(&[7; 32]).ido("Z0", "z0-elv-0001", "999000201_0000000000000000")
}

/// Attributes as a contract would release them, with values that need escaping.
pub fn released() -> Vec<Attribute> {
    vec![
        Attribute::new("IDO", [ido()]),
        Attribute::new("UAI", ["0990001N", "0990002P"]),
        Attribute::new("PRO", ["National_elv"]),
        Attribute::new("NOM", ["Lefèvre-Æsir"]),
        Attribute::new("PRE", ["Zoé & \"Léa\" <d'Artagnan>"]),
        Attribute::new("DIV", ["3A##3ème A"]),
    ]
}

fn assert_read_everything(sp: Sp, verdict: &interop::SpVerdict) {
    assert!(verdict.accepted, "{} refused: {:?}", sp.engine(), verdict.error);
    assert_eq!(verdict.name_id.as_deref(), Some(ido().as_str()), "{}", sp.engine());
    for attribute in released() {
        assert_eq!(verdict.values(&attribute.name), attribute.values, "{} read {}", sp.engine(), attribute.name);
    }
}

/// The same response with one attribute value changed after signing.
fn tampered(response: &IssuedResponse) -> String {
    let changed = response.xml.replace("National_elv", "National_ens");
    assert_ne!(changed, response.xml);
    STANDARD.encode(changed)
}

crate::storage_test! {
    async fn independent_publishers_accept_rsa_responses(db) {
        let node = IdpNode::spawn(&db).await;
        let response = node.issue(SignatureAlgorithm::RsaSha256, None, &released());
        for sp in Sp::ALL {
            let verdict = sp.verify(&node.metadata, &response.to_base64(), SP_ENTITY, SP_ACS, None);
            assert_read_everything(sp, &verdict);
        }
    }
}

crate::storage_test! {
    async fn python_publishers_accept_ecdsa_responses(db) {
        // node-saml is left out: xml-crypto cannot verify ECDSA at all.
        let node = IdpNode::spawn(&db).await;
        let response = node.issue(SignatureAlgorithm::EcdsaSha256, None, &released());
        assert!(response.xml.contains(ns::ECDSA_SHA256));
        for sp in [Sp::Python3Saml, Sp::Pysaml2] {
            let verdict = sp.verify(&node.metadata, &response.to_base64(), SP_ENTITY, SP_ACS, None);
            assert_read_everything(sp, &verdict);
        }
    }
}

crate::storage_test! {
    async fn every_publisher_refuses_a_tampered_response(db) {
        let node = IdpNode::spawn(&db).await;
        let rsa = node.issue(SignatureAlgorithm::RsaSha256, None, &released());
        let ecdsa = node.issue(SignatureAlgorithm::EcdsaSha256, None, &released());
        for (sp, response) in Sp::ALL.into_iter().map(|sp| (sp, &rsa)).chain([(Sp::Python3Saml, &ecdsa), (Sp::Pysaml2, &ecdsa)]) {
            let verdict = sp.verify(&node.metadata, &tampered(response), SP_ENTITY, SP_ACS, None);
            assert!(!verdict.accepted, "{} accepted a tampered response: {:?}", sp.engine(), verdict.error);
        }
    }
}

crate::storage_test! {
    async fn publishers_refuse_a_response_meant_for_another(db) {
        let node = IdpNode::spawn(&db).await;
        let response = node.issue_to("https://other.test/sp", SP_ACS, SignatureAlgorithm::RsaSha256, None, &released());
        for sp in Sp::ALL {
            let verdict = sp.verify(&node.metadata, &response.to_base64(), SP_ENTITY, SP_ACS, None);
            assert!(!verdict.accepted, "{} accepted another audience's response", sp.engine());
        }
    }
}

crate::storage_test! {
    async fn xmlsec1_verifies_the_response_and_the_assertion_signatures(db) {
        let node = IdpNode::spawn(&db).await;
        let dir = tempfile::tempdir().unwrap();
        for algorithm in SignatureAlgorithm::ALL {
            let response = node.issue(algorithm, Some("_req1"), &released());
            let cert = dir.path().join("idp.pem");
            std::fs::write(&cert, node.saml.keys.key(algorithm).certificate().to_pem()).unwrap();
            // The assertion declares its own namespaces, so it stands alone as a document.
            let start = response.xml.find("<saml:Assertion").unwrap();
            let end = response.xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
            for (name, xml, id_attr) in [
                ("response.xml", response.xml.as_str(), "urn:oasis:names:tc:SAML:2.0:protocol:Response"),
                ("assertion.xml", &response.xml[start..end], "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"),
            ] {
                let file = dir.path().join(name);
                std::fs::write(&file, xml).unwrap();
                let output = std::process::Command::new(interop::xmlsec1())
                    .args(["--verify", "--id-attr:ID", id_attr, "--pubkey-cert-pem"])
                    .arg(&cert)
                    .arg(&file)
                    .output()
                    .unwrap();
                let report = String::from_utf8_lossy(&output.stderr);
                assert!(output.status.success() && report.contains("OK"), "{algorithm:?} {name}: {report}");
            }
            // And the tampered response fails.
            let file = dir.path().join("tampered.xml");
            std::fs::write(&file, STANDARD.decode(tampered(&response)).unwrap()).unwrap();
            let status = std::process::Command::new(interop::xmlsec1())
                .args(["--verify", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response", "--pubkey-cert-pem"])
                .arg(&cert)
                .arg(&file)
                .output()
                .unwrap()
                .status;
            assert!(!status.success(), "{algorithm:?}: xmlsec1 accepted a tampered response");
        }
    }
}

crate::storage_test! {
    async fn issued_documents_are_valid_against_the_saml_schemas(db) {
        let node = IdpNode::spawn(&db).await;
        let request = authn_request::redirect_request(
            &authn_request::AuthnRequestParams {
                sp_entity_id: &node.saml.endpoints.sp_entity_id,
                acs_url: &node.saml.endpoints.sp_acs_url,
                idp_sso_url: "https://ent.test/idp/SSO/Redirect",
                relay_state: Some("r"),
                issued_at: Utc::now(),
            },
            None,
        )
        .unwrap();
        let request_xml = RedirectMessage::decode(request.url.split_once('?').unwrap().1, RedirectKind::Request, 1 << 16).unwrap().xml;
        let documents = vec![
            node.issue(SignatureAlgorithm::RsaSha256, Some("_req1"), &released()).xml,
            node.issue(SignatureAlgorithm::EcdsaSha256, None, &released()).xml,
            node.metadata.clone(),
            node.saml.sp_metadata(SpEntity::Resources),
            node.saml.sp_metadata(SpEntity::Console),
            request_xml,
        ];
        let errors = interop::python("xml_oracle.py", &["schema"], &json!(documents));
        for (document, errors) in documents.iter().zip(errors.as_array().unwrap()) {
            assert_eq!(errors, &json!([]), "{document}");
        }
    }
}

/// A publisher service provider with its own key, as an independent library describes it.
struct SigningPublisher {
    engine: &'static str,
    entity_id: String,
    acs_url: String,
    key_pem: String,
    cert_pem: String,
}

impl SigningPublisher {
    fn new(engine: &'static str) -> Self {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec![format!("{engine}.test")]).unwrap().self_signed(&key).unwrap();
        Self {
            engine,
            entity_id: format!("https://{engine}.test/sp"),
            acs_url: format!("https://{engine}.test/saml/acs"),
            key_pem: key.serialize_pem(),
            cert_pem: cert.pem(),
        }
    }

    fn input(&self, extra: serde_json::Value) -> serde_json::Value {
        let mut input = json!({
            "sp_entity_id": self.entity_id,
            "acs_url": self.acs_url,
            "key_pem": self.key_pem,
            "cert_pem": self.cert_pem,
            "xmlsec1": interop::xmlsec1(),
        });
        input.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        input
    }

    /// Registers the provider from the metadata its library generates; returns that metadata's reading.
    fn register(&self, conn: &mut sesame::store::AnyConnection) -> ServiceProviderMetadata {
        let xml = interop::python("publisher_sp.py", &[self.engine, "metadata"], &self.input(json!({})));
        let xml = xml["metadata"].as_str().unwrap();
        let parsed =
            parse_service_provider(xml, None, Utc::now()).unwrap_or_else(|e| panic!("{}: {e}\n{xml}", self.engine));
        let fields = ServiceProviderFields {
            publisher_id: PUBLISHER.into(),
            entity_id: parsed.entity_id.clone(),
            acs_url: parsed.acs_url.clone(),
            certificates: Certificate::list_to_pem(&parsed.certificates),
            signature_algorithm: parsed.signature_algorithm.code().into(),
            requested_attributes: serde_json::to_string(
                &parsed.requested_attributes.iter().map(|a| &a.name).collect::<Vec<_>>(),
            )
            .unwrap(),
            authn_requests_signed: parsed.authn_requests_signed,
            metadata_xml: Some(xml.into()),
            metadata_url: None,
        };
        saml_store::insert_service_provider(conn, &fields, Utc::now().naive_utc()).unwrap();
        parsed
    }
}

const PUBLISHER: &str = "999000201_0000000000000000";

crate::storage_test! {
    async fn sp_initiated_sign_on_with_independent_publishers(db) {
        let node = IdpNode::spawn(&db).await;
        let mut conn = node.app.conn();
        partners::insert_publisher(&mut conn, PUBLISHER, "Éditeur Test").unwrap();
        // pysaml2's metadata lists ecdsa-sha256 among its alg:SigningMethods, which opts it in to
        // ECDSA; python3-saml's lists none, so it gets RSA.
        for (engine, sp, algorithm) in [
            ("python3-saml", Sp::Python3Saml, SignatureAlgorithm::RsaSha256),
            ("pysaml2", Sp::Pysaml2, SignatureAlgorithm::EcdsaSha256),
        ] {
            let publisher = SigningPublisher::new(engine);
            let registered = publisher.register(&mut conn);
            assert_eq!(registered.signature_algorithm, algorithm, "{engine}");
            assert_eq!(registered.entity_id, publisher.entity_id);
            assert_eq!(registered.acs_url, publisher.acs_url);
            assert!(registered.authn_requests_signed, "{engine} says it signs its requests");
            assert_eq!(registered.certificates.len(), 1, "{engine}");

            let relay = "https://ressource.test/manuel?page=1&x=é";
            let request = interop::python(
                "publisher_sp.py",
                &[engine, "request"],
                &publisher.input(json!({"idp_metadata": node.metadata, "relay_state": relay})),
            );
            let id = request["id"].as_str().unwrap();
            let url;
            let binding = match request["url"].as_str() {
                Some(redirect) => {
                    url = redirect.to_owned();
                    IncomingBinding::Redirect { query: url.split_once('?').unwrap().1 }
                }
                None => IncomingBinding::Post {
                    saml_request: request["saml_request"].as_str().unwrap(),
                    relay_state: request["relay_state"].as_str(),
                },
            };
            let received = receive_authn_request(&mut conn, binding, &node.saml.request_rules(Utc::now()), node.saml.verifier.as_ref())
                .unwrap_or_else(|e| panic!("{engine}: {e}"));
            assert_eq!(received.id, id);
            assert_eq!(received.issuer, publisher.entity_id);
            assert_eq!(received.acs_url, publisher.acs_url);
            assert_eq!(received.relay_state.as_deref(), Some(relay));
            assert!(received.signed, "{engine}");

            let response = node.issue_to(&received.issuer, &received.acs_url, registered.signature_algorithm, Some(&received.id), &released());
            let verdict = sp.verify(&node.metadata, &response.to_base64(), &publisher.entity_id, &publisher.acs_url, Some(id));
            assert_read_everything(sp, &verdict);
        }
    }
}

crate::storage_test! {
    async fn forged_or_unsigned_requests_from_a_signing_publisher_are_refused(db) {
        let node = IdpNode::spawn(&db).await;
        let mut conn = node.app.conn();
        partners::insert_publisher(&mut conn, PUBLISHER, "Éditeur Test").unwrap();
        let publisher = SigningPublisher::new("python3-saml");
        publisher.register(&mut conn);
        let request = interop::python(
            "publisher_sp.py",
            &["python3-saml", "request"],
            &publisher.input(json!({"idp_metadata": node.metadata, "relay_state": "https://ressource.test/a"})),
        );
        let query = request["url"].as_str().unwrap().split_once('?').unwrap().1.to_owned();
        let rules = node.saml.request_rules(Utc::now());
        let mut receive = |query: &str| {
            receive_authn_request(&mut conn, IncomingBinding::Redirect { query }, &rules, node.saml.verifier.as_ref())
                .map(|request| request.id)
                .map_err(|e| e.code())
        };
        assert_eq!(receive(&query), Ok(request["id"].as_str().unwrap().to_owned()));
        // Another relay state under the same signature: the signature covers it.
        let forged = query.replace("RelayState=https%3A%2F%2Fressource.test%2Fa", "RelayState=https%3A%2F%2Fevil.test%2F");
        assert_ne!(forged, query);
        assert_eq!(receive(&forged), Err("signature.invalid"));
        // The signature stripped: this publisher signs, so unsigned requests are not its own.
        let unsigned: Vec<&str> = query.split('&').filter(|p| !p.starts_with("SigAlg=") && !p.starts_with("Signature=")).collect();
        assert_eq!(receive(&unsigned.join("&")), Err("signature.missing"));
    }
}
