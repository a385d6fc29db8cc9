//! Verifying what ENTs send Sesame: an XML-Signature engine behind Sesame's own trait, the SAML
//! checks on top of it, and the shared-database step that makes each assertion single-use.

mod accept;
mod bergshamra;
mod dsig;
mod refusal;
mod response;

pub use accept::{AcsError, SignedIn, accept, receive_response};
pub use bergshamra::Bergshamra;
pub use dsig::{DsigError, SignatureVerifier, SignedElement};
pub use refusal::Refusal;
pub use response::{Expectations, ReceivedResponse, TrustedIdp, VerifiedResponse};
