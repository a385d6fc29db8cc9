//! The XML-Signature verifier Sesame relies on, behind its own trait so the engine can be
//! swapped (samael/xmlsec, say) without touching the SAML rules built on top.
//!
//! The contract is "see what is signed": for every signature the verifier returns the element
//! its single reference covers and the exact canonical bytes that were digested. The SAML layer
//! reads assertions from those bytes only, never from the document around them.

use super::super::cert::Certificate;

/// What one valid signature covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedElement {
    /// Namespace URI and local name of the element the reference points at.
    pub namespace: String,
    pub name: String,
    /// Its `ID` attribute.
    pub id: String,
    /// How deep the element is: 0 for the document element, 1 for its children, …
    pub depth: usize,
    /// Whether the `ds:Signature` is a direct child of that element (enveloped, as SAML requires).
    pub signature_is_child: bool,
    /// The signature method URI, from the accepted list.
    pub signature_method: String,
    /// The exclusive-c14n form of the element without its signature: the digested bytes.
    pub canonical: String,
}

/// Why a document's signatures were not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DsigError {
    #[error("the document is not well-formed XML: {0}")]
    Malformed(String),
    #[error("the document has a DOCTYPE")]
    Doctype,
    #[error("two elements share the ID {0:?}")]
    DuplicateId(String),
    #[error("unsupported signature structure: {0}")]
    Structure(String),
    #[error("algorithm not accepted: {0}")]
    AlgorithmNotAllowed(String),
    #[error("the signature does not verify: {0}")]
    Invalid(String),
}

/// Verifies XML signatures against pinned certificates.
pub trait SignatureVerifier: Send + Sync {
    /// Checks every `ds:Signature` in `xml` with the `trusted` certificates only (never a key
    /// the document carries). Succeeds only when all of them verify, and returns what each one
    /// covers, in document order; an unsigned document gives an empty list.
    fn verify(&self, xml: &str, trusted: &[Certificate]) -> Result<Vec<SignedElement>, DsigError>;
}
