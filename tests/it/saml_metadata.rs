//! `GET /idp/metadata` on a running node: the document publishers register, with the
//! certificates of both signing keys, and the staged or retired ones of a rotation.

use chrono::Utc;
use sesame::pki::{KeyMaterial, KeyPaths};
use sesame::sso::saml::metadata::parse_identity_provider;
use sesame::sso::saml::{Certificate, SamlContext, SignatureAlgorithm, SpEntity};

use crate::common::TestApp;

fn self_signed(algorithm: &'static rcgen::SignatureAlgorithm) -> String {
    let key = rcgen::KeyPair::generate_for(algorithm).unwrap();
    rcgen::CertificateParams::new(vec!["rotation.test".into()]).unwrap().self_signed(&key).unwrap().pem()
}

crate::storage_test! {
    async fn metadata_publishes_both_keys_and_the_rotation_certificates(db) {
        let data = tempfile::tempdir().unwrap();
        let paths = KeyPaths::in_data_dir(data.path());
        let current = KeyMaterial::load_or_create(&paths).unwrap();
        let (next_rsa, previous_ec) = (self_signed(&rcgen::PKCS_RSA_SHA256), self_signed(&rcgen::PKCS_ECDSA_P256_SHA256));
        std::fs::write(&paths.rsa.next_cert, &next_rsa).unwrap();
        std::fs::write(&paths.ec.previous_cert, &previous_ec).unwrap();

        let app = TestApp::spawn_with(&db, |config| config.data_dir = data.path().to_owned()).await;
        let response = reqwest::get(format!("{}/idp/metadata", app.public_url)).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "public, max-age=3600");
        let xml = response.text().await.unwrap();

        let parsed = parse_identity_provider(&xml, None, Utc::now()).unwrap();
        // Derived from the configured public URL (tests listen on port 0 and set none).
        let base = app.config.public_url();
        assert_eq!(parsed.entity_id, format!("{base}/idp/metadata"));
        assert_eq!(parsed.sso_url, format!("{base}/idp/sso"));
        let pem = |text: &str| Certificate::list_from_pem(text).unwrap().remove(0);
        assert_eq!(
            parsed.certificates,
            [&current.signing_cert_pem, &next_rsa, &current.ec_signing_cert_pem, &previous_ec].map(|c| pem(c)),
            "the key in use first, then its rotation certificate, for each algorithm"
        );
        for algorithm in SignatureAlgorithm::ALL {
            assert!(xml.contains(&format!("<alg:SigningMethod xmlns:alg=\"urn:oasis:names:tc:SAML:metadata:algsupport\" Algorithm=\"{}\">", algorithm.uri())));
        }

        // The service provider metadata for ENTs publishes the RSA certificates (requests are RSA-signed).
        let saml = SamlContext::new(&app.config, &KeyMaterial::load_or_create(&paths).unwrap()).unwrap();
        let sp = saml.sp_metadata(SpEntity::Console);
        assert!(sp.contains(&format!("entityID=\"{base}/console/metadata\"")));
        assert!(sp.contains(&format!("Location=\"{base}/console/acs\"")));
        assert_eq!(sp.matches("<ds:X509Certificate>").count(), 2);
    }
}
