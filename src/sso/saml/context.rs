//! What sign-on handlers need from the SAML engine, built once at start: Sesame's endpoints,
//! its parsed signing keys, the signature verifier, its identity provider metadata document and
//! the timing rules from the configuration.

use chrono::{DateTime, TimeDelta, Utc};

use super::authn_request::RequestRules;
use super::endpoints::Endpoints;
use super::keys::{KeyError, SigningKeys};
use super::metadata::{identity_provider_metadata, service_provider_metadata};
use super::verify::{Bergshamra, Expectations, SignatureVerifier};
use crate::config::{Config, SamlConfig};
use crate::pki::KeyMaterial;

/// Which of Sesame's service providers a response from an ENT is addressed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpEntity {
    /// Sign-on to resources: every response must answer a request Sesame sent.
    Resources,
    /// The assignment console: ENTs may sign users in unsolicited (IdP-initiated).
    Console,
}

/// The SAML engine's shared state.
pub struct SamlContext {
    pub endpoints: Endpoints,
    pub keys: SigningKeys,
    pub verifier: Box<dyn SignatureVerifier>,
    settings: SamlConfig,
    idp_metadata: String,
}

impl SamlContext {
    pub fn new(config: &Config, material: &KeyMaterial) -> Result<Self, KeyError> {
        let endpoints = Endpoints::from_config(config);
        let keys = SigningKeys::from_material(material)?;
        let idp_metadata = identity_provider_metadata(&endpoints, &keys);
        Ok(Self { endpoints, keys, verifier: Box::new(Bergshamra), settings: config.saml.clone(), idp_metadata })
    }

    /// Sesame's identity provider metadata (`GET /idp/metadata`).
    pub fn idp_metadata(&self) -> &str {
        &self.idp_metadata
    }

    /// The metadata of one of Sesame's service providers, for ENTs to register.
    pub fn sp_metadata(&self, entity: SpEntity) -> String {
        let (entity_id, acs_url) = self.sp(entity);
        service_provider_metadata(entity_id, acs_url, &self.keys)
    }

    fn sp(&self, entity: SpEntity) -> (&str, &str) {
        match entity {
            SpEntity::Resources => (&self.endpoints.sp_entity_id, &self.endpoints.sp_acs_url),
            SpEntity::Console => (&self.endpoints.console_entity_id, &self.endpoints.console_acs_url),
        }
    }

    pub fn clock_skew(&self) -> TimeDelta {
        TimeDelta::seconds(self.settings.clock_skew_secs.into())
    }

    /// Lifetime of the assertions Sesame issues to publishers.
    pub fn assertion_lifetime(&self) -> TimeDelta {
        TimeDelta::seconds(self.settings.assertion_lifetime_secs.into())
    }

    /// How long a request Sesame sends to an ENT can be answered.
    pub fn request_lifetime(&self) -> TimeDelta {
        TimeDelta::seconds(self.settings.request_lifetime_secs.into())
    }

    pub fn max_message_bytes(&self) -> usize {
        self.settings.max_message_bytes as usize
    }

    /// What a response from an ENT to `entity` must satisfy at `now`.
    pub fn expectations(&self, entity: SpEntity, now: DateTime<Utc>) -> Expectations<'_> {
        let (audience, acs_url) = self.sp(entity);
        Expectations {
            audience,
            acs_url,
            allow_unsolicited: entity == SpEntity::Console,
            now,
            clock_skew: self.clock_skew(),
            max_age: TimeDelta::seconds(self.settings.max_message_age_secs.into()),
            max_bytes: self.max_message_bytes(),
        }
    }

    /// What a publisher's AuthnRequest must satisfy at `now`.
    pub fn request_rules(&self, now: DateTime<Utc>) -> RequestRules<'_> {
        RequestRules {
            sso_url: &self.endpoints.idp_sso_url,
            now,
            clock_skew: self.clock_skew(),
            max_age: TimeDelta::seconds(self.settings.max_message_age_secs.into()),
            max_bytes: self.max_message_bytes(),
        }
    }
}
