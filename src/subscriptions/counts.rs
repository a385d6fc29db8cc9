//! `GET /decompteaffectations?idAbonnement=…` or `?codeProjetRessource=…`: the licences a
//! distributor's subscriptions consume, per school and public, as the GAR's `;`-separated CSV.
//!
//! The eight GAR columns come first, unchanged; a ninth, `surAffectation`, counts the people given
//! access beyond what the subscription grants now (a lowered counter, a numeric ETABL
//! `nbLicenceGlobale` exceeded, or a deleted subscription in its grace period). Deleted
//! subscriptions still in their grace period are listed under `_idAbonnement`.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{TimeDelta, Utc};

use super::abonnement::listed_id;
use super::{WsError, distributor_of};
use crate::http::AppState;
use crate::http::caller::{CallerError, DistributorCaller};
use crate::store::subscription_counts::{self, AllocationCount, CountsOf};

const HEADER: &str = "UAI;idAbonnement;codeProjetRessource;idRessource;cumulAffectationEleve;\
                      cumulAffectationEnseignant;cumulAffectationDocumentaliste;cumulAffectationAutrePersonnel;\
                      surAffectation";

pub(super) async fn count_allocations(
    state: web::Data<AppState>,
    caller: Result<DistributorCaller, CallerError>,
    req: HttpRequest,
) -> Result<HttpResponse, WsError> {
    let distributor = distributor_of(caller)?;
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect();
    let value =
        |name: &str| params.iter().find(|(key, value)| key == name && !value.is_empty()).map(|(_, v)| v.clone());
    let of = match (value("idAbonnement"), value("codeProjetRessource")) {
        (Some(id), None) => CountsOf::Subscription(id),
        (None, Some(code)) => CountsOf::Project(code),
        _ => return Err(WsError::CountsSelection),
    };
    // One subscription that does not count anything does not exist (for this distributor).
    let asked_for = match &of {
        CountsOf::Subscription(id) => Some(id.clone()),
        CountsOf::Project(_) => None,
    };
    let grace_since = Utc::now().naive_utc() - TimeDelta::days(state.config.licences.deletion_grace_days.into());
    let lines = state
        .store(move |conn| subscription_counts::allocation_counts(conn, distributor.as_str(), &of, grace_since))
        .await?;
    if let (Some(id), true) = (asked_for, lines.is_empty()) {
        return Err(WsError::NotFound(id));
    }
    Ok(HttpResponse::Ok().content_type("text/csv;charset=UTF-8").body(csv(&lines)))
}

/// The CSV text: a header line, then one line per subscription and school (no final newline,
/// like the GAR's answer). Values never contain `;`: ids and UAIs cannot, and a project code or
/// resource id that did would be quoted.
fn csv(lines: &[AllocationCount]) -> String {
    let mut text = HEADER.to_owned();
    for line in lines {
        let sub = &line.subscription.subscription;
        let cells = [
            line.uai.clone(),
            listed_id(&line.subscription),
            sub.project_code.clone().unwrap_or_else(|| "null".into()),
            sub.resource_id.clone(),
        ];
        text.push('\n');
        let cells = cells.iter().map(|cell| quote(cell));
        let numbers = line.by_public.iter().chain([&line.surplus]).map(i64::to_string);
        text.push_str(&cells.chain(numbers).collect::<Vec<_>>().join(";"));
    }
    text
}

fn quote(cell: &str) -> String {
    if cell.contains([';', '"', '\n', '\r']) { format!("\"{}\"", cell.replace('"', "\"\"")) } else { cell.to_owned() }
}
