//! `GET /abonnements?debut=&fin=` with a `<filtres>` body (or the same as POST): a distributor's
//! subscriptions, as `<abonnements>` or, with `Accept: application/json`, `{"abonnements":[…]}`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::{WsError, abonnement, distributor_of, filters, wants_json, xml};
use crate::http::AppState;
use crate::http::caller::{CallerError, DistributorCaller};
use crate::store::subscription_search;

pub(super) async fn search_subscriptions(
    state: web::Data<AppState>,
    caller: Result<DistributorCaller, CallerError>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WsError> {
    let distributor = distributor_of(caller)?;
    let body = xml::read_body(payload).await?;
    let root = match body.iter().all(u8::is_ascii_whitespace) {
        true => None,
        false => Some(xml::parse(&body, "filtres")?),
    };
    let mut search = filters::read(root.as_ref())?;
    filters::paging(req.query_string(), &mut search)?;
    let found = state.store(move |conn| subscription_search::search(conn, distributor.as_str(), &search)).await?;

    if wants_json(&req) {
        let list: Vec<_> = found.iter().map(abonnement::to_json).collect();
        return Ok(HttpResponse::Ok().json(json!({ "abonnements": list })));
    }
    let mut writer = xml::writer();
    writer
        .create_element("abonnements")
        .with_attribute(("xmlns", xml::NS))
        .write_inner_content(|w| {
            for stored in &found {
                abonnement::write(w, stored, false);
            }
            Ok(())
        })
        .expect("writing to memory cannot fail");
    Ok(HttpResponse::Ok().content_type(xml::CONTENT_TYPE).body(writer.into_inner()))
}
