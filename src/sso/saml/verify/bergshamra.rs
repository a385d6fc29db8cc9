//! `SignatureVerifier` on bergshamra-dsig (pure Rust, aws-lc crypto, RUST-STACK §1.2) in its
//! strict mode: only the pinned certificates are tried (never a key from `KeyInfo`), reference
//! targets must be the root, an ancestor or a sibling of their signature, duplicate IDs are
//! refused.
//!
//! Before the library sees a signature, its shape is checked here against the only one SAML
//! needs, so that no other code path of a general XML-DSig engine is reachable from the network:
//! exclusive c14n without comments, an accepted signature method, exactly one `Reference` whose
//! URI is `#` + an NCName (no external or XPointer URI, so no file or network access), the
//! enveloped-signature then exclusive c14n transforms, an accepted digest, no `ds:Object`.
//! After it, the digested bytes are recomputed and their digest compared with the signed
//! `DigestValue`, so what is handed to the SAML layer is provably what was signed.

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bergshamra_c14n::C14nMode;
use bergshamra_dsig::{DsigContext, VerifyResult};
use bergshamra_keys::KeysManager;
use bergshamra_xml::nodeset::NodeSet;
use uppsala::{Document, NodeId, NodeKind};

use super::super::cert::Certificate;
use super::super::ids::is_ncname;
use super::super::ns;
use super::dsig::{DsigError, SignatureVerifier, SignedElement};

/// Deeper nesting than any SAML message has.
const MAX_DEPTH: u32 = 64;

/// The bergshamra-dsig verifier.
#[derive(Clone, Copy, Debug, Default)]
pub struct Bergshamra;

/// What the shape check found in one signature.
struct Shape {
    node: NodeId,
    signature_method: String,
    digest_method: &'static digest::Algorithm,
    digest_value: Vec<u8>,
    inclusive_prefixes: Vec<String>,
}

impl SignatureVerifier for Bergshamra {
    fn verify(&self, xml: &str, trusted: &[Certificate]) -> Result<Vec<SignedElement>, DsigError> {
        let doc = uppsala::Parser::new().with_forbid_dtd(true).with_max_depth(MAX_DEPTH).parse(xml).map_err(|e| {
            let message = e.to_string();
            if message.contains("forbid_dtd") { DsigError::Doctype } else { DsigError::Malformed(message) }
        })?;
        let shapes = doc
            .descendants(doc.root())
            .into_iter()
            .filter(|node| is_dsig(&doc, *node, "Signature"))
            .map(|node| shape(&doc, node))
            .collect::<Result<Vec<_>, _>>()?;
        if shapes.is_empty() {
            return Ok(Vec::new());
        }

        let mut keys = KeysManager::new();
        for certificate in trusted {
            let key = bergshamra_keys::loader::load_x509_cert_der(certificate.der()).map_err(|e| {
                DsigError::Invalid(format!("trusted certificate {} unusable: {e}", certificate.fingerprint()))
            })?;
            keys.add_key(key);
        }
        let context = DsigContext::new(keys);
        let results = bergshamra_dsig::verify::verify_all_document(&context, &doc).map_err(|e| {
            let message = e.to_string();
            match message.split_once("duplicate ID") {
                Some((_, id)) => DsigError::DuplicateId(id.trim_start_matches(':').trim().to_owned()),
                None => DsigError::Invalid(message),
            }
        })?;
        if results.len() != shapes.len() {
            return Err(DsigError::Structure("the verifier saw a different set of signatures".into()));
        }

        let mut signed = Vec::with_capacity(results.len());
        for result in results {
            let (signature_node, references) = match result {
                VerifyResult::Valid { signature_node, references, .. } => (signature_node, references),
                VerifyResult::Invalid { reason } => return Err(DsigError::Invalid(reason)),
            };
            let shape = shapes
                .iter()
                .find(|shape| shape.node == signature_node)
                .ok_or_else(|| DsigError::Structure("unknown signature verified".into()))?;
            let target = match references.as_slice() {
                [reference] if reference.digest_verified => reference.resolved_node,
                _ => None,
            }
            .ok_or_else(|| DsigError::Structure("the reference does not resolve to an element".into()))?;
            signed.push(signed_element(&doc, shape, target)?);
        }
        Ok(signed)
    }
}

fn signed_element(doc: &Document<'_>, shape: &Shape, target: NodeId) -> Result<SignedElement, DsigError> {
    let element =
        doc.element(target).ok_or_else(|| DsigError::Structure("the reference target is not an element".into()))?;
    let mut node_set = NodeSet::tree_without_comments(target, doc);
    remove_subtree(doc, shape.node, &mut node_set);
    let canonical =
        bergshamra_c14n::canonicalize_doc(doc, C14nMode::Exclusive, Some(&node_set), &shape.inclusive_prefixes)
            .map_err(|e| DsigError::Invalid(e.to_string()))?;
    // The library compared this digest already; recomputing it here ties the bytes handed on to
    // the signed DigestValue whatever the library did internally.
    if digest::digest(shape.digest_method, &canonical).as_ref() != shape.digest_value.as_slice() {
        return Err(DsigError::Invalid("the signed content does not match its digest".into()));
    }
    let canonical =
        String::from_utf8(canonical).map_err(|_| DsigError::Malformed("canonical form is not UTF-8".into()))?;
    Ok(SignedElement {
        namespace: element.name.namespace_uri.as_deref().unwrap_or_default().to_owned(),
        name: element.name.local_name.to_string(),
        id: element.get_attribute("ID").unwrap_or_default().to_owned(),
        depth: doc.ancestors(target).iter().filter(|a| doc.element(**a).is_some()).count(),
        signature_is_child: doc.parent(shape.node) == Some(target),
        signature_method: shape.signature_method.clone(),
        canonical,
    })
}

fn remove_subtree(doc: &Document<'_>, node: NodeId, set: &mut NodeSet) {
    set.remove_id(node);
    for child in doc.children(node) {
        remove_subtree(doc, child, set);
    }
}

fn is_dsig(doc: &Document<'_>, node: NodeId, name: &str) -> bool {
    doc.element(node).is_some_and(|e| e.name.namespace_uri.as_deref() == Some(ns::DSIG) && e.name.local_name == name)
}

/// Child elements of `node`; any non-whitespace text or other node kind is a shape error.
fn element_children(doc: &Document<'_>, node: NodeId, what: &str) -> Result<Vec<NodeId>, DsigError> {
    let mut children = Vec::new();
    for child in doc.children(node) {
        match doc.node_kind(child) {
            Some(NodeKind::Element(_)) => children.push(child),
            Some(NodeKind::Text(text)) if text.trim().is_empty() => {}
            _ => return Err(DsigError::Structure(format!("unexpected content in {what}"))),
        }
    }
    Ok(children)
}

fn algorithm<'d>(doc: &'d Document<'_>, node: NodeId) -> &'d str {
    doc.element(node).and_then(|e| e.get_attribute("Algorithm")).unwrap_or_default()
}

fn structure(message: &str) -> DsigError {
    DsigError::Structure(message.into())
}

/// Checks one `ds:Signature` against the shape SAML uses (see the module documentation).
fn shape(doc: &Document<'_>, signature: NodeId) -> Result<Shape, DsigError> {
    let parts = element_children(doc, signature, "Signature")?;
    let named = |name: &str| parts.iter().copied().filter(|p| is_dsig(doc, *p, name)).collect::<Vec<_>>();
    let [signed_info] = named("SignedInfo")[..] else { return Err(structure("one SignedInfo expected")) };
    if named("SignatureValue").len() != 1 {
        return Err(structure("one SignatureValue expected"));
    }
    if parts.len() != 2 + named("KeyInfo").len().min(1) || named("KeyInfo").len() > 1 {
        return Err(structure("a Signature holds SignedInfo, SignatureValue and at most one KeyInfo"));
    }

    let info = element_children(doc, signed_info, "SignedInfo")?;
    let [c14n, method, reference] = info[..] else {
        return Err(structure("SignedInfo must hold CanonicalizationMethod, SignatureMethod and one Reference"));
    };
    if !(is_dsig(doc, c14n, "CanonicalizationMethod")
        && is_dsig(doc, method, "SignatureMethod")
        && is_dsig(doc, reference, "Reference"))
    {
        return Err(structure("SignedInfo must hold CanonicalizationMethod, SignatureMethod and one Reference"));
    }
    if algorithm(doc, c14n) != ns::C14N_EXCLUSIVE {
        return Err(DsigError::AlgorithmNotAllowed(algorithm(doc, c14n).to_owned()));
    }
    let signature_method = algorithm(doc, method);
    if !ns::ACCEPTED_SIGNATURE_METHODS.contains(&signature_method) {
        return Err(DsigError::AlgorithmNotAllowed(signature_method.to_owned()));
    }

    let uri = doc.element(reference).and_then(|e| e.get_attribute("URI")).unwrap_or_default();
    if !uri.strip_prefix('#').is_some_and(is_ncname) {
        return Err(DsigError::Structure(format!("reference URI {uri:?} is not a same-document #ID")));
    }
    let reference_parts = element_children(doc, reference, "Reference")?;
    let [transforms, digest_method, digest_value] = reference_parts[..] else {
        return Err(structure("Reference must hold Transforms, DigestMethod and DigestValue"));
    };
    if !(is_dsig(doc, transforms, "Transforms")
        && is_dsig(doc, digest_method, "DigestMethod")
        && is_dsig(doc, digest_value, "DigestValue"))
    {
        return Err(structure("Reference must hold Transforms, DigestMethod and DigestValue"));
    }
    let mut inclusive_prefixes = Vec::new();
    let transform_list = element_children(doc, transforms, "Transforms")?;
    let algorithms: Vec<&str> = transform_list.iter().map(|t| algorithm(doc, *t)).collect();
    // Without an explicit exc-c14n transform the reference would be inclusive c14n.
    if algorithms != [ns::TRANSFORM_ENVELOPED, ns::C14N_EXCLUSIVE] {
        return Err(DsigError::AlgorithmNotAllowed(format!("transforms {algorithms:?}")));
    }
    for transform in &transform_list {
        if !is_dsig(doc, *transform, "Transform") {
            return Err(structure("Transforms holds only Transform elements"));
        }
        for child in element_children(doc, *transform, "Transform")? {
            let element = doc.element(child).ok_or_else(|| structure("Transform content"))?;
            if element.name.namespace_uri.as_deref() != Some(ns::C14N_EXCLUSIVE)
                || element.name.local_name != "InclusiveNamespaces"
            {
                return Err(structure("a Transform holds at most InclusiveNamespaces"));
            }
            let list = element.get_attribute("PrefixList").unwrap_or_default();
            inclusive_prefixes.extend(list.split_whitespace().map(str::to_owned));
        }
    }
    let digest_algorithm = match algorithm(doc, digest_method) {
        ns::DIGEST_SHA256 => &digest::SHA256,
        ns::DIGEST_SHA384 => &digest::SHA384,
        ns::DIGEST_SHA512 => &digest::SHA512,
        other => return Err(DsigError::AlgorithmNotAllowed(other.to_owned())),
    };
    let digest_text: String =
        doc.text_content_deep(digest_value).chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let digest_value = STANDARD.decode(digest_text).map_err(|_| structure("DigestValue is not base64"))?;
    Ok(Shape {
        node: signature,
        signature_method: signature_method.to_owned(),
        digest_method: digest_algorithm,
        digest_value,
        inclusive_prefixes,
    })
}
