//! Registering SAML partners from their metadata: an ENT project's identity provider, a
//! publisher's service provider (and the resources released to it). Metadata comes from a file or
//! a URL; a URL is kept so that the refresh job (`sso::refresh`) fetches it again. Each change is
//! audited in the transaction that makes it.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::saml::Certificate;
use super::saml::metadata::{
    IdentityProviderMetadata, MetadataError, ServiceProviderMetadata, parse_identity_provider, parse_service_provider,
};
use crate::domain::SirenIsni;
use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::store::saml::{self as saml_store, IdentityProviderRow, ServiceProviderFields};
use crate::store::{AnyConnection, StoreError, audit, partners, write_transaction};

/// Largest metadata document fetched (federation aggregates are not registered here).
const MAX_METADATA_BYTES: usize = 1 << 20;
const FETCH_TIMEOUT: Duration = Duration::from_secs(20);

/// Where metadata comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetadataSource {
    File(PathBuf),
    Url(String),
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot fetch {url}: {reason}")]
    Fetch { url: String, reason: String },
    #[error("the metadata is not usable: {0}")]
    Metadata(#[from] MetadataError),
    #[error("no ENT project {0}: give --name to create it")]
    UnknownEnt(String),
    #[error("{0}")]
    InvalidPublisher(String),
    #[error("service provider {entity_id} is registered for publisher {owner}, not {publisher}")]
    OtherPublisher { entity_id: String, owner: String, publisher: String },
    #[error("not resources of publisher {publisher} in the catalogue: {}", missing.join(", "))]
    UnknownResources { publisher: String, missing: Vec<String> },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for RegistryError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Store(error.into())
    }
}

impl MetadataSource {
    /// `http://…` or `https://…` is a URL; anything else a file path.
    pub fn parse(argument: &str) -> Self {
        if argument.starts_with("https://") || argument.starts_with("http://") {
            Self::Url(argument.to_owned())
        } else {
            Self::File(PathBuf::from(argument))
        }
    }

    /// The URL to keep for refreshes.
    pub fn url(&self) -> Option<&str> {
        match self {
            Self::Url(url) => Some(url),
            Self::File(_) => None,
        }
    }

    /// Reads the document (fetches a URL with reqwest).
    pub async fn load(&self) -> Result<String, RegistryError> {
        match self {
            Self::File(path) => std::fs::read_to_string(path)
                .map_err(|source| RegistryError::Read { path: path.display().to_string(), source }),
            Self::Url(url) => fetch(url).await,
        }
    }

    /// As `load`, from synchronous code (the CLI).
    pub fn load_blocking(&self) -> Result<String, RegistryError> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
            RegistryError::Fetch { url: self.url().unwrap_or_default().to_owned(), reason: e.to_string() }
        })?;
        runtime.block_on(self.load())
    }
}

/// GETs a metadata document, refusing error statuses and oversized bodies.
pub async fn fetch(url: &str) -> Result<String, RegistryError> {
    let failed = |reason: String| RegistryError::Fetch { url: url.to_owned(), reason };
    let client = reqwest::Client::builder().timeout(FETCH_TIMEOUT).build().map_err(|e| failed(e.to_string()))?;
    let mut response = client.get(url).send().await.map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("HTTP {}", response.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.to_string()))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_METADATA_BYTES {
            return Err(failed(format!("larger than {MAX_METADATA_BYTES} bytes")));
        }
    }
    String::from_utf8(body).map_err(|_| failed("not UTF-8".into()))
}

/// Registers (or replaces) ENT project `ent_id`'s identity provider from `xml`. Creates the ENT
/// project when `new_ent_name` is given and it does not exist yet.
pub fn register_identity_provider(
    conn: &mut AnyConnection,
    ent_id: &str,
    new_ent_name: Option<&str>,
    xml: &str,
    url: Option<&str>,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<IdentityProviderMetadata, RegistryError> {
    let parsed = parse_identity_provider(xml, None, now)?;
    write_transaction(conn, |conn| {
        if partners::find_ent_project_name(conn, ent_id)?.is_none() {
            let name = new_ent_name.ok_or_else(|| RegistryError::UnknownEnt(ent_id.to_owned()))?;
            partners::insert_ent_project(conn, ent_id, name)?;
        }
        let before = saml_store::find_identity_provider(conn, ent_id)?;
        let row = IdentityProviderRow {
            ent_id: ent_id.to_owned(),
            entity_id: parsed.entity_id.clone(),
            sso_url: parsed.sso_url.clone(),
            certificates: Certificate::list_to_pem(&parsed.certificates),
            metadata_xml: xml.to_owned(),
            metadata_url: url.map(str::to_owned),
            refreshed_at: now.naive_utc(),
            want_authn_requests_signed: parsed.want_authn_requests_signed,
        };
        saml_store::upsert_identity_provider(conn, &row)?;
        let changed = before.as_ref().is_none_or(|b| {
            (&b.entity_id, &b.sso_url, &b.certificates, b.want_authn_requests_signed)
                != (&row.entity_id, &row.sso_url, &row.certificates, row.want_authn_requests_signed)
        });
        if changed {
            let event = AuditEvent::new(
                AuditKind::PartnerChanged,
                actor.clone(),
                json!({
                    "ent": ent_id,
                    "action": if before.is_some() { "identity provider updated" } else { "identity provider registered" },
                    "entityId": parsed.entity_id,
                    "certificates": parsed.certificates.iter().map(Certificate::fingerprint).collect::<Vec<_>>(),
                    "metadataUrl": url,
                }),
            )
            .ent(ent_id);
            audit::append(conn, &event)?;
        }
        Ok(parsed.clone())
    })
}

/// A publisher's service provider to register.
pub struct PublisherRegistration<'a> {
    /// idEditeur, SIREN_ISNI.
    pub publisher_id: &'a str,
    pub name: &'a str,
    pub xml: &'a str,
    pub url: Option<&'a str>,
    /// Resources of this publisher whose assertions go to this service provider.
    pub resources: &'a [String],
    /// Sign the Response as well as the Assertion; `None` keeps what was chosen (default: both).
    pub sign_response: Option<bool>,
}

/// A registered service provider.
#[derive(Clone, Debug)]
pub struct RegisteredSp {
    pub id: i64,
    pub metadata: ServiceProviderMetadata,
    pub created: bool,
}

/// Registers the publisher (if new) and its service provider, or refreshes the provider from
/// new metadata; links the given resources to it.
pub fn register_publisher(
    conn: &mut AnyConnection,
    registration: &PublisherRegistration<'_>,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<RegisteredSp, RegistryError> {
    let publisher = SirenIsni::parse(registration.publisher_id)
        .map_err(|e| RegistryError::InvalidPublisher(format!("--id: {e}")))?;
    let parsed = parse_service_provider(registration.xml, None, now)?;
    let fields = ServiceProviderFields {
        publisher_id: publisher.as_str().to_owned(),
        entity_id: parsed.entity_id.clone(),
        acs_url: parsed.acs_url.clone(),
        certificates: Certificate::list_to_pem(&parsed.certificates),
        signature_algorithm: parsed.signature_algorithm.code().to_owned(),
        requested_attributes: serde_json::to_string(
            &parsed.requested_attributes.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        )
        .expect("strings serialize"),
        authn_requests_signed: parsed.authn_requests_signed,
        metadata_xml: Some(registration.xml.to_owned()),
        metadata_url: registration.url.map(str::to_owned),
    };
    write_transaction(conn, |conn| {
        let new_publisher = partners::find_publisher_name(conn, publisher.as_str())?.is_none();
        if new_publisher {
            partners::insert_publisher(conn, publisher.as_str(), registration.name)?;
        }
        let existing = saml_store::find_service_provider_by_entity_id(conn, &parsed.entity_id)?;
        let id = match &existing {
            Some(row) if row.publisher_id != fields.publisher_id => {
                return Err(RegistryError::OtherPublisher {
                    entity_id: row.entity_id.clone(),
                    owner: row.publisher_id.clone(),
                    publisher: fields.publisher_id.clone(),
                });
            }
            Some(row) => {
                saml_store::update_service_provider(conn, row.id, &fields, now.naive_utc())?;
                row.id
            }
            None => saml_store::insert_service_provider(conn, &fields, now.naive_utc())?,
        };
        if let Some(sign_response) = registration.sign_response {
            saml_store::set_sign_response(conn, id, sign_response)?;
        }
        let missing = saml_store::link_resources(conn, id, publisher.as_str(), registration.resources)?;
        if !missing.is_empty() {
            return Err(RegistryError::UnknownResources { publisher: publisher.to_string(), missing });
        }
        let event = AuditEvent::new(
            AuditKind::PartnerChanged,
            actor.clone(),
            json!({
                "publisher": publisher.as_str(),
                "action": if existing.is_some() { "service provider updated" } else { "service provider registered" },
                "publisherRegistered": new_publisher,
                "sp": parsed.entity_id,
                "acs": parsed.acs_url,
                "signatureAlgorithm": parsed.signature_algorithm.code(),
                "signResponse": registration.sign_response,
                "requestedAttributes": parsed.requested_attributes.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
                "resources": registration.resources,
                "metadataUrl": registration.url,
            }),
        );
        audit::append(conn, &event)?;
        Ok(RegisteredSp { id, metadata: parsed.clone(), created: existing.is_none() })
    })
}
