//! `GET /ressourcesDiffusables` (mutual TLS): the whole catalogue as the GAR publishes it to ENTs
//! (GAR-INTERFACES §3.4), always XML.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};

use super::error::ApiError;
use super::render::text_element;
use crate::http::AppState;
use crate::http::caller::{CallerError, EntCaller};
use crate::store::catalogue::{self, Distributable};

const NAMESPACE: &str = "http://gar.education.fr/schemas/init/0/1/";

pub(super) async fn list_distributables(
    req: HttpRequest,
    caller: Result<EntCaller, CallerError>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let resource = req.path();
    caller.map_err(|e| ApiError::caller(&e, resource))?;
    let resources = state.store(catalogue::distributables).await.map_err(|e| ApiError::store(&e, resource))?;
    let generated = Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    Ok(HttpResponse::Ok().content_type("application/xml; charset=utf-8").body(xml(&resources, &generated)))
}

/// `<listeRessourcesDiffusables>` as in the GAR's answers: the mother of a family says
/// `mereFamille` true and names itself in `membreFamille`; members name their mother.
fn xml(resources: &[Distributable], generated: &str) -> Vec<u8> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    let result: std::io::Result<()> = (|| {
        writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let root = BytesStart::new("listeRessourcesDiffusables").with_attributes([("xmlns", NAMESPACE)]);
        writer.write_event(Event::Start(root))?;
        text_element(&mut writer, "dateGeneration", generated)?;
        for r in resources {
            writer.write_event(Event::Start(BytesStart::new("ressourceDiffusable")))?;
            text_element(&mut writer, "idRessource", &r.id)?;
            text_element(&mut writer, "nomRessource", &r.name)?;
            text_element(&mut writer, "idEditeur", &r.publisher_id)?;
            text_element(&mut writer, "nomEditeur", &r.publisher_name)?;
            for (id, name) in &r.distributors {
                writer.write_event(Event::Start(BytesStart::new("distributeursCom")))?;
                text_element(&mut writer, "distributeurCom", id)?;
                text_element(&mut writer, "nomDistributeurCom", name)?;
                writer.write_event(Event::End(BytesEnd::new("distributeursCom")))?;
            }
            text_element(&mut writer, "distributeurTech", &r.tech_distributor_id)?;
            text_element(&mut writer, "nomDistributeurTech", r.tech_distributor_name.as_deref().unwrap_or_default())?;
            // Every catalogued resource is shown in listings and may be sold.
            text_element(&mut writer, "affichable", "true")?;
            text_element(&mut writer, "diffusable", "true")?;
            if r.is_mother {
                text_element(&mut writer, "mereFamille", "true")?;
            }
            let family = if r.is_mother { Some(r.id.as_str()) } else { r.family_parent_id.as_deref() };
            if let Some(mother) = family {
                text_element(&mut writer, "membreFamille", mother)?;
            }
            writer.write_event(Event::End(BytesEnd::new("ressourceDiffusable")))?;
        }
        writer.write_event(Event::End(BytesEnd::new("listeRessourcesDiffusables")))?;
        Ok(())
    })();
    result.expect("writing XML into memory cannot fail");
    writer.into_inner()
}
