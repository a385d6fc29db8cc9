//! Enveloped XML signatures over elements Sesame wrote in canonical form.
//!
//! The element is given as the canonical bytes before and after the place where its
//! `ds:Signature` goes (after `Issuer`, as the SAML schemas order it). The enveloped-signature
//! transform removes that Signature and exclusive c14n of the rest is the rest itself, so the
//! digest is SHA-256 of `head ‖ tail`. `SignedInfo` is signed in its canonical form as the apex of
//! exclusive c14n, that is with `xmlns:ds` declared on itself; inside the `Signature` it inherits
//! the declaration, which is why the two renderings differ by that one attribute.

use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::ids::is_ncname;
use super::keys::{SigningFailed, SigningKey};
use super::ns;

const SIGNED_INFO_AS_APEX: &str = "<ds:SignedInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">";

/// The `ds:Signature` element (canonical, declaring `xmlns:ds`) for the element whose `ID` is `id`.
pub fn signature(id: &str, head: &str, tail: &str, key: &SigningKey) -> Result<String, SigningFailed> {
    debug_assert!(is_ncname(id), "IDs are generated NCNames, so the URI needs no escaping");
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(head.as_bytes());
    context.update(tail.as_bytes());
    let digest_value = STANDARD.encode(context.finish());

    let mut signed_info_body = String::with_capacity(640);
    for part in [
        "<ds:CanonicalizationMethod Algorithm=\"",
        ns::C14N_EXCLUSIVE,
        "\"></ds:CanonicalizationMethod><ds:SignatureMethod Algorithm=\"",
        key.algorithm().uri(),
        "\"></ds:SignatureMethod><ds:Reference URI=\"#",
        id,
        "\"><ds:Transforms><ds:Transform Algorithm=\"",
        ns::TRANSFORM_ENVELOPED,
        "\"></ds:Transform><ds:Transform Algorithm=\"",
        ns::C14N_EXCLUSIVE,
        "\"></ds:Transform></ds:Transforms><ds:DigestMethod Algorithm=\"",
        ns::DIGEST_SHA256,
        "\"></ds:DigestMethod><ds:DigestValue>",
        &digest_value,
        "</ds:DigestValue></ds:Reference></ds:SignedInfo>",
    ] {
        signed_info_body.push_str(part);
    }
    let mut signed_info = String::with_capacity(SIGNED_INFO_AS_APEX.len() + signed_info_body.len());
    signed_info.push_str(SIGNED_INFO_AS_APEX);
    signed_info.push_str(&signed_info_body);
    let signature_value = STANDARD.encode(key.sign(signed_info.as_bytes())?);

    let mut out =
        String::with_capacity(signed_info.len() + signature_value.len() + key.certificate_base64().len() + 200);
    for part in [
        "<ds:Signature xmlns:ds=\"",
        ns::DSIG,
        "\"><ds:SignedInfo>",
        &signed_info_body,
        "<ds:SignatureValue>",
        &signature_value,
        "</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>",
        key.certificate_base64(),
        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>",
    ] {
        out.push_str(part);
    }
    Ok(out)
}
