//! `DELETE /{idAbonnement}`: a distributor deletes one of its subscriptions → 204.
//!
//! The subscription is kept as history (listed with `aboSuppr=true` under `_idAbonnement`) and its
//! id is free again. It gives no new seat; what it gave continues for `licences.deletion_grace_days`.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde_json::json;

use super::{WsError, distributor_of};
use crate::assignments::{self, Author};
use crate::domain::SirenIsni;
use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::pseudonym::Pseudonyms;
use crate::http::AppState;
use crate::http::caller::{CallerError, DistributorCaller};
use crate::store::subscriptions;
use crate::store::{AnyConnection, audit, write_transaction};

pub(super) async fn delete_subscription(
    state: web::Data<AppState>,
    caller: Result<DistributorCaller, CallerError>,
    path: web::Path<String>,
) -> Result<HttpResponse, WsError> {
    let distributor = distributor_of(caller)?;
    let id = path.into_inner();
    let grace_days = state.config.licences.deletion_grace_days;
    let seats = {
        let (distributor, id, pseudonyms) = (distributor.clone(), id.clone(), state.pseudonyms.clone());
        state.store(move |conn| Ok(delete(conn, &distributor, &id, grace_days, &pseudonyms))).await??
    };
    tracing::info!(distributor = %distributor, subscription = %id, seats, "subscription deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes a distributor's live subscription, with its audit event; returns the seats still held.
fn delete(
    conn: &mut AnyConnection,
    distributor: &SirenIsni,
    id: &str,
    grace_days: u32,
    pseudonyms: &Pseudonyms,
) -> Result<i64, WsError> {
    write_transaction(conn, |conn| {
        let row =
            subscriptions::find_live_id(conn, distributor, id)?.ok_or_else(|| WsError::NotFound(id.to_owned()))?;
        let seats = subscriptions::delete_subscription(conn, row, Utc::now().naive_utc())?;
        let event = AuditEvent::new(
            AuditKind::SubscriptionDeleted,
            Actor::distributor(distributor.as_str()),
            json!({ "idAbonnement": id, "seatsHeld": seats, "graceDays": grace_days }),
        );
        audit::append(conn, &event)?;
        // Nobody waits any more for a seat the subscription will never give.
        assignments::reconcile_subscription(conn, row, &Author::new(event.actor, pseudonyms))?;
        Ok(seats)
    })
}
