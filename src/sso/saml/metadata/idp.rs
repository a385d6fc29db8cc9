//! Sesame's identity provider metadata, served at `GET /idp/metadata` for publishers.

use super::super::canonical::Canonical;
use super::super::endpoints::Endpoints;
use super::super::keys::{SignatureAlgorithm, SigningKeys};
use super::super::ns;
use super::{CACHE_DURATION, signing_key_descriptors};

/// The metadata document: the signing certificates of both keys (two per key during a
/// rotation), the signing methods Sesame offers (SAML metadata algorithm support profile, so a
/// service provider can see ECDSA is available), persistent name IDs and the SSO endpoints.
pub fn identity_provider_metadata(endpoints: &Endpoints, keys: &SigningKeys) -> String {
    let mut xml = Canonical::with_capacity(8192);
    // Only configuration-validated URIs and base64 reach the writer, so it cannot fail here.
    write(&mut xml, endpoints, keys).expect("metadata content is plain text");
    xml.into_string()
}

fn write(xml: &mut Canonical, endpoints: &Endpoints, keys: &SigningKeys) -> Result<(), super::InvalidXmlChar> {
    xml.start(
        "md:EntityDescriptor",
        &[("md", ns::METADATA)],
        &[("cacheDuration", CACHE_DURATION), ("entityID", &endpoints.idp_entity_id)],
    )?;
    xml.start("md:Extensions", &[], &[])?;
    xml.empty("alg:DigestMethod", &[("alg", ns::ALGSUPPORT)], &[("Algorithm", ns::DIGEST_SHA256)])?;
    for algorithm in SignatureAlgorithm::ALL {
        xml.empty("alg:SigningMethod", &[("alg", ns::ALGSUPPORT)], &[("Algorithm", algorithm.uri())])?;
    }
    xml.end("md:Extensions");
    xml.start(
        "md:IDPSSODescriptor",
        &[],
        &[("WantAuthnRequestsSigned", "false"), ("protocolSupportEnumeration", ns::PROTOCOL)],
    )?;
    for algorithm in SignatureAlgorithm::ALL {
        signing_key_descriptors(xml, keys.published(algorithm))?;
    }
    xml.text_element("md:NameIDFormat", &[], &[], ns::NAMEID_PERSISTENT)?;
    for binding in [ns::BINDING_REDIRECT, ns::BINDING_POST] {
        xml.empty("md:SingleSignOnService", &[], &[("Binding", binding), ("Location", &endpoints.idp_sso_url)])?;
    }
    xml.end("md:IDPSSODescriptor");
    xml.end("md:EntityDescriptor");
    Ok(())
}
