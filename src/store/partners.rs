//! ENT projects, distributors, publishers and the client certificates that identify them.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::schema::{client_certificates, distributors, ent_projects, publishers};
use super::{AnyConnection, StoreError, per_backend};
use crate::pki::CertificateInfo;

/// Which kind of server-to-server partner a certificate belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CallerKind {
    Ent,
    Distributor,
}

/// A partner found from its certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredCaller {
    pub kind: CallerKind,
    pub id: String,
    pub name: String,
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

pub fn insert_ent_project(conn: &mut AnyConnection, id: &str, name: &str) -> Result<(), StoreError> {
    diesel::insert_into(ent_projects::table)
        .values((ent_projects::id.eq(id), ent_projects::name.eq(name), ent_projects::created_at.eq(now())))
        .execute(conn)?;
    Ok(())
}

pub fn insert_distributor(conn: &mut AnyConnection, id: &str, name: &str) -> Result<(), StoreError> {
    diesel::insert_into(distributors::table)
        .values((distributors::id.eq(id), distributors::name.eq(name), distributors::created_at.eq(now())))
        .execute(conn)?;
    Ok(())
}

pub fn insert_publisher(conn: &mut AnyConnection, id: &str, name: &str) -> Result<(), StoreError> {
    diesel::insert_into(publishers::table)
        .values((publishers::id.eq(id), publishers::name.eq(name), publishers::created_at.eq(now())))
        .execute(conn)?;
    Ok(())
}

pub fn find_ent_project_name(conn: &mut AnyConnection, id: &str) -> Result<Option<String>, StoreError> {
    Ok(ent_projects::table.find(id).select(ent_projects::name).first(conn).optional()?)
}

pub fn find_publisher_name(conn: &mut AnyConnection, id: &str) -> Result<Option<String>, StoreError> {
    Ok(publishers::table.find(id).select(publishers::name).first(conn).optional()?)
}

pub fn find_distributor_name(conn: &mut AnyConnection, id: &str) -> Result<Option<String>, StoreError> {
    Ok(distributors::table.find(id).select(distributors::name).first(conn).optional()?)
}

/// Allows a certificate on the mTLS listener for one ENT project or distributor.
pub fn register_certificate(
    conn: &mut AnyConnection,
    cert: &CertificateInfo,
    kind: CallerKind,
    owner: &str,
) -> Result<(), StoreError> {
    let (ent, distributor) = match kind {
        CallerKind::Ent => (Some(owner), None),
        CallerKind::Distributor => (None, Some(owner)),
    };
    diesel::insert_into(client_certificates::table)
        .values((
            client_certificates::fingerprint.eq(&cert.fingerprint),
            client_certificates::subject.eq(&cert.subject),
            client_certificates::ent_id.eq(ent),
            client_certificates::distributor_id.eq(distributor),
            client_certificates::not_after.eq(cert.not_after),
            client_certificates::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// How to look a certificate up: by exact fingerprint, or by subject so that a partner can
/// renew its certificate from a trusted CA without registering it again.
#[derive(Clone, Copy, Debug)]
pub enum CertificateKey<'a> {
    Fingerprint(&'a str),
    Subject(&'a str),
}

/// (ENT id, ENT name, distributor id, distributor name): one side is NULL.
type CallerRow = (Option<String>, Option<String>, Option<String>, Option<String>);

/// The partner a live (unrevoked, unexpired) registered certificate belongs to.
///
/// Runs on every mTLS request, so both forms are static queries kept prepared: no boxed query
/// (rebuilt and re-prepared each time), `get_result` rather than `first` (SQLite re-prepares a
/// statement whose `LIMIT ?` gets a new binding), on the concrete connection (`per_backend!`).
pub fn find_caller(conn: &mut AnyConnection, key: CertificateKey<'_>) -> Result<Option<RegisteredCaller>, StoreError> {
    macro_rules! live_certificates {
        () => {
            client_certificates::table
                .left_join(ent_projects::table)
                .left_join(distributors::table)
                .filter(client_certificates::revoked_at.is_null())
                .filter(client_certificates::not_after.gt(now()))
                .select((
                    ent_projects::id.nullable(),
                    ent_projects::name.nullable(),
                    distributors::id.nullable(),
                    distributors::name.nullable(),
                ))
        };
    }
    let row: Option<CallerRow> = match key {
        CertificateKey::Fingerprint(fingerprint) => per_backend!(conn, c => live_certificates!()
            .filter(client_certificates::fingerprint.eq(fingerprint))
            .get_result(c)),
        CertificateKey::Subject(subject) => per_backend!(conn, c => live_certificates!()
            .filter(client_certificates::subject.eq(subject))
            .get_result(c)),
    }
    .optional()?;
    Ok(row.and_then(|row| match row {
        (Some(id), Some(name), _, _) => Some(RegisteredCaller { kind: CallerKind::Ent, id, name }),
        (_, _, Some(id), Some(name)) => Some(RegisteredCaller { kind: CallerKind::Distributor, id, name }),
        _ => None,
    }))
}

/// A registered client certificate, as `sesame distributor list` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateSummary {
    pub fingerprint: String,
    pub subject: String,
    pub not_after: NaiveDateTime,
    pub revoked: bool,
}

/// (distributor, fingerprint, subject, not after, revoked at).
type CertificateRow = (Option<String>, String, String, NaiveDateTime, Option<NaiveDateTime>);

/// Every distributor with its certificates, by id.
pub fn list_distributors(
    conn: &mut AnyConnection,
) -> Result<Vec<(String, String, Vec<CertificateSummary>)>, StoreError> {
    let distributors: Vec<(String, String)> =
        distributors::table.select((distributors::id, distributors::name)).order(distributors::id).load(conn)?;
    let certificates: Vec<CertificateRow> = client_certificates::table
        .filter(client_certificates::distributor_id.is_not_null())
        .select((
            client_certificates::distributor_id,
            client_certificates::fingerprint,
            client_certificates::subject,
            client_certificates::not_after,
            client_certificates::revoked_at,
        ))
        .order(client_certificates::id)
        .load(conn)?;
    Ok(distributors
        .into_iter()
        .map(|(id, name)| {
            let certificates = certificates
                .iter()
                .filter(|(owner, ..)| owner.as_deref() == Some(id.as_str()))
                .map(|(_, fingerprint, subject, not_after, revoked_at)| CertificateSummary {
                    fingerprint: fingerprint.clone(),
                    subject: subject.clone(),
                    not_after: *not_after,
                    revoked: revoked_at.is_some(),
                })
                .collect();
            (id, name, certificates)
        })
        .collect())
}
