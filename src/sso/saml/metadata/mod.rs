//! SAML metadata: the documents Sesame publishes (as identity provider for publishers, as
//! service provider for ENTs), and the reading of its partners' documents.

mod idp;
mod partner;
mod sp;

pub use idp::identity_provider_metadata;
pub use partner::{
    IdentityProviderMetadata, MetadataError, RequestedAttribute, ServiceProviderMetadata, parse_identity_provider,
    parse_service_provider,
};
pub use sp::service_provider_metadata;

use super::canonical::{Canonical, InvalidXmlChar};
use super::cert::Certificate;
use super::ns;

/// The IANA media type of SAML metadata.
pub const CONTENT_TYPE: &str = "application/samlmetadata+xml";

/// How long partners may cache Sesame's metadata before fetching it again (a rotation is staged
/// for longer than this, see `pki::keys`).
const CACHE_DURATION: &str = "PT6H";

/// One `md:KeyDescriptor use="signing"` per certificate.
fn signing_key_descriptors(xml: &mut Canonical, certificates: &[Certificate]) -> Result<(), InvalidXmlChar> {
    for certificate in certificates {
        xml.start("md:KeyDescriptor", &[], &[("use", "signing")])?;
        xml.start("ds:KeyInfo", &[("ds", ns::DSIG)], &[])?;
        xml.start("ds:X509Data", &[], &[])?;
        xml.text_element("ds:X509Certificate", &[], &[], &certificate.to_base64())?;
        xml.end("ds:X509Data");
        xml.end("ds:KeyInfo");
        xml.end("md:KeyDescriptor");
    }
    Ok(())
}
