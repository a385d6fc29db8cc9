//! `POST /{idAbonnement}`: a distributor changes one of its subscriptions → 200.
//!
//! The body is a whole `<abonnement>` without `uaiEtab` (clients drop it); `debutValidite` must be
//! the stored one. Schools cannot change: `uaiEtab` or `codeNatureUAI`, if repeated, must be the
//! stored ones. Lowered counts never take a seat from anyone (see `store::subscriptions`).

use std::collections::BTreeSet;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::create::check_first_degree;
use super::{WsError, abonnement, distributor_of, one_subscription, wants_json};
use crate::assignments::{self, Author};
use crate::domain::SirenIsni;
use crate::domain::audit::{Actor, AuditEvent, AuditKind};
use crate::domain::pseudonym::Pseudonyms;
use crate::domain::subscription::Subscription;
use crate::http::AppState;
use crate::http::caller::{CallerError, DistributorCaller};
use crate::store::subscriptions::{self, StoredSubscription};
use crate::store::{AnyConnection, audit, schools, write_transaction};

pub(super) async fn update_subscription(
    state: web::Data<AppState>,
    caller: Result<DistributorCaller, CallerError>,
    path: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WsError> {
    let distributor = distributor_of(caller)?;
    let sub = abonnement::read_request(payload, path.into_inner(), &distributor).await?;
    let pseudonyms = state.pseudonyms.clone();
    let stored = state.store(move |conn| Ok(update(conn, &distributor, sub, &pseudonyms))).await??;
    tracing::info!(distributor = %stored.subscription.distributor_id, subscription = %stored.subscription.id, "subscription updated");
    Ok(one_subscription(HttpResponse::Ok(), &stored, wants_json(&req)))
}

/// Applies an update to a distributor's live subscription, with its audit event, in one transaction.
fn update(
    conn: &mut AnyConnection,
    distributor: &SirenIsni,
    mut sub: Subscription,
    pseudonyms: &Pseudonyms,
) -> Result<StoredSubscription, WsError> {
    write_transaction(conn, |conn| {
        let stored =
            subscriptions::find_live(conn, distributor, &sub.id)?.ok_or_else(|| WsError::NotFound(sub.id.clone()))?;
        let before = &stored.subscription;
        if sub.valid_from != before.valid_from {
            return Err(WsError::StartChanged);
        }
        let given: BTreeSet<_> = sub.establishments.iter().collect();
        if !given.is_empty() && given != before.establishments.iter().collect() {
            return Err(WsError::SchoolsChanged("uaiEtab"));
        }
        if sub.nature_codes.is_some()
            && sub.nature_codes().iter().collect::<BTreeSet<_>>() != before.nature_codes().iter().collect()
        {
            return Err(WsError::SchoolsChanged("codeNatureUAI"));
        }
        sub.establishments = before.establishments.clone();
        sub.nature_codes = before.nature_codes.clone();
        sub.validate()?;
        let schools = subscriptions::schools_of(conn, stored.id)?;
        let degrees = schools::degrees(conn, &schools.iter().map(String::as_str).collect::<Vec<_>>())?;
        check_first_degree(&sub, &schools, &degrees)?;

        let changed = sub.changed_fields(before);
        let updated = subscriptions::update_subscription(conn, stored.id, &sub)?;
        let over_allocated: Vec<_> =
            updated.over_allocated.iter().map(|(uai, pool)| json!({ "uai": uai, "pool": pool })).collect();
        let event = AuditEvent::new(
            AuditKind::SubscriptionUpdated,
            Actor::distributor(distributor.as_str()),
            json!({
                "idAbonnement": sub.id,
                "changed": changed,
                "addedSchools": updated.added_schools,
                "overAllocated": over_allocated,
            }),
        );
        audit::append(conn, &event)?;
        if !updated.over_allocated.is_empty() {
            tracing::warn!(subscription = %sub.id, pools = updated.over_allocated.len(), "counts lowered below the seats in use");
        }
        // A raised counter or a new public: people waiting in the schools' live collections get seats.
        let author = Author::new(Actor::distributor(distributor.as_str()), pseudonyms);
        assignments::reconcile_subscription(conn, stored.id, &author)?;
        subscriptions::load(conn, &[stored.id])?.pop().ok_or_else(|| WsError::NotFound(sub.id.clone()))
    })
}
