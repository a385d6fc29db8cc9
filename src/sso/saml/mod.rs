//! The SAML 2.0 engine. Toward publishers Sesame is an identity provider: it issues signed
//! responses written directly in exclusive-c14n form (`response`, `canonical`, `enveloped`),
//! publishes its metadata and reads service providers' AuthnRequests. Toward ENTs it is a service
//! provider: it sends AuthnRequests and verifies responses (`verify`) with bergshamra-dsig behind
//! its own trait, signature-wrapping and replay defences on top.
//!
//! Building the sign-on flow on it (`state.saml` is the [`SamlContext`] built at start):
//! - **Send a user to their ENT**: [`authn_request::redirect_request`] with the ENT's
//!   `identity_providers` row (`sso_url`; sign with `state.saml.keys.key(RsaSha256)` when
//!   `want_authn_requests_signed`), then [`authn_request::OutgoingRequest::record`] with where to
//!   resume, and redirect to its `url`.
//! - **ENT posts back** to `/sp/acs` (or `/console/acs`): [`verify::receive_response`] with
//!   `state.saml.expectations(SpEntity::…, now)` and `state.saml.verifier`, inside
//!   `state.store(…)`; it returns the ENT id, `GARPersonIdentifiant` and the recorded relay, or a
//!   typed [`verify::Refusal`] (already logged) to render as a page.
//! - **A publisher starts a sign-on** at `/idp/sso`: [`authn_request::receive_authn_request`]
//!   (Redirect query string or POST form) with `state.saml.request_rules(now)`.
//! - **Release to the publisher**: [`issue`] with its `service_providers` row (ACS, entity ID,
//!   `signature_algorithm`), the IDO and the contract's attributes, then [`PostForm`] with the
//!   resource URL as `RelayState`.
//! - **Register partners**: [`metadata::parse_identity_provider`] / [`metadata::parse_service_provider`]
//!   and the `store::saml` functions; `state.saml.sp_metadata(…)` is what ENTs register.

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
pub use response::{Attribute, IssuedResponse, ResponseParams, Signing, issue, issue_with};

#[cfg(test)]
mod tests;
