//! `GET /etablissements/etablissements.xml`: every school known to Sesame with its national
//! directory attributes and the base64 id of its ENT project, shaped like the GAR's list.

use actix_web::{HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{WsError, distributor_of, xml};
use crate::domain::national_school::COLUMNS;
use crate::http::AppState;
use crate::http::caller::{CallerError, DistributorCaller};
use crate::store::schools;

/// Namespace of the schools list.
pub const NS: &str = "http://www.atosworldline.com/listEtablissement/v1.0/";

/// Index of `appellation_officielle` in `COLUMNS`.
const OFFICIAL_NAME: usize = 10;

pub(super) async fn list_schools(
    state: web::Data<AppState>,
    caller: Result<DistributorCaller, CallerError>,
) -> Result<HttpResponse, WsError> {
    distributor_of(caller)?;
    let listed = state.store(schools::list).await?;
    let mut writer = xml::writer();
    writer
        .create_element("listEtablissement")
        .with_attribute(("xmlns", NS))
        .write_inner_content(|w| {
            for school in &listed {
                w.create_element("etablissement").write_inner_content(|w| {
                    xml::text_element(w, "uai", &school.uai);
                    for (i, column) in COLUMNS.iter().enumerate() {
                        // Until the national directory is imported, the ENT's name stands in.
                        let fallback = (i == OFFICIAL_NAME).then_some(school.name.as_str());
                        xml::text_element(w, column, school.national[i].as_deref().or(fallback).unwrap_or_default());
                    }
                    xml::text_element(w, "idENT", &STANDARD.encode(&school.ent_id));
                    Ok(())
                })?;
            }
            Ok(())
        })
        .expect("writing to memory cannot fail");
    Ok(HttpResponse::Ok().content_type(xml::CONTENT_TYPE).body(writer.into_inner()))
}
