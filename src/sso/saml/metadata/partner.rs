//! Reading a partner's metadata: an ENT's identity provider (entity ID, HTTP-Redirect SSO URL,
//! signing certificates) or a publisher's service provider (entity ID, HTTP-POST ACS, signing
//! certificates, requested attributes, signing method).
//!
//! A document may be one `EntityDescriptor` or an `EntitiesDescriptor` aggregate; the entity is
//! chosen by ID, or must be the only one with the expected role. Endpoints must be `https` (plain
//! `http` only on a loopback host, for development): an assertion is a bearer token.
//!
//! **How a service provider opts in to ECDSA**: its metadata lists
//! `<alg:SigningMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>` in the
//! `Extensions` of its `EntityDescriptor` or `SPSSODescriptor` (SAML V2.0 Metadata Profile for
//! Algorithm Support). Sesame then signs its responses with ECDSA P-256; otherwise, or when it
//! only lists other methods, with RSA-SHA256. A registration may still override the choice
//! (`service_providers.signature_algorithm`).

use chrono::{DateTime, Utc};

use super::super::cert::{Certificate, CertificateError};
use super::super::ids::parse_instant;
use super::super::keys::SignatureAlgorithm;
use super::super::ns;
use super::super::xml_tree::{self, Element, Limits, XmlError};

/// What Sesame keeps of an ENT's identity provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityProviderMetadata {
    pub entity_id: String,
    /// Where AuthnRequests go (HTTP-Redirect binding).
    pub sso_url: String,
    pub certificates: Vec<Certificate>,
    /// Whether the IdP wants Sesame's AuthnRequests signed.
    pub want_authn_requests_signed: bool,
}

/// An attribute a service provider asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestedAttribute {
    pub name: String,
    pub required: bool,
}

/// What Sesame keeps of a publisher's service provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceProviderMetadata {
    pub entity_id: String,
    /// The HTTP-POST assertion consumer service (the default one, else the lowest index).
    pub acs_url: String,
    /// Certificates its AuthnRequests are signed with (may be empty).
    pub certificates: Vec<Certificate>,
    pub requested_attributes: Vec<RequestedAttribute>,
    /// Whether it says it signs its AuthnRequests: Sesame then refuses unsigned ones.
    pub authn_requests_signed: bool,
    /// The signing method Sesame will use for it (see the module documentation).
    pub signature_algorithm: SignatureAlgorithm,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("the document is not SAML metadata (root {0})")]
    NotMetadata(String),
    #[error("no entity {0} in the metadata")]
    EntityNotFound(String),
    #[error("the metadata has no {0} entity")]
    NoRole(&'static str),
    #[error("the metadata has {0} candidate entities; name the one to register")]
    Ambiguous(usize),
    #[error("the metadata expired on {0}")]
    Expired(String),
    #[error("the entity has no {0}")]
    MissingEndpoint(&'static str),
    #[error("the entity has no signing certificate")]
    NoSigningCertificate,
    #[error("a signing certificate is unusable: {0}")]
    Certificate(#[from] CertificateError),
    #[error("{what} {url:?} is not an https URL")]
    InsecureUrl { what: &'static str, url: String },
}

/// Reads an ENT's identity provider from its metadata.
pub fn parse_identity_provider(
    xml: &str,
    entity_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<IdentityProviderMetadata, MetadataError> {
    let root = xml_tree::parse(xml, Limits::METADATA)?;
    let (entity, role) = select_entity(&root, entity_id, "IDPSSODescriptor", now)?;
    let sso_url = role
        .children_named(ns::METADATA, "SingleSignOnService")
        .find(|service| service.attr("Binding") == Some(ns::BINDING_REDIRECT))
        .and_then(|service| service.attr("Location"))
        .ok_or(MetadataError::MissingEndpoint("HTTP-Redirect SingleSignOnService"))?;
    let certificates = signing_certificates(role)?;
    if certificates.is_empty() {
        return Err(MetadataError::NoSigningCertificate);
    }
    Ok(IdentityProviderMetadata {
        entity_id: entity_id_of(entity)?,
        sso_url: secure_url("SingleSignOnService", sso_url)?,
        certificates,
        want_authn_requests_signed: role.attr("WantAuthnRequestsSigned").is_some_and(is_true),
    })
}

/// Reads a publisher's service provider from its metadata.
pub fn parse_service_provider(
    xml: &str,
    entity_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ServiceProviderMetadata, MetadataError> {
    let root = xml_tree::parse(xml, Limits::METADATA)?;
    let (entity, role) = select_entity(&root, entity_id, "SPSSODescriptor", now)?;
    let mut services: Vec<&Element> = role
        .children_named(ns::METADATA, "AssertionConsumerService")
        .filter(|service| service.attr("Binding") == Some(ns::BINDING_POST))
        .collect();
    services.sort_by_key(|service| {
        let default = service.attr("isDefault").is_some_and(is_true);
        let index = service.attr("index").and_then(|i| i.trim().parse::<u32>().ok()).unwrap_or(u32::MAX);
        (!default, index)
    });
    let acs_url = services
        .first()
        .and_then(|service| service.attr("Location"))
        .ok_or(MetadataError::MissingEndpoint("HTTP-POST AssertionConsumerService"))?;

    let mut requested_attributes: Vec<RequestedAttribute> = Vec::new();
    for service in role.children_named(ns::METADATA, "AttributeConsumingService") {
        for requested in service.children_named(ns::METADATA, "RequestedAttribute") {
            let Some(name) = requested.attr("Name").filter(|n| !n.is_empty()) else { continue };
            let required = requested.attr("isRequired").is_some_and(is_true);
            match requested_attributes.iter_mut().find(|a| a.name == name) {
                Some(known) => known.required |= required,
                None => requested_attributes.push(RequestedAttribute { name: name.to_owned(), required }),
            }
        }
    }

    let mut signing_methods = Vec::new();
    for extensions in
        [entity.child(ns::METADATA, "Extensions"), role.child(ns::METADATA, "Extensions")].into_iter().flatten()
    {
        signing_methods
            .extend(extensions.children_named(ns::ALGSUPPORT, "SigningMethod").filter_map(|m| m.attr("Algorithm")));
    }
    let signature_algorithm = if signing_methods.contains(&ns::ECDSA_SHA256) {
        SignatureAlgorithm::EcdsaSha256
    } else {
        SignatureAlgorithm::RsaSha256
    };

    Ok(ServiceProviderMetadata {
        entity_id: entity_id_of(entity)?,
        acs_url: secure_url("AssertionConsumerService", acs_url)?,
        certificates: signing_certificates(role)?,
        requested_attributes,
        authn_requests_signed: role.attr("AuthnRequestsSigned").is_some_and(is_true),
        signature_algorithm,
    })
}

/// The entity (and its role descriptor for SAML 2.0) the caller means.
fn select_entity<'a>(
    root: &'a Element,
    entity_id: Option<&str>,
    role_name: &'static str,
    now: DateTime<Utc>,
) -> Result<(&'a Element, &'a Element), MetadataError> {
    let mut entities = Vec::new();
    match (root.namespace.as_str(), root.name.as_str()) {
        (ns::METADATA, "EntityDescriptor") => entities.push(root),
        (ns::METADATA, "EntitiesDescriptor") => collect_entities(root, &mut entities),
        _ => return Err(MetadataError::NotMetadata(format!("{{{}}}{}", root.namespace, root.name))),
    }
    check_valid_until(root, now)?;
    let role_of = |entity: &'a Element| {
        entity.children_named(ns::METADATA, role_name).find(|role| {
            role.attr("protocolSupportEnumeration")
                .is_some_and(|protocols| protocols.split_whitespace().any(|p| p == ns::PROTOCOL))
        })
    };
    let candidates: Vec<(&Element, &Element)> = match entity_id {
        Some(id) => {
            let entity = entities
                .into_iter()
                .find(|entity| entity.attr("entityID") == Some(id))
                .ok_or_else(|| MetadataError::EntityNotFound(id.to_owned()))?;
            vec![(entity, role_of(entity).ok_or(MetadataError::NoRole(role_name))?)]
        }
        None => entities.into_iter().filter_map(|entity| role_of(entity).map(|role| (entity, role))).collect(),
    };
    match candidates.as_slice() {
        [] => Err(MetadataError::NoRole(role_name)),
        [(entity, role)] => {
            check_valid_until(entity, now)?;
            check_valid_until(role, now)?;
            Ok((entity, role))
        }
        many => Err(MetadataError::Ambiguous(many.len())),
    }
}

fn collect_entities<'a>(group: &'a Element, out: &mut Vec<&'a Element>) {
    for child in group.elements() {
        match (child.namespace.as_str(), child.name.as_str()) {
            (ns::METADATA, "EntityDescriptor") => out.push(child),
            (ns::METADATA, "EntitiesDescriptor") => collect_entities(child, out),
            _ => {}
        }
    }
}

fn check_valid_until(element: &Element, now: DateTime<Utc>) -> Result<(), MetadataError> {
    match element.attr("validUntil") {
        Some(text) => match parse_instant(text) {
            Some(until) if until > now => Ok(()),
            _ => Err(MetadataError::Expired(text.to_owned())),
        },
        None => Ok(()),
    }
}

fn entity_id_of(entity: &Element) -> Result<String, MetadataError> {
    entity
        .attr("entityID")
        .filter(|id| !id.is_empty() && id.len() <= 1024)
        .map(str::to_owned)
        .ok_or(MetadataError::MissingEndpoint("entityID"))
}

/// Certificates of `KeyDescriptor`s for signing (`use="signing"` or no `use`), without duplicates.
fn signing_certificates(role: &Element) -> Result<Vec<Certificate>, MetadataError> {
    let mut certificates: Vec<Certificate> = Vec::new();
    for descriptor in role.children_named(ns::METADATA, "KeyDescriptor") {
        if descriptor.attr("use").is_some_and(|usage| usage != "signing") {
            continue;
        }
        let mut found = Vec::new();
        descriptor.descendants_named(ns::DSIG, "X509Certificate", &mut found);
        for element in found {
            let certificate = Certificate::from_base64(&element.text())?;
            if !certificates.contains(&certificate) {
                certificates.push(certificate);
            }
        }
    }
    Ok(certificates)
}

fn secure_url(what: &'static str, location: &str) -> Result<String, MetadataError> {
    let insecure = || MetadataError::InsecureUrl { what, url: location.to_owned() };
    let url = url::Url::parse(location.trim()).map_err(|_| insecure())?;
    let loopback = matches!(url.host(), Some(url::Host::Domain("localhost")))
        || matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
    match url.scheme() {
        // The text as registered, not re-serialized: partners compare it byte for byte.
        "https" => Ok(location.trim().to_owned()),
        "http" if loopback => Ok(location.trim().to_owned()),
        _ => Err(insecure()),
    }
}

fn is_true(value: &str) -> bool {
    matches!(value.trim(), "true" | "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert() -> String {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["partner.test".into()]).unwrap().self_signed(&key).unwrap();
        Certificate::from_der(cert.der().to_vec()).unwrap().to_base64()
    }

    fn key(usage: &str, cert: &str) -> String {
        format!(
            r#"<md:KeyDescriptor {usage}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#
        )
    }

    fn entity(id: &str, body: &str, attributes: &str) -> String {
        format!(r#"<md:EntityDescriptor entityID="{id}" {attributes}>{body}</md:EntityDescriptor>"#)
    }

    fn document(entities: &str) -> String {
        format!(
            r#"<?xml version="1.0"?><!-- federation --><md:EntitiesDescriptor xmlns:md="{}" xmlns:ds="{}" xmlns:alg="{}">{entities}</md:EntitiesDescriptor>"#,
            ns::METADATA,
            ns::DSIG,
            ns::ALGSUPPORT
        )
    }

    fn idp(id: &str, keys: &str, location: &str) -> String {
        entity(
            id,
            &format!(
                r#"<md:IDPSSODescriptor protocolSupportEnumeration="{}" WantAuthnRequestsSigned="1">{keys}<md:SingleSignOnService Binding="{}" Location="https://{id}/post"/><md:SingleSignOnService Binding="{}" Location="{location}"/></md:IDPSSODescriptor>"#,
                ns::PROTOCOL,
                ns::BINDING_POST,
                ns::BINDING_REDIRECT
            ),
            "",
        )
    }

    fn sp(id: &str, extensions: &str, services: &str) -> String {
        entity(
            id,
            &format!(
                r#"<md:Extensions>{extensions}</md:Extensions><md:SPSSODescriptor protocolSupportEnumeration="{}" AuthnRequestsSigned="true">{services}<md:AttributeConsumingService index="1"><md:ServiceName xml:lang="fr">R</md:ServiceName><md:RequestedAttribute Name="IDO" isRequired="true"/><md:RequestedAttribute Name="NOM"/></md:AttributeConsumingService></md:SPSSODescriptor>"#,
                ns::PROTOCOL
            ),
            "",
        )
    }

    fn acs(index: u32, default: bool, location: &str) -> String {
        format!(
            r#"<md:AssertionConsumerService Binding="{}" Location="{location}" index="{index}" isDefault="{default}"/>"#,
            ns::BINDING_POST
        )
    }

    #[test]
    fn reads_an_idp_from_an_aggregate_by_id_and_ignores_encryption_keys() {
        let (signing, encryption) = (cert(), cert());
        let keys = format!("{}{}", key(r#"use="signing""#, &signing), key(r#"use="encryption""#, &encryption));
        let xml = document(&format!(
            "{}{}",
            idp("a.test", &keys, "https://a.test/redirect"),
            idp("b.test", &keys, "https://b.test/r")
        ));
        assert_eq!(parse_identity_provider(&xml, None, Utc::now()), Err(MetadataError::Ambiguous(2)));
        let parsed = parse_identity_provider(&xml, Some("a.test"), Utc::now()).unwrap();
        assert_eq!(parsed.sso_url, "https://a.test/redirect");
        assert_eq!(parsed.certificates, vec![Certificate::from_base64(&signing).unwrap()]);
        assert!(parsed.want_authn_requests_signed);
        assert_eq!(
            parse_identity_provider(&xml, Some("c.test"), Utc::now()),
            Err(MetadataError::EntityNotFound("c.test".into()))
        );
    }

    #[test]
    fn refuses_idps_without_a_usable_key_or_endpoint() {
        let only_encryption = document(&idp("a.test", &key(r#"use="encryption""#, &cert()), "https://a.test/r"));
        assert_eq!(
            parse_identity_provider(&only_encryption, None, Utc::now()),
            Err(MetadataError::NoSigningCertificate)
        );
        let insecure = document(&idp("a.test", &key("", &cert()), "http://a.test/r"));
        assert!(matches!(parse_identity_provider(&insecure, None, Utc::now()), Err(MetadataError::InsecureUrl { .. })));
        let local = document(&idp("a.test", &key("", &cert()), "http://localhost:8080/r"));
        assert!(parse_identity_provider(&local, None, Utc::now()).is_ok());
        let broken = document(&idp("a.test", &key("", "AAAA"), "https://a.test/r"));
        assert!(matches!(parse_identity_provider(&broken, None, Utc::now()), Err(MetadataError::Certificate(_))));
        let only_sp = document(&sp("s.test", "", &acs(0, true, "https://s.test/acs")));
        assert_eq!(parse_identity_provider(&only_sp, None, Utc::now()), Err(MetadataError::NoRole("IDPSSODescriptor")));
    }

    #[test]
    fn expired_metadata_and_doctypes_are_refused() {
        let xml = document(&idp("a.test", &key("", &cert()), "https://a.test/r"))
            .replace("<md:EntitiesDescriptor", r#"<md:EntitiesDescriptor validUntil="2020-01-01T00:00:00Z""#);
        assert!(matches!(parse_identity_provider(&xml, None, Utc::now()), Err(MetadataError::Expired(_))));
        let xml = format!("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{}", document(""));
        assert_eq!(parse_identity_provider(&xml, None, Utc::now()), Err(MetadataError::Xml(XmlError::Doctype)));
        assert!(matches!(parse_service_provider("<a/>", None, Utc::now()), Err(MetadataError::NotMetadata(_))));
    }

    #[test]
    fn reads_a_service_provider_and_its_signing_method() {
        let artifact = r#"<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://s.test/art" index="0" isDefault="true"/>"#;
        let services =
            format!("{}{}{artifact}", acs(2, false, "https://s.test/acs2"), acs(1, false, "https://s.test/acs1"));
        let xml = document(&sp("s.test", "", &services));
        let parsed = parse_service_provider(&xml, None, Utc::now()).unwrap();
        assert_eq!(parsed.acs_url, "https://s.test/acs1", "the lowest index of the POST services");
        assert!(parsed.certificates.is_empty());
        assert!(parsed.authn_requests_signed);
        assert_eq!(parsed.signature_algorithm, SignatureAlgorithm::RsaSha256);
        assert_eq!(
            parsed.requested_attributes,
            vec![
                RequestedAttribute { name: "IDO".into(), required: true },
                RequestedAttribute { name: "NOM".into(), required: false }
            ]
        );

        let services = format!("{}{}", acs(1, false, "https://s.test/acs1"), acs(5, true, "https://s.test/default"));
        let ecdsa = format!(
            r#"<alg:SigningMethod Algorithm="{}"/><alg:SigningMethod Algorithm="{}"/>"#,
            ns::RSA_SHA256,
            ns::ECDSA_SHA256
        );
        let parsed = parse_service_provider(&document(&sp("s.test", &ecdsa, &services)), None, Utc::now()).unwrap();
        assert_eq!(parsed.acs_url, "https://s.test/default");
        assert_eq!(parsed.signature_algorithm, SignatureAlgorithm::EcdsaSha256);
        let xml = document(&sp("s.test", "", ""));
        assert_eq!(
            parse_service_provider(&xml, None, Utc::now()),
            Err(MetadataError::MissingEndpoint("HTTP-POST AssertionConsumerService"))
        );
    }
}
