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
        if !(10..=3600).contains(&self.mediacentre.widget_token_ttl_secs) {
            return Err(ConfigError::key("mediacentre.widget_token_ttl_secs", "must be between 10 and 3600 seconds"));
        }
        EnvFilter::try_new(&self.log.level).map_err(|e| ConfigError::key("log.level", e))?;
        Ok(())
    }
}
