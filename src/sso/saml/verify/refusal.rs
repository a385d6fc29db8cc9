//! Why an ENT's SAML response was refused: one typed reason per check, with a stable code for
//! logs and metrics. Messages name IDs and URLs at most, never attribute values or names.

use super::super::xml_tree::XmlError;
use super::dsig::DsigError;

/// A refused response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the SAMLResponse is not base64-encoded UTF-8")]
    Encoding,
    #[error("the response is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the response has a DOCTYPE (DTDs are refused)")]
    Doctype,
    #[error("the response has comments or processing instructions")]
    ForbiddenMarkup,
    #[error("the response is not well-formed: {0}")]
    Malformed(String),
    #[error("the document is not a SAML 2.0 Response")]
    NotAResponse,
    #[error("expected exactly one Assertion, found {0}")]
    AssertionCount(usize),
    #[error("the Assertion is not a direct child of the Response")]
    AssertionMisplaced,
    #[error("encrypted assertions are not supported")]
    EncryptedAssertion,
    #[error("a Signature is not a direct child of the Response or of its Assertion")]
    SignatureMisplaced,
    #[error("no identity provider is registered with the issuer of the response")]
    UnknownIssuer,
    #[error("the response or assertion issuer is not the registered identity provider")]
    IssuerMismatch,
    #[error("neither the Response nor its Assertion is signed")]
    Unsigned,
    #[error("a signature does not verify with the registered certificates: {0}")]
    SignatureInvalid(String),
    #[error("algorithm not accepted: {0}")]
    AlgorithmNotAllowed(String),
    #[error("a signature has an unsupported structure: {0}")]
    SignatureStructure(String),
    #[error("two elements share an ID")]
    DuplicateId,
    #[error("a signature covers something other than the Response or Assertion that encloses it")]
    SignedElementMismatch,
    #[error("the response status is {0}")]
    Status(String),
    #[error("the response Destination is not Sesame's assertion consumer service")]
    Destination,
    #[error("no bearer confirmation is addressed to Sesame's assertion consumer service")]
    Recipient,
    #[error("the assertion is not addressed to Sesame's service provider")]
    Audience,
    #[error("the Response and its Assertion answer different requests")]
    InResponseToMismatch,
    #[error("the response answers no request Sesame sent to this ENT")]
    UnknownRequest,
    #[error("the request this response answers has expired")]
    RequestExpired,
    #[error("unsolicited responses are not accepted by this service provider")]
    Unsolicited,
    #[error("the assertion is not valid yet")]
    NotYetValid,
    #[error("the assertion has expired")]
    Expired,
    #[error("the assertion was issued too long ago")]
    TooOld,
    #[error("the assertion lacks the {0} attribute (or has several values)")]
    MissingAttribute(&'static str),
    #[error("the assertion's idEnt is not the ENT project of its identity provider")]
    EntMismatch,
    #[error("the assertion was already used")]
    Replay,
}

impl Refusal {
    /// A stable, dotted code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Encoding => "encoding",
            Self::TooLarge(_) => "too_large",
            Self::Doctype => "xml.doctype",
            Self::ForbiddenMarkup => "xml.forbidden_markup",
            Self::Malformed(_) => "xml.malformed",
            Self::NotAResponse => "structure.not_a_response",
            Self::AssertionCount(_) => "structure.assertion_count",
            Self::AssertionMisplaced => "structure.assertion_misplaced",
            Self::EncryptedAssertion => "structure.encrypted_assertion",
            Self::SignatureMisplaced => "structure.signature_misplaced",
            Self::UnknownIssuer => "issuer.unknown",
            Self::IssuerMismatch => "issuer.mismatch",
            Self::Unsigned => "signature.missing",
            Self::SignatureInvalid(_) => "signature.invalid",
            Self::AlgorithmNotAllowed(_) => "signature.algorithm",
            Self::SignatureStructure(_) => "signature.structure",
            Self::DuplicateId => "signature.duplicate_id",
            Self::SignedElementMismatch => "signature.wrong_element",
            Self::Status(_) => "status",
            Self::Destination => "destination",
            Self::Recipient => "recipient",
            Self::Audience => "audience",
            Self::InResponseToMismatch => "in_response_to.mismatch",
            Self::UnknownRequest => "in_response_to.unknown",
            Self::RequestExpired => "in_response_to.expired",
            Self::Unsolicited => "unsolicited",
            Self::NotYetValid => "time.not_yet_valid",
            Self::Expired => "time.expired",
            Self::TooOld => "time.too_old",
            Self::MissingAttribute(_) => "attribute.missing",
            Self::EntMismatch => "attribute.ent_mismatch",
            Self::Replay => "replay",
        }
    }
}

impl From<XmlError> for Refusal {
    fn from(error: XmlError) -> Self {
        match error {
            XmlError::Doctype => Self::Doctype,
            XmlError::Comment | XmlError::ProcessingInstruction => Self::ForbiddenMarkup,
            XmlError::TooLarge(limit) => Self::TooLarge(limit),
            other => Self::Malformed(other.to_string()),
        }
    }
}

impl From<DsigError> for Refusal {
    fn from(error: DsigError) -> Self {
        match error {
            DsigError::Malformed(reason) => Self::Malformed(reason),
            DsigError::Doctype => Self::Doctype,
            DsigError::DuplicateId(_) => Self::DuplicateId,
            DsigError::Structure(reason) => Self::SignatureStructure(reason),
            DsigError::AlgorithmNotAllowed(algorithm) => Self::AlgorithmNotAllowed(algorithm),
            DsigError::Invalid(reason) => Self::SignatureInvalid(reason),
        }
    }
}
