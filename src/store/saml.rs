//! SAML partners and protocol state: ENT identity providers, publisher service providers, the
//! AuthnRequests Sesame sent (so any node can check a response's `InResponseTo`) and the IDs of
//! assertions already consumed (so a replay is refused by every node: a primary key, not a set in
//! one process's memory).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{ent_projects, identity_providers, resources, saml_replay_cache, saml_requests, service_providers};
use super::{AnyConnection, StoreError};

/// An ENT project's identity provider.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = identity_providers)]
pub struct IdentityProviderRow {
    pub ent_id: String,
    pub entity_id: String,
    pub sso_url: String,
    /// PEM, one or more certificates.
    pub certificates: String,
    pub metadata_xml: String,
    pub metadata_url: Option<String>,
    pub refreshed_at: NaiveDateTime,
    pub want_authn_requests_signed: bool,
}

/// Registers an ENT project's identity provider, or replaces what was registered (a metadata
/// refresh). The entity ID is unique across ENT projects.
pub fn upsert_identity_provider(conn: &mut AnyConnection, row: &IdentityProviderRow) -> Result<(), StoreError> {
    let values = (
        identity_providers::entity_id.eq(&row.entity_id),
        identity_providers::sso_url.eq(&row.sso_url),
        identity_providers::certificates.eq(&row.certificates),
        identity_providers::metadata_xml.eq(&row.metadata_xml),
        identity_providers::metadata_url.eq(&row.metadata_url),
        identity_providers::refreshed_at.eq(row.refreshed_at),
        identity_providers::want_authn_requests_signed.eq(row.want_authn_requests_signed),
    );
    let updated = diesel::update(identity_providers::table.find(&row.ent_id)).set(values).execute(conn)?;
    if updated == 0 {
        diesel::insert_into(identity_providers::table)
            .values((identity_providers::ent_id.eq(&row.ent_id), values))
            .execute(conn)?;
    }
    Ok(())
}

pub fn find_identity_provider(
    conn: &mut AnyConnection,
    ent_id: &str,
) -> Result<Option<IdentityProviderRow>, StoreError> {
    Ok(identity_providers::table.find(ent_id).select(IdentityProviderRow::as_select()).first(conn).optional()?)
}

/// The identity provider a response names as its issuer.
pub fn find_identity_provider_by_entity_id(
    conn: &mut AnyConnection,
    entity_id: &str,
) -> Result<Option<IdentityProviderRow>, StoreError> {
    Ok(identity_providers::table
        .filter(identity_providers::entity_id.eq(entity_id))
        .select(IdentityProviderRow::as_select())
        .first(conn)
        .optional()?)
}

/// A publisher's (or a resource's) service provider, as registered.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = service_providers)]
pub struct ServiceProviderRow {
    pub id: i64,
    pub publisher_id: String,
    pub entity_id: String,
    pub acs_url: String,
    /// PEM, possibly empty: a provider that never signs its requests needs no certificate.
    pub certificates: String,
    /// `rsa-sha256` or `ecdsa-sha256` (`sso::saml::SignatureAlgorithm::code`).
    pub signature_algorithm: String,
    /// JSON array of attribute names.
    pub requested_attributes: String,
    pub metadata_xml: Option<String>,
    pub metadata_url: Option<String>,
    pub refreshed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub authn_requests_signed: bool,
    /// Sign the Response as well as its Assertion (default); false: the Assertion only.
    pub sign_response: bool,
}

/// What registering or refreshing a service provider writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceProviderFields {
    pub publisher_id: String,
    pub entity_id: String,
    pub acs_url: String,
    pub certificates: String,
    pub signature_algorithm: String,
    pub requested_attributes: String,
    pub authn_requests_signed: bool,
    pub metadata_xml: Option<String>,
    pub metadata_url: Option<String>,
}

/// Registers a service provider; returns its id.
pub fn insert_service_provider(
    conn: &mut AnyConnection,
    fields: &ServiceProviderFields,
    now: NaiveDateTime,
) -> Result<i64, StoreError> {
    Ok(diesel::insert_into(service_providers::table)
        .values((service_provider_values(fields, now), service_providers::created_at.eq(now)))
        .returning(service_providers::id)
        .get_result(conn)?)
}

/// Replaces what is registered for service provider `id`; false if there is none.
pub fn update_service_provider(
    conn: &mut AnyConnection,
    id: i64,
    fields: &ServiceProviderFields,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let updated =
        diesel::update(service_providers::table.find(id)).set(service_provider_values(fields, now)).execute(conn)?;
    Ok(updated == 1)
}

#[allow(clippy::type_complexity)]
fn service_provider_values(
    fields: &ServiceProviderFields,
    now: NaiveDateTime,
) -> (
    diesel::dsl::Eq<service_providers::publisher_id, &String>,
    diesel::dsl::Eq<service_providers::entity_id, &String>,
    diesel::dsl::Eq<service_providers::acs_url, &String>,
    diesel::dsl::Eq<service_providers::certificates, &String>,
    diesel::dsl::Eq<service_providers::signature_algorithm, &String>,
    diesel::dsl::Eq<service_providers::requested_attributes, &String>,
    diesel::dsl::Eq<service_providers::authn_requests_signed, bool>,
    diesel::dsl::Eq<service_providers::metadata_xml, &Option<String>>,
    diesel::dsl::Eq<service_providers::metadata_url, &Option<String>>,
    diesel::dsl::Eq<service_providers::refreshed_at, Option<NaiveDateTime>>,
) {
    (
        service_providers::publisher_id.eq(&fields.publisher_id),
        service_providers::entity_id.eq(&fields.entity_id),
        service_providers::acs_url.eq(&fields.acs_url),
        service_providers::certificates.eq(&fields.certificates),
        service_providers::signature_algorithm.eq(&fields.signature_algorithm),
        service_providers::requested_attributes.eq(&fields.requested_attributes),
        service_providers::authn_requests_signed.eq(fields.authn_requests_signed),
        service_providers::metadata_xml.eq(&fields.metadata_xml),
        service_providers::metadata_url.eq(&fields.metadata_url),
        service_providers::refreshed_at.eq(Some(now)),
    )
}

pub fn find_service_provider(conn: &mut AnyConnection, id: i64) -> Result<Option<ServiceProviderRow>, StoreError> {
    Ok(service_providers::table.find(id).select(ServiceProviderRow::as_select()).first(conn).optional()?)
}

/// The service provider an AuthnRequest names as its issuer.
pub fn find_service_provider_by_entity_id(
    conn: &mut AnyConnection,
    entity_id: &str,
) -> Result<Option<ServiceProviderRow>, StoreError> {
    Ok(service_providers::table
        .filter(service_providers::entity_id.eq(entity_id))
        .select(ServiceProviderRow::as_select())
        .first(conn)
        .optional()?)
}

/// Chooses whether responses to service provider `id` are signed whole or only their Assertion
/// (an operator's choice, kept across metadata refreshes); false if there is no such provider.
pub fn set_sign_response(conn: &mut AnyConnection, id: i64, sign_response: bool) -> Result<bool, StoreError> {
    let updated = diesel::update(service_providers::table.find(id))
        .set(service_providers::sign_response.eq(sign_response))
        .execute(conn)?;
    Ok(updated == 1)
}

/// The service provider registered for a whole publisher: its oldest one (resources may name
/// their own).
pub fn find_publisher_service_provider(
    conn: &mut AnyConnection,
    publisher_id: &str,
) -> Result<Option<ServiceProviderRow>, StoreError> {
    Ok(service_providers::table
        .filter(service_providers::publisher_id.eq(publisher_id))
        .order(service_providers::id)
        .select(ServiceProviderRow::as_select())
        .first(conn)
        .optional()?)
}

/// Makes service provider `sp_id` the one resources `ids` of `publisher_id` are released to.
/// Returns the ids that are not that publisher's resources (nothing is linked then).
pub fn link_resources(
    conn: &mut AnyConnection,
    sp_id: i64,
    publisher_id: &str,
    ids: &[String],
) -> Result<Vec<String>, StoreError> {
    let found: Vec<String> = resources::table
        .filter(resources::id.eq_any(ids))
        .filter(resources::publisher_id.eq(publisher_id))
        .select(resources::id)
        .load(conn)?;
    let missing: Vec<String> = ids.iter().filter(|id| !found.contains(id)).cloned().collect();
    if missing.is_empty() {
        diesel::update(resources::table.filter(resources::id.eq_any(ids)))
            .set(resources::service_provider_id.eq(sp_id))
            .execute(conn)?;
    }
    Ok(missing)
}

/// Identity providers registered from a URL: the metadata refresh job's work list.
pub fn identity_providers_with_url(conn: &mut AnyConnection) -> Result<Vec<IdentityProviderRow>, StoreError> {
    Ok(identity_providers::table
        .filter(identity_providers::metadata_url.is_not_null())
        .order(identity_providers::ent_id)
        .select(IdentityProviderRow::as_select())
        .load(conn)?)
}

/// Service providers registered from a URL.
pub fn service_providers_with_url(conn: &mut AnyConnection) -> Result<Vec<ServiceProviderRow>, StoreError> {
    Ok(service_providers::table
        .filter(service_providers::metadata_url.is_not_null())
        .order(service_providers::id)
        .select(ServiceProviderRow::as_select())
        .load(conn)?)
}

/// (ENT project id, name) of every ENT whose identity provider is registered: the console's
/// "sign in with my ENT" choice.
pub fn ents_with_identity_provider(conn: &mut AnyConnection) -> Result<Vec<(String, String)>, StoreError> {
    Ok(identity_providers::table
        .inner_join(ent_projects::table)
        .order(ent_projects::name)
        .select((ent_projects::id, ent_projects::name))
        .load(conn)?)
}

/// Records an AuthnRequest Sesame sent to `ent_id`'s identity provider.
pub fn insert_request(
    conn: &mut AnyConnection,
    id: &str,
    ent_id: &str,
    relay: &str,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(saml_requests::table)
        .values((
            saml_requests::id.eq(id),
            saml_requests::ent_id.eq(ent_id),
            saml_requests::relay.eq(relay),
            saml_requests::created_at.eq(created_at),
            saml_requests::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// What became of a request a response claims to answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TakenRequest {
    /// It was pending: here is where to resume. It is now consumed.
    Pending { relay: String },
    /// It was sent to this ENT but its time to be answered is over (now consumed too).
    Expired,
    /// No such request for this ENT: never sent, sent to another ENT, or already answered.
    Unknown,
}

/// Consumes the request `id` sent to `ent_id`, so that it is answered at most once.
pub fn take_request(
    conn: &mut AnyConnection,
    id: &str,
    ent_id: &str,
    now: NaiveDateTime,
) -> Result<TakenRequest, StoreError> {
    let taken: Option<(String, NaiveDateTime)> =
        diesel::delete(saml_requests::table.filter(saml_requests::id.eq(id)).filter(saml_requests::ent_id.eq(ent_id)))
            .returning((saml_requests::relay, saml_requests::expires_at))
            .get_result(conn)
            .optional()?;
    Ok(match taken {
        Some((relay, expires_at)) if expires_at > now => TakenRequest::Pending { relay },
        Some(_) => TakenRequest::Expired,
        None => TakenRequest::Unknown,
    })
}

/// Records that the assertion `assertion_id` was consumed; false if it already was (a replay),
/// whichever node consumed it. Kept until `expires_at`, after which the assertion is refused as
/// expired anyway. Never fails on the duplicate, so it is safe inside a PostgreSQL transaction.
pub fn remember_assertion(
    conn: &mut AnyConnection,
    assertion_id: &str,
    issuer: &str,
    expires_at: NaiveDateTime,
) -> Result<bool, StoreError> {
    let values = (
        saml_replay_cache::assertion_id.eq(assertion_id),
        saml_replay_cache::issuer.eq(issuer),
        saml_replay_cache::expires_at.eq(expires_at),
    );
    // diesel's MultiBackend has no ON CONFLICT, so each backend runs the same statement.
    let inserted = match conn {
        AnyConnection::Sqlite(c) => {
            diesel::insert_into(saml_replay_cache::table).values(values).on_conflict_do_nothing().execute(c)?
        }
        AnyConnection::Postgresql(c) => {
            diesel::insert_into(saml_replay_cache::table).values(values).on_conflict_do_nothing().execute(c)?
        }
    };
    Ok(inserted == 1)
}

/// Deletes requests and replay-cache entries past their expiry; returns how many rows went.
pub fn purge_expired(conn: &mut AnyConnection, now: NaiveDateTime) -> Result<usize, StoreError> {
    let requests = diesel::delete(saml_requests::table.filter(saml_requests::expires_at.le(now))).execute(conn)?;
    let assertions =
        diesel::delete(saml_replay_cache::table.filter(saml_replay_cache::expires_at.le(now))).execute(conn)?;
    Ok(requests + assertions)
}
