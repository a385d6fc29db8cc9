//! Sesame's service provider metadata, for the ENTs' identity providers: one document for
//! sign-on to resources and one for the assignment console, each with its own entity ID and
//! assertion consumer service.

use super::super::canonical::Canonical;
use super::super::keys::{SignatureAlgorithm, SigningKeys};
use super::super::ns;
use super::{CACHE_DURATION, signing_key_descriptors};

/// The attributes Sesame needs from an ENT, as real ENTs send them (GAR-INTERFACES §4.1).
pub const REQUESTED_ATTRIBUTES: [&str; 2] = ["idEnt", "GARPersonIdentifiant"];

const NAMEID_TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";

/// The metadata of the service provider `entity_id` with its ACS (HTTP-POST). Requests are
/// signed with the RSA key, so only its certificates are published; assertions must be signed.
pub fn service_provider_metadata(entity_id: &str, acs_url: &str, keys: &SigningKeys) -> String {
    let mut xml = Canonical::with_capacity(4096);
    // Only configuration-validated URIs and base64 reach the writer, so it cannot fail here.
    write(&mut xml, entity_id, acs_url, keys).expect("metadata content is plain text");
    xml.into_string()
}

fn write(xml: &mut Canonical, entity_id: &str, acs_url: &str, keys: &SigningKeys) -> Result<(), super::InvalidXmlChar> {
    xml.start(
        "md:EntityDescriptor",
        &[("md", ns::METADATA)],
        &[("cacheDuration", CACHE_DURATION), ("entityID", entity_id)],
    )?;
    xml.start(
        "md:SPSSODescriptor",
        &[],
        &[("WantAssertionsSigned", "true"), ("protocolSupportEnumeration", ns::PROTOCOL)],
    )?;
    signing_key_descriptors(xml, keys.published(SignatureAlgorithm::RsaSha256))?;
    xml.text_element("md:NameIDFormat", &[], &[], NAMEID_TRANSIENT)?;
    xml.empty(
        "md:AssertionConsumerService",
        &[],
        &[("Binding", ns::BINDING_POST), ("Location", acs_url), ("index", "0"), ("isDefault", "true")],
    )?;
    xml.start("md:AttributeConsumingService", &[], &[("index", "0"), ("isDefault", "true")])?;
    xml.text_element("md:ServiceName", &[], &[("xml:lang", "fr")], "Sesame")?;
    for name in REQUESTED_ATTRIBUTES {
        xml.empty(
            "md:RequestedAttribute",
            &[],
            &[("Name", name), ("NameFormat", ns::ATTRNAME_BASIC), ("isRequired", "true")],
        )?;
    }
    xml.end("md:AttributeConsumingService");
    xml.end("md:SPSSODescriptor");
    xml.end("md:EntityDescriptor");
    Ok(())
}
