//! `PUT /{idAbonnement}`: a distributor creates a subscription → 201, or 409 "existe deja".

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde_json::json;

use super::{WsError, abonnement, distributor_of, one_subscription, wants_json};
use crate::domain::Uai;
use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::subscription::{Subscription, SubscriptionError};
use crate::http::AppState;
use crate::http::caller::{CallerError, DistributorCaller};
use crate::store::subscriptions::{self, StoredSubscription};
use crate::store::{AnyConnection, StoreError, audit, schools, write_transaction};

pub(super) async fn create_subscription(
    state: web::Data<AppState>,
    caller: Result<DistributorCaller, CallerError>,
    path: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WsError> {
    let distributor = distributor_of(caller)?;
    let sub = abonnement::read_request(payload, path.into_inner(), &distributor).await?;
    sub.validate()?;
    let stored = state.store(move |conn| Ok(create(conn, &sub))).await??;
    tracing::info!(distributor = %distributor, subscription = %stored.subscription.id, "subscription created");
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/{}", stored.subscription.id)));
    Ok(one_subscription(response, &stored, wants_json(&req)))
}

/// Stores a validated subscription of its distributor, with its audit event, in one transaction.
fn create(conn: &mut AnyConnection, sub: &Subscription) -> Result<StoredSubscription, WsError> {
    write_transaction(conn, |conn| {
        if subscriptions::find_live_id(conn, &sub.distributor_id, &sub.id)?.is_some() {
            return Err(WsError::Exists(sub.id.clone()));
        }
        let schools = covered_schools(conn, sub)?;
        let id = match subscriptions::insert_subscription(conn, sub) {
            // Another node created the same id between the check and the insert.
            Err(StoreError::Query(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))) => {
                return Err(WsError::Exists(sub.id.clone()));
            }
            other => other?,
        };
        let mut event = AuditEvent::new(
            AuditKind::SubscriptionCreated,
            Actor::distributor(sub.distributor_id.as_str()),
            json!({
                "idAbonnement": sub.id,
                "idRessource": sub.resource_id,
                "typeAffectation": sub.assignment_type.code(),
                "codeNatureUAI": sub.nature_codes,
                "uaiEtab": schools,
            }),
        );
        if let [uai] = schools.as_slice() {
            event = event.uai(uai.clone());
        }
        audit::append(conn, &event)?;
        subscriptions::load(conn, &[id])?.pop().ok_or_else(|| WsError::NotFound(sub.id.clone()))
    })
}

/// The schools a new subscription will cover, checked: every `uaiEtab` known, and RG11 against
/// each school's degree (the natures' schools included).
fn covered_schools(conn: &mut AnyConnection, sub: &Subscription) -> Result<Vec<String>, WsError> {
    let schools: Vec<String> = match sub.nature_codes().as_slice() {
        [] => sub.establishments.iter().map(Uai::to_string).collect(),
        natures => subscriptions::schools_of_natures(conn, natures)?,
    };
    let degrees = schools::degrees(conn, &schools.iter().map(String::as_str).collect::<Vec<_>>())?;
    if let Some(unknown) = sub.establishments.iter().find(|uai| !degrees.contains_key(uai.as_str())) {
        return Err(WsError::UnknownSchool(unknown.clone()));
    }
    check_first_degree(sub, &schools, &degrees)?;
    Ok(schools)
}

/// RG11 on the schools a subscription covers, by the degree the ENT feed gave each.
pub(super) fn check_first_degree(
    sub: &Subscription,
    schools: &[String],
    degrees: &HashMap<String, i32>,
) -> Result<(), SubscriptionError> {
    let first_degree = |uai: &str| degrees.get(uai) == Some(&1);
    sub.check_first_degree(|uai| first_degree(uai.as_str()))?;
    match schools.iter().find(|uai| first_degree(uai)) {
        Some(uai) if sub.targets_librarians() => Err(SubscriptionError::FirstDegreeLibrarian { uai: uai.clone() }),
        _ => Ok(()),
    }
}
