//! Sesame's SAML entity IDs and endpoint URLs, derived once from the configuration so that the
//! metadata Sesame publishes and the routes that serve those endpoints always agree.

use crate::config::Config;

/// Path of Sesame's identity provider metadata (publishers), on the public listener.
pub const IDP_METADATA_PATH: &str = "/idp/metadata";
/// Path of the identity provider's single sign-on service (HTTP-Redirect and HTTP-POST).
pub const IDP_SSO_PATH: &str = "/idp/sso";
/// Path of the service provider metadata toward ENTs, and of its assertion consumer service.
pub const SP_METADATA_PATH: &str = "/sp/metadata";
pub const SP_ACS_PATH: &str = "/sp/acs";
/// The same for the assignment console, which ENTs sign users into unsolicited.
pub const CONSOLE_METADATA_PATH: &str = "/console/metadata";
pub const CONSOLE_ACS_PATH: &str = "/console/acs";

/// Entity IDs and absolute endpoint URLs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    pub idp_entity_id: String,
    pub idp_sso_url: String,
    pub sp_entity_id: String,
    pub sp_acs_url: String,
    pub console_entity_id: String,
    pub console_acs_url: String,
}

impl Endpoints {
    pub fn from_config(config: &Config) -> Self {
        let base = config.public_url();
        let or_default = |id: &Option<String>, path: &str| id.clone().unwrap_or_else(|| format!("{base}{path}"));
        Self {
            idp_entity_id: or_default(&config.saml.idp_entity_id, IDP_METADATA_PATH),
            idp_sso_url: format!("{base}{IDP_SSO_PATH}"),
            sp_entity_id: or_default(&config.saml.sp_entity_id, SP_METADATA_PATH),
            sp_acs_url: format!("{base}{SP_ACS_PATH}"),
            console_entity_id: or_default(&config.saml.console_entity_id, CONSOLE_METADATA_PATH),
            console_acs_url: format!("{base}{CONSOLE_ACS_PATH}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_ids_default_to_their_metadata_url() {
        let mut config = Config::default();
        config.http.public_url = Some("https://sesame.test/".into());
        config.saml.console_entity_id = Some("urn:sesame:console".into());
        let endpoints = Endpoints::from_config(&config);
        assert_eq!(endpoints.idp_entity_id, "https://sesame.test/idp/metadata");
        assert_eq!(endpoints.idp_sso_url, "https://sesame.test/idp/sso");
        assert_eq!(endpoints.sp_acs_url, "https://sesame.test/sp/acs");
        assert_eq!(endpoints.console_entity_id, "urn:sesame:console");
    }
}
