//! Sesame's AuthnRequest to an ENT's identity provider, by HTTP-Redirect, signed with the query
//! string signature when the identity provider wants it. Its ID is recorded in `saml_requests`
//! so that whichever node receives the response can check `InResponseTo`.

use chrono::{DateTime, TimeDelta, Utc};

use super::super::canonical::{Canonical, InvalidXmlChar};
use super::super::ids::{format_instant, new_id};
use super::super::keys::SigningKey;
use super::super::ns;
use super::super::redirect::{self, RedirectError, RedirectKind};
use crate::store::{AnyConnection, StoreError, saml};

/// What the request says.
pub struct AuthnRequestParams<'a> {
    /// Sesame's service provider entity ID (resources, or the console).
    pub sp_entity_id: &'a str,
    /// Where the identity provider must post its response.
    pub acs_url: &'a str,
    /// The identity provider's HTTP-Redirect SSO URL.
    pub idp_sso_url: &'a str,
    /// Sent back by the identity provider with its response (at most 80 bytes, SAML bindings §3.4.3).
    pub relay_state: Option<&'a str>,
    pub issued_at: DateTime<Utc>,
}

/// A request ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingRequest {
    pub id: String,
    pub issued_at: DateTime<Utc>,
    /// Where to redirect the browser.
    pub url: String,
}

impl OutgoingRequest {
    /// Records the request so that any node accepts its response once within `lifetime`;
    /// `relay` is what the response's acceptance hands back (where to resume).
    pub fn record(
        &self,
        conn: &mut AnyConnection,
        ent_id: &str,
        relay: &str,
        lifetime: TimeDelta,
    ) -> Result<(), StoreError> {
        let created = self.issued_at.naive_utc();
        saml::insert_request(conn, &self.id, ent_id, relay, created, created + lifetime)
    }
}

/// A request that could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RequestBuildError {
    #[error("a request field holds a character XML cannot carry: {0}")]
    InvalidCharacter(#[from] InvalidXmlChar),
    #[error("RelayState is longer than the 80 bytes SAML bindings §3.4.3 allow")]
    RelayStateTooLong,
    #[error(transparent)]
    Redirect(#[from] RedirectError),
}

/// Builds the request and its redirect URL; `signer` (the RSA key) signs the query string.
pub fn redirect_request(
    params: &AuthnRequestParams<'_>,
    signer: Option<&SigningKey>,
) -> Result<OutgoingRequest, RequestBuildError> {
    if params.relay_state.is_some_and(|relay| relay.len() > 80) {
        return Err(RequestBuildError::RelayStateTooLong);
    }
    let id = new_id();
    let issued = format_instant(params.issued_at);
    let mut xml = Canonical::with_capacity(1024);
    let write = |xml: &mut Canonical| {
        xml.start(
            "samlp:AuthnRequest",
            &[("samlp", ns::PROTOCOL)],
            &[
                ("AssertionConsumerServiceURL", params.acs_url),
                ("Destination", params.idp_sso_url),
                ("ID", &id),
                ("IssueInstant", &issued),
                ("ProtocolBinding", ns::BINDING_POST),
                ("Version", "2.0"),
            ],
        )?;
        xml.text_element("saml:Issuer", &[("saml", ns::ASSERTION)], &[], params.sp_entity_id)?;
        xml.empty("samlp:NameIDPolicy", &[], &[("AllowCreate", "true")])?;
        xml.end("samlp:AuthnRequest");
        Ok::<_, InvalidXmlChar>(())
    };
    write(&mut xml)?;
    let url =
        redirect::encode_url(params.idp_sso_url, RedirectKind::Request, xml.as_str(), params.relay_state, signer)?;
    Ok(OutgoingRequest { id, issued_at: params.issued_at, url })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{KeyMaterial, KeyPaths};
    use crate::sso::saml::keys::{SignatureAlgorithm, SigningKeys};
    use crate::sso::saml::redirect::RedirectMessage;
    use crate::sso::saml::xml_tree::{self, Limits};

    #[test]
    fn signed_redirect_requests_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let keys =
            SigningKeys::from_material(&KeyMaterial::load_or_create(&KeyPaths::in_data_dir(dir.path())).unwrap())
                .unwrap();
        let rsa = keys.key(SignatureAlgorithm::RsaSha256);
        let params = AuthnRequestParams {
            sp_entity_id: "https://sesame.test/sp/metadata",
            acs_url: "https://sesame.test/sp/acs",
            idp_sso_url: "https://ent.test/sso?tenant=1",
            relay_state: Some("_r"),
            issued_at: Utc::now(),
        };
        let request = redirect_request(&params, Some(rsa)).unwrap();
        assert!(request.url.starts_with("https://ent.test/sso?tenant=1&SAMLRequest="));
        let query = request.url.split_once("?tenant=1&").unwrap().1;
        let message = RedirectMessage::decode(query, RedirectKind::Request, 1 << 16).unwrap();
        message.verify(&[rsa.certificate().clone()]).unwrap();
        assert!(message.verify(&[keys.key(SignatureAlgorithm::EcdsaSha256).certificate().clone()]).is_err());
        assert_eq!(message.relay_state.as_deref(), Some("_r"));
        let xml = xml_tree::parse(&message.xml, Limits::message(1 << 16)).unwrap();
        assert_eq!(xml.attr("ID"), Some(request.id.as_str()));
        assert_eq!(xml.attr("AssertionConsumerServiceURL"), Some("https://sesame.test/sp/acs"));
        assert_eq!(xml.attr("Destination"), Some("https://ent.test/sso?tenant=1"));

        let long = "r".repeat(81);
        let too_long = AuthnRequestParams { relay_state: Some(&long), ..params };
        assert!(matches!(redirect_request(&too_long, None), Err(RequestBuildError::RelayStateTooLong)));
    }
}
