//! The SAML 2.0 engine. Toward publishers Sesame is an identity provider: it issues signed
//! responses written directly in exclusive-c14n form (`response`, `canonical`, `enveloped`),
//! publishes its metadata and reads service providers' AuthnRequests. Toward ENTs it is a service
//! provider: it sends AuthnRequests and verifies responses (`verify`) with bergshamra-dsig behind
//! its own trait, signature-wrapping and replay defences on top.

pub mod authn_request;
pub mod canonical;
pub mod cert;
mod context;
pub mod endpoints;
mod enveloped;
pub mod ids;
pub mod keys;
pub mod metadata;
pub mod ns;
pub mod post_form;
pub mod redirect;
pub mod response;
pub mod verify;
pub mod xml_tree;

pub use cert::Certificate;
pub use context::{SamlContext, SpEntity};
pub use endpoints::Endpoints;
pub use keys::{SignatureAlgorithm, SigningKey, SigningKeys};
pub use post_form::{PostForm, PostedMessage};
pub use response::{Attribute, IssuedResponse, ResponseParams, issue};

#[cfg(test)]
mod tests;
