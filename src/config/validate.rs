//! Checks serde cannot express, each reported against its key.

use tracing_subscriber::EnvFilter;

use super::{Config, ConfigError};
use crate::store::DatabaseUrl;

impl Config {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.database.url {
            DatabaseUrl::parse(url).map_err(|e| ConfigError::key("database.url", e))?;
        }
        if self.database.pool_size == 0 {
            return Err(ConfigError::key("database.pool_size", "must be at least 1"));
        }
        if self.http.public_addr == self.http.mtls_addr && self.http.public_addr.port() != 0 {
            return Err(ConfigError::key("http.mtls_addr", "must differ from http.public_addr"));
        }
        if let Some(url) = &self.http.public_url {
            let parsed = url::Url::parse(url).map_err(|e| ConfigError::key("http.public_url", e))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(ConfigError::key("http.public_url", "must be an http:// or https:// URL"));
            }
        }
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return Err(ConfigError::key("tls.key", "tls.cert and tls.key must be given together"));
        }
        for (key, path) in [("tls.cert", &self.tls.cert), ("tls.key", &self.tls.key)] {
            if let Some(path) = path.as_ref().filter(|p| !p.is_file()) {
                return Err(ConfigError::key(key, format!("file {} does not exist", path.display())));
            }
        }
        if let Some(path) = self.tls.client_ca.iter().find(|p| !p.is_file()) {
            return Err(ConfigError::key("tls.client_ca", format!("file {} does not exist", path.display())));
        }
        for (key, id) in [
            ("saml.idp_entity_id", &self.saml.idp_entity_id),
            ("saml.sp_entity_id", &self.saml.sp_entity_id),
            ("saml.console_entity_id", &self.saml.console_entity_id),
        ] {
            // SAML core §8.3.6: a URI of at most 1024 characters.
            if let Some(id) = id.as_ref().filter(|id| id.is_empty() || id.len() > 1024 || url::Url::parse(id).is_err())
            {
                return Err(ConfigError::key(key, format!("{id:?} is not a URI of at most 1024 characters")));
            }
        }
        if self.saml.assertion_lifetime_secs == 0 {
            return Err(ConfigError::key("saml.assertion_lifetime_secs", "must be at least 1"));
        }
        if self.saml.request_lifetime_secs == 0 {
            return Err(ConfigError::key("saml.request_lifetime_secs", "must be at least 1"));
        }
        if self.saml.max_message_bytes < 4096 {
            return Err(ConfigError::key("saml.max_message_bytes", "must be at least 4096"));
        }
        if let Some(path) = self.audit.trusted_certificates.iter().find(|p| !p.is_file()) {
            return Err(ConfigError::key(
                "audit.trusted_certificates",
                format!("file {} does not exist", path.display()),
            ));
        }
        for (key, value) in [
            ("audit.checkpoint_every_events", self.audit.checkpoint_every_events),
            ("audit.checkpoint_every_secs", self.audit.checkpoint_every_secs),
            ("retention.every_hours", u64::from(self.retention.every_hours)),
            ("retention.release_days", u64::from(self.retention.release_days)),
            ("retention.audit_days", u64::from(self.retention.audit_days)),
            ("retention.assignment_history_school_years", u64::from(self.retention.assignment_history_school_years)),
        ] {
            if value == 0 {
                return Err(ConfigError::key(key, "must be at least 1"));
            }
        }
        if self.console.session_minutes == 0 {
            return Err(ConfigError::key("console.session_minutes", "must be at least 1"));
        }
        if !(1..=100).contains(&self.console.nearly_exhausted_percent) {
            return Err(ConfigError::key("console.nearly_exhausted_percent", "must be between 1 and 100"));
        }
        if !(0.0..=1.0).contains(&self.feed.large_deletion_share) {
            return Err(ConfigError::key("feed.large_deletion_share", "must be between 0 and 1"));
        }
        if self.feed.poll_interval_secs == 0 {
            return Err(ConfigError::key("feed.poll_interval_secs", "must be at least 1"));
        }
        if !(10..=3600).contains(&self.mediacentre.widget_token_ttl_secs) {
            return Err(ConfigError::key("mediacentre.widget_token_ttl_secs", "must be between 10 and 3600 seconds"));
        }
        EnvFilter::try_new(&self.log.level).map_err(|e| ConfigError::key("log.level", e))?;
        Ok(())
    }
}
