//! SAML rows on both backends: partner registrations, requests answered once and only by the
//! ENT they were sent to, and a replay cache every connection (every node) sees.

use chrono::{TimeDelta, Utc};
use sesame::store::partners;
use sesame::store::saml::{self, IdentityProviderRow, ServiceProviderFields, TakenRequest};

fn idp_row(ent_id: &str, entity_id: &str) -> IdentityProviderRow {
    IdentityProviderRow {
        ent_id: ent_id.into(),
        entity_id: entity_id.into(),
        sso_url: "https://ent.test/sso".into(),
        certificates: "-----BEGIN CERTIFICATE-----\n…\n-----END CERTIFICATE-----\n".into(),
        metadata_xml: "<md:EntityDescriptor/>".into(),
        metadata_url: Some("https://ent.test/metadata".into()),
        refreshed_at: Utc::now().naive_utc().with_nanosecond_zeroed(),
        want_authn_requests_signed: true,
    }
}

trait Truncate {
    fn with_nanosecond_zeroed(self) -> Self;
}

impl Truncate for chrono::NaiveDateTime {
    /// Timestamps round-trip to the microsecond on PostgreSQL.
    fn with_nanosecond_zeroed(self) -> Self {
        chrono::Timelike::with_nanosecond(&self, 0).unwrap()
    }
}

crate::storage_test! {
    fn identity_providers_are_registered_and_refreshed(db) {
        let mut conn = db.connect();
        partners::insert_ent_project(&mut conn, "Z0", "ENT Z0").unwrap();
        partners::insert_ent_project(&mut conn, "Z1", "ENT Z1").unwrap();
        let mut row = idp_row("Z0", "https://ent.test/idp");
        saml::upsert_identity_provider(&mut conn, &row).unwrap();
        assert_eq!(saml::find_identity_provider(&mut conn, "Z0").unwrap(), Some(row.clone()));
        row.sso_url = "https://ent.test/sso2".into();
        row.want_authn_requests_signed = false;
        saml::upsert_identity_provider(&mut conn, &row).unwrap();
        assert_eq!(saml::find_identity_provider_by_entity_id(&mut conn, "https://ent.test/idp").unwrap(), Some(row));
        assert_eq!(saml::find_identity_provider(&mut conn, "Z1").unwrap(), None);
        // One IdP entity cannot speak for two ENT projects.
        assert!(saml::upsert_identity_provider(&mut conn, &idp_row("Z1", "https://ent.test/idp")).is_err());
    }
}

crate::storage_test! {
    fn service_providers_are_registered_and_updated(db) {
        let mut conn = db.connect();
        partners::insert_publisher(&mut conn, "999000201_0000000000000000", "Éditeur").unwrap();
        let mut fields = ServiceProviderFields {
            publisher_id: "999000201_0000000000000000".into(),
            entity_id: "https://p.test/sp".into(),
            acs_url: "https://p.test/acs".into(),
            certificates: String::new(),
            signature_algorithm: "rsa-sha256".into(),
            requested_attributes: r#"["IDO","UAI"]"#.into(),
            authn_requests_signed: false,
            metadata_xml: None,
            metadata_url: None,
        };
        let now = Utc::now().naive_utc().with_nanosecond_zeroed();
        let id = saml::insert_service_provider(&mut conn, &fields, now).unwrap();
        let row = saml::find_service_provider(&mut conn, id).unwrap().unwrap();
        assert_eq!((row.entity_id.as_str(), row.refreshed_at, row.created_at), ("https://p.test/sp", Some(now), now));
        fields.signature_algorithm = "ecdsa-sha256".into();
        fields.authn_requests_signed = true;
        assert!(saml::update_service_provider(&mut conn, id, &fields, now).unwrap());
        let row = saml::find_service_provider_by_entity_id(&mut conn, "https://p.test/sp").unwrap().unwrap();
        assert_eq!((row.id, row.signature_algorithm.as_str(), row.authn_requests_signed), (id, "ecdsa-sha256", true));
        assert!(!saml::update_service_provider(&mut conn, id + 1000, &fields, now).unwrap());
        assert!(saml::insert_service_provider(&mut conn, &fields, now).is_err(), "entity IDs are unique");
        assert_eq!(saml::find_service_provider_by_entity_id(&mut conn, "https://unknown.test").unwrap(), None);
    }
}

crate::storage_test! {
    fn a_request_is_answered_once_and_only_by_its_ent(db) {
        let mut conn = db.connect();
        partners::insert_ent_project(&mut conn, "Z0", "ENT Z0").unwrap();
        partners::insert_ent_project(&mut conn, "Z1", "ENT Z1").unwrap();
        let now = Utc::now().naive_utc();
        saml::insert_request(&mut conn, "_r1", "Z0", "/resume", now, now + TimeDelta::minutes(10)).unwrap();
        saml::insert_request(&mut conn, "_r2", "Z0", "/old", now - TimeDelta::minutes(20), now - TimeDelta::minutes(10)).unwrap();
        assert_eq!(saml::take_request(&mut conn, "_r1", "Z1", now).unwrap(), TakenRequest::Unknown, "another ENT");
        assert_eq!(saml::take_request(&mut conn, "_r1", "Z0", now).unwrap(), TakenRequest::Pending { relay: "/resume".into() });
        assert_eq!(saml::take_request(&mut conn, "_r1", "Z0", now).unwrap(), TakenRequest::Unknown, "already answered");
        assert_eq!(saml::take_request(&mut conn, "_r2", "Z0", now).unwrap(), TakenRequest::Expired);
        assert_eq!(saml::take_request(&mut conn, "_never", "Z0", now).unwrap(), TakenRequest::Unknown);
    }
}

crate::storage_test! {
    fn every_connection_sees_a_consumed_assertion_until_it_expires(db) {
        let (mut node_a, mut node_b) = (db.connect(), db.connect());
        let now = Utc::now().naive_utc();
        let expiry = now + TimeDelta::minutes(5);
        assert!(saml::remember_assertion(&mut node_a, "_a1", "https://ent.test/idp", expiry).unwrap());
        assert!(!saml::remember_assertion(&mut node_b, "_a1", "https://ent.test/idp", expiry).unwrap());
        // Inside a transaction the duplicate does not abort it (PostgreSQL would otherwise refuse
        // every later statement of the transaction).
        let second: Result<bool, sesame::store::StoreError> = sesame::store::write_transaction(&mut node_b, |conn| {
            let replayed = saml::remember_assertion(conn, "_a1", "https://ent.test/idp", expiry)?;
            saml::remember_assertion(conn, "_a2", "https://ent.test/idp", expiry)?;
            Ok(replayed)
        });
        assert!(!second.unwrap(), "a replay inside a transaction");
        assert_eq!(saml::purge_expired(&mut node_a, now).unwrap(), 0);
        assert_eq!(saml::purge_expired(&mut node_a, expiry).unwrap(), 2);
        assert!(saml::remember_assertion(&mut node_b, "_a1", "https://ent.test/idp", expiry).unwrap());
    }
}
