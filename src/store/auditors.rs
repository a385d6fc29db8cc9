//! Auditors (data-protection officer, CNIL) and the client certificates that identify them.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

use super::partners::CertificateKey;
use super::schema::auditor_certificates;
use super::{AnyConnection, StoreError};
use crate::pki::CertificateInfo;

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Allows a certificate on the mTLS listener's audit routes, for the auditor `name`.
pub fn register_certificate(conn: &mut AnyConnection, name: &str, cert: &CertificateInfo) -> Result<(), StoreError> {
    diesel::insert_into(auditor_certificates::table)
        .values((
            auditor_certificates::auditor.eq(name),
            auditor_certificates::fingerprint.eq(&cert.fingerprint),
            auditor_certificates::subject.eq(&cert.subject),
            auditor_certificates::not_after.eq(cert.not_after),
            auditor_certificates::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Revokes every live certificate of an auditor; returns how many.
pub fn revoke(conn: &mut AnyConnection, name: &str) -> Result<usize, StoreError> {
    Ok(diesel::update(
        auditor_certificates::table
            .filter(auditor_certificates::auditor.eq(name))
            .filter(auditor_certificates::revoked_at.is_null()),
    )
    .set(auditor_certificates::revoked_at.eq(now()))
    .execute(conn)?)
}

/// The auditor a live (unrevoked, unexpired) certificate belongs to.
pub fn find_auditor(conn: &mut AnyConnection, key: CertificateKey<'_>) -> Result<Option<String>, StoreError> {
    let query = auditor_certificates::table
        .filter(auditor_certificates::revoked_at.is_null())
        .filter(auditor_certificates::not_after.gt(now()))
        .select(auditor_certificates::auditor)
        .into_boxed();
    let query = match key {
        CertificateKey::Fingerprint(fingerprint) => query.filter(auditor_certificates::fingerprint.eq(fingerprint)),
        CertificateKey::Subject(subject) => query.filter(auditor_certificates::subject.eq(subject)),
    };
    Ok(query.first(conn).optional()?)
}
