//! The local certificate authority: signs the development server certificate and the client
//! certificates ENTs and distributors present on the mutual-TLS listener.

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

use super::{CertificateInfo, PkiError, TlsPaths, files};

const VALIDITY_DAYS: i64 = 825;

/// The CA certificate and its key.
pub struct LocalAuthority {
    cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A freshly issued client certificate.
pub struct ClientCertificate {
    pub cert_pem: String,
    pub key_pem: String,
    pub info: CertificateInfo,
}

impl LocalAuthority {
    /// Loads the CA from the data folder, creating it (and the server certificate) when absent.
    pub fn load_or_create(paths: &TlsPaths, server_names: &[String]) -> Result<Self, PkiError> {
        let authority = if paths.ca_cert.is_file() && paths.ca_key.is_file() {
            Self::load(paths)?
        } else {
            let authority = Self::generate()?;
            files::write(&paths.ca_cert, &authority.cert_pem, false)?;
            files::write(&paths.ca_key, &authority.issuer.key().serialize_pem(), true)?;
            authority
        };
        if !(paths.server_cert.is_file() && paths.server_key.is_file()) {
            let (cert, key) = authority.issue_server(server_names)?;
            files::write(&paths.server_cert, &cert, false)?;
            files::write(&paths.server_key, &key, true)?;
        }
        Ok(authority)
    }

    fn load(paths: &TlsPaths) -> Result<Self, PkiError> {
        let cert_pem = files::read(&paths.ca_cert)?;
        let key = KeyPair::from_pem(&files::read(&paths.ca_key)?)
            .map_err(|e| PkiError::Parse { path: paths.ca_key.clone(), reason: e.to_string() })?;
        let issuer = Issuer::from_ca_cert_pem(&cert_pem, key)
            .map_err(|e| PkiError::Parse { path: paths.ca_cert.clone(), reason: e.to_string() })?;
        Ok(Self { cert_pem, issuer })
    }

    fn generate() -> Result<Self, PkiError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = name("Sesame local CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        validity(&mut params, 3650);
        let key = KeyPair::generate()?;
        let cert_pem = params.self_signed(&key)?.pem();
        Ok(Self { cert_pem, issuer: Issuer::new(params, key) })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    fn issue_server(&self, names: &[String]) -> Result<(String, String), PkiError> {
        let mut params = CertificateParams::new(names.to_vec())?;
        params.distinguished_name = name("Sesame development server");
        if !names.iter().any(|n| n == "127.0.0.1") {
            params.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        validity(&mut params, VALIDITY_DAYS);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok((cert.pem(), key.serialize_pem()))
    }

    /// Issues a client certificate whose subject names the caller, e.g. `CN=ENT Z0,O=Sesame`.
    pub fn issue_client(&self, common_name: &str) -> Result<ClientCertificate, PkiError> {
        let mut params = CertificateParams::default();
        params.distinguished_name = name(common_name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        validity(&mut params, VALIDITY_DAYS);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        let info = CertificateInfo::from_der(cert.der())
            .map_err(|reason| PkiError::Parse { path: Path::new("(issued certificate)").into(), reason })?;
        Ok(ClientCertificate { cert_pem: cert.pem(), key_pem: key.serialize_pem(), info })
    }
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "Sesame");
    dn
}

fn validity(params: &mut CertificateParams, days: i64) {
    // Back-dated a day so a client with a slightly slow clock still accepts it.
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(days);
}
