//! Generated on first start, reused afterwards: the local CA, server certificate and keys.

use sesame::pki::{CertificateInfo, KeyPaths, TlsPaths};

use crate::common::test_config;

crate::storage_test! {
    async fn key_material_is_generated_once(db) {
        let dir = tempfile::tempdir().unwrap();
        let config = test_config(dir.path(), &db);
        let snapshot = || {
            let tls = TlsPaths::in_data_dir(dir.path());
            let keys = KeyPaths::in_data_dir(dir.path());
            [
                tls.ca_cert, tls.ca_key, tls.server_cert, tls.server_key, keys.rsa.cert, keys.rsa.key, keys.pseudonym_secret,
                keys.ec.cert, keys.ec.key,
            ]
            .map(|path| std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        };

        drop(sesame::http::Application::build(config.clone()).unwrap());
        let first = snapshot();
        drop(sesame::http::Application::build(config).unwrap());
        assert_eq!(first, snapshot(), "a restart must reuse every generated file");

        let [ca, _, server, server_key, signing_cert, _, secret, ec_cert, ec_key] = first;
        assert!(ec_key.contains("PRIVATE KEY"));
        assert_eq!(CertificateInfo::from_pem(&ec_cert).unwrap().subject, "CN=Sesame signing key (ECDSA), O=Sesame");
        assert!(server_key.contains("PRIVATE KEY"));
        assert_eq!(secret.trim().len(), 64, "32 random bytes, hex");
        let (ca, server, signing) = (
            CertificateInfo::from_pem(&ca).unwrap(),
            CertificateInfo::from_pem(&server).unwrap(),
            CertificateInfo::from_pem(&signing_cert).unwrap(),
        );
        assert_eq!(ca.subject, "CN=Sesame local CA, O=Sesame");
        assert_eq!(server.subject, "CN=Sesame development server, O=Sesame");
        assert_eq!(signing.subject, "CN=Sesame signing key, O=Sesame");

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(TlsPaths::in_data_dir(dir.path()).ca_key).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "private keys are readable by their owner only");
        }
    }
}
