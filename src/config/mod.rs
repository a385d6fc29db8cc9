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
    pub saml: SamlConfig,
    pub audit: AuditConfig,
    pub retention: RetentionConfig,
    pub console: ConsoleConfig,
    pub feed: FeedConfig,
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

/// SAML toward ENTs (Sesame as service provider) and publishers (Sesame as identity provider).
/// Entity IDs default to the URL their metadata is served at, as the GAR requires of its partners.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlConfig {
    /// Sesame's identity provider entity ID (publishers). `SESAME_SAML__IDP_ENTITY_ID`, default
    /// `<public_url>/idp/metadata`.
    pub idp_entity_id: Option<String>,
    /// Sesame's service provider entity ID toward the ENTs' identity providers.
    /// `SESAME_SAML__SP_ENTITY_ID`, default `<public_url>/sp/metadata`.
    pub sp_entity_id: Option<String>,
    /// The assignment console's service provider entity ID, the one ENTs may sign users into
    /// unsolicited (IdP-initiated). `SESAME_SAML__CONSOLE_ENTITY_ID`, default `<public_url>/console/metadata`.
    pub console_entity_id: Option<String>,
    /// Clock difference tolerated with partners, in seconds. `SESAME_SAML__CLOCK_SKEW_SECS`, default 60.
    pub clock_skew_secs: u32,
    /// How long an assertion Sesame issues can be used, in seconds. Default 300.
    pub assertion_lifetime_secs: u32,
    /// How long an AuthnRequest Sesame sends to an ENT can be answered, in seconds. Default 600.
    pub request_lifetime_secs: u32,
    /// Oldest `IssueInstant` accepted on an ENT's response or a publisher's request, in seconds
    /// (plus the skew). Default 300.
    pub max_message_age_secs: u32,
    /// Largest SAML message accepted, in bytes, after base64 decoding and inflating. Default 262144.
    pub max_message_bytes: u32,
    /// Hours a sign-on session lasts: within it, launching another resource needs no new trip
    /// to the ENT. `SESAME_SAML__SESSION_HOURS`, default 6 (as the GAR).
    pub session_hours: u32,
    /// Minutes between two refreshes of partner metadata registered from a URL (one node does
    /// it); 0 turns the refresh off. `SESAME_SAML__METADATA_REFRESH_MINUTES`, default 60.
    pub metadata_refresh_minutes: u32,
}

/// The tamper-evident audit log (README, "Audit and data protection").
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Sign a checkpoint once this many events were appended since the last one.
    /// `SESAME_AUDIT__CHECKPOINT_EVERY_EVENTS`, default 10000.
    pub checkpoint_every_events: u64,
    /// Sign a checkpoint once this many seconds passed since the last one, if events were appended.
    /// `SESAME_AUDIT__CHECKPOINT_EVERY_SECS`, default 300.
    pub checkpoint_every_secs: u64,
    /// Certificates (PEM files) of earlier signing keys whose checkpoints and exports still verify,
    /// besides the current `<data_dir>/keys/signing.pem` and every `<data_dir>/keys/previous/*.pem`.
    /// Default none.
    pub trusted_certificates: Vec<PathBuf>,
}

/// How long personal data is kept (README, "Retention").
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Run the retention job inside `sesame serve`. `SESAME_RETENTION__ENABLED`, default true.
    pub enabled: bool,
    /// Hours between two runs of the job (one node runs it). `SESAME_RETENTION__EVERY_HOURS`, default 24.
    pub every_hours: u32,
    /// Days release and turnaway traces stay in the audit log. `SESAME_RETENTION__RELEASE_DAYS`, default 365.
    pub release_days: u32,
    /// Days every other audit event is kept (assignments, subscriptions, feeds, contracts, keys,
    /// exports, purges, erasures). `SESAME_RETENTION__AUDIT_DAYS`, default 1825 (five years).
    pub audit_days: u32,
    /// Days a person removed from the directory is kept before being purged with their memberships
    /// and seats. `SESAME_RETENTION__REMOVED_PERSON_GRACE_DAYS`, default 30.
    pub removed_person_grace_days: u32,
    /// School years (1 September to 31 August) of assignment history kept, the current one included;
    /// older history, revoked assignments and released seats are purged.
    /// `SESAME_RETENTION__ASSIGNMENT_HISTORY_SCHOOL_YEARS`, default 1.
    pub assignment_history_school_years: u32,
}

/// The assignment console (`/console`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Minutes a console session lasts after login. `SESAME_CONSOLE__SESSION_MINUTES`, default 480.
    pub session_minutes: u32,
    /// A counter used at least this much (percent) is "nearly exhausted" on the dashboard.
    /// `SESAME_CONSOLE__NEARLY_EXHAUSTED_PERCENT`, default 90.
    pub nearly_exhausted_percent: u8,
    /// Subscriptions ending within this many days are flagged. `SESAME_CONSOLE__EXPIRY_WARNING_DAYS`, default 30.
    pub expiry_warning_days: u32,
    /// A page to log in as any assignment manager, without single sign-on. Only `sesame demo`
    /// turns it on; never enable it on real data. Default false.
    pub demo_login: bool,
}

/// Directory feed imports (GAR-ENT exports): safety threshold, limits, drop folder, report retention.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// An export that would detach more than this share of an establishment's persons is held until
    /// confirmed, so that a truncated export never wipes a school. `SESAME_FEED__LARGE_DELETION_SHARE`,
    /// default 0.3.
    pub large_deletion_share: f64,
    /// Establishments with fewer persons than this are never held: a few departures from a tiny
    /// school are not a truncated export. Default 10.
    pub large_deletion_min_persons: u32,
    /// Folder watched by `sesame serve` for nightly deposits: one sub-folder per ENT project
    /// (`<drop_dir>/<idENT>/`) receiving `<idENT>_GAR-ENT_Complet_…tar.gz` then its `.md5`.
    /// Processed bundles move to `processed/`, refused ones to `rejected/`. Default: none.
    pub drop_dir: Option<PathBuf>,
    /// Seconds between two scans of the drop folder. Default 60.
    pub poll_interval_secs: u64,
    /// Largest export accepted by `POST /feed/v1/{idENT}`, in bytes as sent. Default 4 GiB.
    pub max_upload_bytes: u64,
    /// Largest export once decompressed (all its XML files together), against gzip bombs. Default 32 GiB.
    pub max_export_bytes: u64,
    /// Rejected elements listed one by one in a report; beyond that they are only counted. Default 10000.
    pub max_listed_rejections: u32,
    /// Days import reports are kept; older finished imports are deleted when a new one starts. Default 180.
    pub report_retention_days: u32,
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
            saml: SamlConfig {
                idp_entity_id: None,
                sp_entity_id: None,
                console_entity_id: None,
                clock_skew_secs: 60,
                assertion_lifetime_secs: 300,
                request_lifetime_secs: 600,
                max_message_age_secs: 300,
                max_message_bytes: 256 * 1024,
                session_hours: 6,
                metadata_refresh_minutes: 60,
            },
            audit: AuditConfig {
                checkpoint_every_events: 10_000,
                checkpoint_every_secs: 300,
                trusted_certificates: Vec::new(),
            },
            retention: RetentionConfig {
                enabled: true,
                every_hours: 24,
                release_days: 365,
                audit_days: 1825,
                removed_person_grace_days: 30,
                assignment_history_school_years: 1,
            },
            console: ConsoleConfig {
                session_minutes: 480,
                nearly_exhausted_percent: 90,
                expiry_warning_days: 30,
                demo_login: false,
            },
            feed: FeedConfig {
                large_deletion_share: 0.3,
                large_deletion_min_persons: 10,
                drop_dir: None,
                poll_interval_secs: 60,
                max_upload_bytes: 4 << 30,
                max_export_bytes: 32 << 30,
                max_listed_rejections: 10_000,
                report_retention_days: 180,
            },
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
