//! Helpers for the audit tests: the `sesame` binary on a test database, release events shaped as
//! the sign-on capability writes them, release contracts, and row counts.

use std::path::Path;
use std::process::{Command, Output};

use chrono::{NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde_json::json;
use sesame::domain::audit::{Actor, AuditEvent, AuditKind};
use sesame::domain::pseudonym::Pseudonyms;
use sesame::pki::{KeyMaterial, KeyPaths};
use sesame::store::AnyConnection;
use sesame::store::schema::{release_contracts, service_providers};

use crate::common::TestDb;

/// Runs `sesame` on `db` with `data_dir` (keys), nothing else from the environment.
pub fn sesame(data_dir: &Path, db: &TestDb, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sesame"));
    command.current_dir(data_dir).args(args);
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("SESAME_")) {
        command.env_remove(key);
    }
    command
        .env("SESAME_DATA_DIR", data_dir)
        .env("SESAME_DATABASE__URL", db.url.expose())
        .env("SESAME_LOG__LEVEL", "warn")
        .output()
        .expect("sesame runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the command succeeded and returns its standard output.
#[track_caller]
pub fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

/// The key material of a data folder (generated on first use, as `sesame` would).
pub fn keys(data_dir: &Path) -> KeyMaterial {
    KeyMaterial::load_or_create(&KeyPaths::in_data_dir(data_dir)).unwrap()
}

pub fn pseudonyms(data_dir: &Path) -> Pseudonyms {
    Pseudonyms::new(&keys(data_dir).pseudonym_secret)
}

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

pub fn days_ago(days: i64) -> NaiveDateTime {
    now() - TimeDelta::days(days)
}

pub const PUBLISHER: &str = "999000102_0000000000000000";
pub const PUBLISHER_SP: &str = "https://sp.editions-demo-savoirs.example/saml";
pub const MATHS6: &str = "ark:/99999/demo.maths6";
pub const OTHER_PUBLISHER: &str = "999000201_0000000000000000";
pub const OTHER_SP: &str = "https://sp.encyclo.example/saml";
pub const ENCYCLO: &str = "ark:/99999/demo.encyclopedie";

/// A `release` event as the sign-on capability records it.
pub fn release(
    subject: &str,
    uai: &str,
    resource: &str,
    publisher: &str,
    sp: &str,
    contract: (i64, i64),
    attributes: &[&str],
) -> AuditEvent {
    AuditEvent::new(
        AuditKind::Release,
        Actor::ent("Z0"),
        json!({
            "resource": resource,
            "publisher": publisher,
            "sp": sp,
            "contract": { "id": contract.0, "version": contract.1 },
            "attributes": attributes,
            "assertion": format!("_a{}", crate::common::random_suffix()),
        }),
    )
    .ent("Z0")
    .uai(uai)
    .subject(subject)
}

/// A `turnaway` event.
pub fn turnaway(subject: &str, uai: &str, resource: &str, publisher: &str) -> AuditEvent {
    AuditEvent::new(AuditKind::Turnaway, Actor::ent("Z0"), json!({ "resource": resource, "publisher": publisher }))
        .ent("Z0")
        .uai(uai)
        .subject(subject)
}

/// Registers a service provider for a publisher; returns its id.
pub fn service_provider(conn: &mut AnyConnection, publisher: &str, entity_id: &str) -> i64 {
    diesel::insert_into(service_providers::table)
        .values((
            service_providers::publisher_id.eq(publisher),
            service_providers::entity_id.eq(entity_id),
            service_providers::acs_url.eq(format!("{entity_id}/acs")),
            service_providers::certificates.eq("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"),
            service_providers::signature_algorithm.eq("rsa-sha256"),
            service_providers::requested_attributes.eq(r#"["IDO","UAI","PRO","NOM"]"#),
            service_providers::created_at.eq(days_ago(800)),
        ))
        .returning(service_providers::id)
        .get_result(conn)
        .unwrap()
}

/// A release contract version; returns its id.
pub fn contract(
    conn: &mut AnyConnection,
    sp: i64,
    version: i32,
    attributes: &[&str],
    status: &str,
    approved_at: Option<NaiveDateTime>,
) -> i64 {
    diesel::insert_into(release_contracts::table)
        .values((
            release_contracts::service_provider_id.eq(sp),
            release_contracts::version.eq(version),
            release_contracts::attributes.eq(serde_json::to_string(attributes).unwrap()),
            release_contracts::purposes.eq(r#"["Accès au manuel numérique","Suivi de la progression de l'élève"]"#),
            release_contracts::data_categories.eq(r#"["Identifiant pseudonyme","Établissement","Profil"]"#),
            release_contracts::retention_days.eq(365),
            release_contracts::status.eq(status),
            release_contracts::approved_by.eq(approved_at.map(|_| "dpo-academie")),
            release_contracts::approved_at.eq(approved_at),
            release_contracts::created_at.eq(days_ago(800)),
        ))
        .returning(release_contracts::id)
        .get_result(conn)
        .unwrap()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Runs `SELECT COUNT(*) AS n …` (or any query returning one BIGINT `n`).
pub fn count(conn: &mut AnyConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap_or_else(|e| panic!("{sql}: {e}")).n
}

/// Runs raw SQL (the tampering), panicking on failure.
pub fn exec(conn: &mut AnyConnection, sql: &str) {
    diesel::sql_query(sql).execute(conn).unwrap_or_else(|e| panic!("{sql}: {e}"));
}
