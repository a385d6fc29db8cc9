//! Configuration: defaults, then a TOML file, then `SESAME_…` environment variables.
//!
//! Nested keys use a double underscore in the environment: `http.public_addr` is
//! `SESAME_HTTP__PUBLIC_ADDR`. Unknown keys are rejected so a typo never goes unnoticed.
//! `sesame.example.toml` at the top of the repository lists every key with its default.

mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::store::DatabaseUrl;

/// Everything Sesame reads at start.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Folder for the embedded database, generated keys and certificates.
    /// `SESAME_DATA_DIR`, default `sesame-data`.
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub http: HttpConfig,
    pub tls: TlsConfig,
    pub log: LogConfig,
    pub licences: LicenceConfig,
    pub mediacentre: MediacentreConfig,
    pub debug: DebugConfig,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://…`. `SESAME_DATABASE__URL`, default
    /// `sqlite://<data_dir>/sesame.sqlite3`.
    pub url: Option<String>,
    /// Connections per node. `SESAME_DATABASE__POOL_SIZE`, default 8.
    pub pool_size: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Browser-facing listener. `SESAME_HTTP__PUBLIC_ADDR`, default `127.0.0.1:8080`.
    pub public_addr: SocketAddr,
    /// Serve the public listener over HTTPS with `tls.cert`. `SESAME_HTTP__PUBLIC_TLS`, default false.
    pub public_tls: bool,
    /// URL browsers use to reach the public listener, for links Sesame hands out.
    /// `SESAME_HTTP__PUBLIC_URL`, default derived from `public_addr`.
    pub public_url: Option<String>,
    /// Mutual-TLS listener for ENTs and distributors. `SESAME_HTTP__MTLS_ADDR`, default `127.0.0.1:8443`.
    pub mtls_addr: SocketAddr,
    /// Seconds in-flight requests get to finish after SIGTERM. Default 30.
    pub shutdown_timeout_secs: u64,
    /// Worker threads per listener; 0 means one per core. Default 0.
    pub workers: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Server certificate chain (PEM). Default: generated under `<data_dir>/tls/`.
    pub cert: Option<PathBuf>,
    /// Server private key (PEM). Default: generated with the certificate.
    pub key: Option<PathBuf>,
    /// CA certificates (PEM files) whose client certificates may connect to the mTLS listener.
    /// Default: the local development CA under `<data_dir>/tls/`.
    pub client_ca: Vec<PathBuf>,
    /// How a verified client certificate is matched to a registered caller.
    pub identify_by: IdentifyBy,
}

/// Matching rule for client certificates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentifyBy {
    /// SHA-256 of the leaf certificate: a renewed certificate must be registered again.
    Fingerprint,
    /// The leaf's subject DN: renewals from a trusted CA keep working.
    Subject,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`. `SESAME_LOG__FORMAT`, default `text`.
    pub format: LogFormat,
    /// A tracing filter such as `info` or `sesame=debug,info`. `SESAME_LOG__LEVEL`, default `info`.
    pub level: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// How subscriptions turn into access (see README, "Licence rules").
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceConfig {
    /// Days a subscription deleted by its distributor keeps granting the seats and school-wide
    /// access it already gave, while the school's managers are warned. `SESAME_LICENCES__DELETION_GRACE_DAYS`,
    /// default 15.
    pub deletion_grace_days: u32,
}

/// The médiacentre listing and its embeddable widget.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediacentreConfig {
    /// Lifetime of the widget tokens an ENT's server obtains for its users' browsers.
    /// `SESAME_MEDIACENTRE__WIDGET_TOKEN_TTL_SECS`, default 300.
    pub widget_token_ttl_secs: u64,
    /// Serve the demo ENT page `/demo/ent` on the public listener (`sesame demo` turns it on).
    /// `SESAME_MEDIACENTRE__DEMO_PAGE`, default false.
    pub demo_page: bool,
    /// Each node keeps the catalogue's notices in memory and checks the database for changed ones
    /// at most this often (seconds; 0 checks on every listing). Grants are never cached: only how
    /// an already granted resource is described may lag by this much after an import.
    /// `SESAME_MEDIACENTRE__CATALOGUE_REFRESH_SECS`, default 2.
    pub catalogue_refresh_secs: u64,
}

/// Operator drills; never enable in production.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebugConfig {
    /// Adds `GET /_debug/wait?ms=N` on the public listener, to rehearse graceful shutdown.
    pub wait_route: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("sesame-data"),
            database: DatabaseConfig { url: None, pool_size: 8 },
            http: HttpConfig {
                public_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
                public_tls: false,
                public_url: None,
                mtls_addr: SocketAddr::from(([127, 0, 0, 1], 8443)),
                shutdown_timeout_secs: 30,
                workers: 0,
            },
            tls: TlsConfig { cert: None, key: None, client_ca: Vec::new(), identify_by: IdentifyBy::Fingerprint },
            log: LogConfig { format: LogFormat::Text, level: "info".into() },
            licences: LicenceConfig { deletion_grace_days: 15 },
            mediacentre: MediacentreConfig { widget_token_ttl_secs: 300, demo_page: false, catalogue_refresh_secs: 2 },
            debug: DebugConfig::default(),
        }
    }
}

/// A configuration problem, naming the key at fault.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {message}")]
pub struct ConfigError {
    pub message: String,
}

impl ConfigError {
    pub fn key(key: &str, problem: impl std::fmt::Display) -> Self {
        Self { message: format!("`{key}`: {problem}") }
    }
}

impl Config {
    /// Loads defaults, the optional TOML file, then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, Env::prefixed("SESAME_").split("__"))
    }

    fn load_from(file: Option<&Path>, env: Env) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError { message: format!("configuration file {} does not exist", path.display()) });
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        // SESAME_CONFIG names the file itself; it is not a setting.
        let config: Config =
            figment.merge(env.ignore(&["config"])).extract().map_err(|e| ConfigError { message: describe(e) })?;
        config.validate()?;
        Ok(config)
    }

    /// The database URL, defaulting to SQLite in the data folder.
    pub fn database_url(&self) -> DatabaseUrl {
        match &self.database.url {
            Some(url) => DatabaseUrl::parse(url).expect("validated at load"),
            None => DatabaseUrl::Sqlite(self.data_dir.join("sesame.sqlite3")),
        }
    }

    /// Base URL of the public listener as browsers see it, without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.http.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => {
                let scheme = if self.http.public_tls { "https" } else { "http" };
                format!("{scheme}://{}", self.http.public_addr)
            }
        }
    }
}

/// Turns figment's errors into one line per problem, each naming its key and source.
fn describe(errors: figment::Error) -> String {
    errors
        .into_iter()
        .map(|e| {
            let key = if e.path.is_empty() { "(top level)".to_owned() } else { e.path.join(".") };
            let source = e.metadata.as_ref().map(|m| format!(" (from {})", m.name)).unwrap_or_default();
            format!("`{key}`: {}{source}", e.kind)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests;
