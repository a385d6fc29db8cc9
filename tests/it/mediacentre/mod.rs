//! The médiacentre: GAR listing, widget tokens and CORS, the widget in a real browser, and the
//! checks real ENT clients make on what Sesame answers.

mod browser;
mod clients;
mod listing;
mod widget;

use diesel::prelude::*;
use diesel::sql_types::Text;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use sesame::store::AnyConnection;
use sesame::store::partners::CallerKind;

use crate::common::{TestApp, TestDb};

/// A node loaded with the demo académie, and a client holding ENT Z0's certificate.
pub struct Demo {
    pub app: TestApp,
    pub z0: reqwest::Client,
}

impl Demo {
    pub async fn start(db: &TestDb) -> Self {
        Self::start_with(db, |_| {}).await
    }

    pub async fn start_with(db: &TestDb, adjust: impl FnOnce(&mut sesame::config::Config)) -> Self {
        let app = TestApp::spawn_with(db, adjust).await;
        sesame::demo::load(&mut app.conn()).unwrap();
        let z0 = app.registered_client(CallerKind::Ent, "Z0");
        Self { app, z0 }
    }

    /// `GET {mtls}/ressources/{ent}/{uai}/{person}` with extra headers.
    pub async fn listing(&self, client: &reqwest::Client, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = client.get(format!("{}{path}", self.app.mtls_url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Answer::read(request.send().await.unwrap()).await
    }
}

/// A response read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub async fn read(response: reqwest::Response) -> Self {
        let (status, headers) = (response.status(), response.headers().clone());
        Self { status, headers, body: response.bytes().await.unwrap().to_vec() }
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `idRessource` of each listed resource, in order.
    pub fn resource_ids(&self) -> Vec<String> {
        self.json()["listeRessources"]["ressource"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["idRessource"].as_str().unwrap().to_owned())
            .collect()
    }
}

#[derive(QueryableByName)]
struct GarId {
    #[diesel(sql_type = Text)]
    gar_id: String,
}

/// The first person (by GARPersonIdentifiant) holding `profile` in `uai`, optionally in group `group`.
pub fn person(conn: &mut AnyConnection, uai: &str, profile: &str, group: Option<&str>) -> String {
    let in_group = match group {
        Some(code) => format!(
            "AND EXISTS (SELECT 1 FROM person_groups pg JOIN school_groups g ON g.id = pg.group_id \
             WHERE pg.person_id = p.id AND g.uai = '{uai}' AND g.code = '{code}')"
        ),
        None => String::new(),
    };
    let sql = format!(
        "SELECT p.gar_id AS gar_id FROM persons p JOIN person_profiles pp ON pp.person_id = p.id \
         WHERE pp.uai = '{uai}' AND pp.profile = '{profile}' {in_group} ORDER BY p.gar_id LIMIT 1"
    );
    diesel::sql_query(&sql).get_result::<GarId>(conn).unwrap_or_else(|e| panic!("{sql}: {e}")).gar_id
}

pub const COLLEGE: &str = "0990001N";
pub const LYCEE: &str = "0990002P";
pub const ECOLE: &str = "0990011Z";
