//! Shared by the `subscriptions_*` tests: a node with two distributors and a few schools, their
//! mTLS clients, and `<abonnement>` bodies shaped like real clients' (django-gar, Vittascience).

use chrono::Utc;
use diesel::prelude::*;
use reqwest::{Client, Method, StatusCode};
use sesame::store::partners::{self, CallerKind};
use sesame::store::schema::establishments;

use crate::common::{TestApp, TestDb};

/// Distributor A and distributor B (the demo's ids, so demo-based tests use the same constants).
pub const A: &str = "999000101_0000000000000000";
pub const B: &str = "999000102_0000000000000000";
pub const NS: &str = "http://www.atosworldline.com/wsabonnement/v1.0/";

/// Schools of the seed: (UAI, ENT, degree, nature).
pub const SCHOOLS: [(&str, &str, i32, &str); 4] = [
    ("0990001N", "Z0", 2, "340"),
    ("0990002P", "Z0", 2, "300"),
    ("0990004S", "Z0", 2, "340"),
    ("0990011Z", "Z1", 1, "151"),
];

/// A running node with distributors A and B registered and a client for each.
pub struct Ws {
    pub app: TestApp,
    pub a: Client,
    pub b: Client,
}

/// An answer: status, `Content-Type`, body.
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    /// The text of `<name>` in the body (first occurrence).
    pub fn element(&self, name: &str) -> Option<String> {
        let open = format!("<{name}>");
        let start = self.body.find(&open)? + open.len();
        let end = self.body[start..].find(&format!("</{name}>"))? + start;
        Some(self.body[start..end].to_owned())
    }

    /// Asserts an XML error body: status, `<regle>` and `<champ>`, messages in French and English.
    pub fn assert_error(&self, status: u16, rule: &str, field: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert!(self.content_type.starts_with("application/xml"), "{}", self.content_type);
        assert!(self.body.contains(&format!("<erreur xmlns=\"{NS}\">")), "{}", self.body);
        assert_eq!(self.element("regle").as_deref(), Some(rule), "{}", self.body);
        assert_eq!(self.element("champ").unwrap_or_default(), field, "{}", self.body);
        assert!(self.body.contains("<message xml:lang=\"fr\">"), "{}", self.body);
        assert!(self.body.contains("<message xml:lang=\"en\">"), "{}", self.body);
    }
}

impl Ws {
    pub async fn start(db: &TestDb) -> Self {
        let app = TestApp::spawn(db).await;
        seed(&mut app.conn());
        let (a, b) =
            (app.registered_client(CallerKind::Distributor, A), app.registered_client(CallerKind::Distributor, B));
        Self { app, a, b }
    }

    /// Calls the mTLS listener.
    pub async fn call(&self, client: &Client, method: Method, path: &str, body: Option<String>) -> Answer {
        self.call_with(client, method, path, body, &[]).await
    }

    pub async fn call_with(
        &self,
        client: &Client,
        method: Method,
        path: &str,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = client
            .request(method, format!("{}{path}", self.app.mtls_url))
            .header("Content-Type", "application/xml;charset=utf-8");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("the node answers");
        let status = response.status();
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        Answer { status, content_type, body: response.text().await.unwrap() }
    }

    pub async fn put(&self, client: &Client, body: &Abonnement) -> Answer {
        self.call(client, Method::PUT, &format!("/{}", body.id()), Some(body.xml())).await
    }

    pub async fn post(&self, client: &Client, body: &Abonnement) -> Answer {
        self.call(client, Method::POST, &format!("/{}", body.id()), Some(body.xml())).await
    }

    pub async fn delete(&self, client: &Client, id: &str) -> Answer {
        self.call(client, Method::DELETE, &format!("/{id}"), None).await
    }

    /// `GET /abonnements?{query}` with a `<filtres>` body holding `filters`.
    pub async fn search(&self, client: &Client, query: &str, filters: &str) -> Answer {
        let body = format!(r#"<?xml version="1.0" encoding="UTF-8"?><filtres xmlns="{NS}">{filters}</filtres>"#);
        self.call(client, Method::GET, &format!("/abonnements?{query}"), Some(body)).await
    }

    /// The idAbonnement values of a search answer, in order.
    pub async fn search_ids(&self, client: &Client, query: &str, filters: &str) -> Vec<String> {
        let answer = self.search(client, query, filters).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        ids(&answer.body)
    }

    /// `SELECT COUNT(*) AS n …`, straight from the database.
    pub fn count(&self, sql: &str) -> i64 {
        count(&mut self.app.conn(), sql)
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// `SELECT COUNT(*) AS n …`.
pub fn count(conn: &mut sesame::store::AnyConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap_or_else(|e| panic!("{sql}: {e}")).n
}

/// The idAbonnement values of an `<abonnements>` answer, in order.
pub fn ids(body: &str) -> Vec<String> {
    body.split("<idAbonnement>").skip(1).map(|rest| rest.split("</idAbonnement>").next().unwrap().to_owned()).collect()
}

/// ENT projects, schools with their degree and nature, and the two distributors.
pub fn seed(conn: &mut sesame::store::AnyConnection) {
    let now = Utc::now().naive_utc();
    partners::insert_ent_project(conn, "Z0", "ENT Test").unwrap();
    partners::insert_ent_project(conn, "Z1", "ENT Écoles").unwrap();
    for (uai, ent, degree, nature) in SCHOOLS {
        diesel::insert_into(establishments::table)
            .values((
                establishments::uai.eq(uai),
                establishments::ent_id.eq(ent),
                establishments::name.eq(format!("École {uai}")),
                establishments::degree.eq(degree),
                establishments::nature_code.eq(nature),
                establishments::created_at.eq(now),
                establishments::updated_at.eq(now),
            ))
            .execute(conn)
            .unwrap();
    }
    partners::insert_distributor(conn, A, "Distributeur A").unwrap();
    partners::insert_distributor(conn, B, "Distributeur B").unwrap();
}

/// An `<abonnement>` body: (element, value) pairs in the GAR order, editable.
#[derive(Clone)]
pub struct Abonnement(Vec<(String, String)>);

impl Abonnement {
    /// An INDIV subscription of `distributor` for pupils and teachers of 0990001N, like
    /// Vittascience's per-public body.
    pub fn indiv(id: &str, distributor: &str) -> Self {
        Self::from_pairs(&[
            ("idAbonnement", id),
            ("commentaireAbonnement", "Manuels 6e"),
            ("idDistributeurCom", distributor),
            ("idRessource", "ark:/99999/demo.maths6"),
            ("typeIdRessource", "ark"),
            ("libelleRessource", "Mathématiques 6e"),
            ("debutValidite", "2026-09-01T00:00:00"),
            ("finValidite", "2027-08-31T23:59:59"),
            ("uaiEtab", "0990001N"),
            ("categorieAffectation", "transferable"),
            ("typeAffectation", "INDIV"),
            ("nbLicenceEnseignant", "5"),
            ("nbLicenceEleve", "30"),
            ("publicCible", "ELEVE"),
            ("publicCible", "ENSEIGNANT"),
        ])
    }

    /// An ETABL subscription with `nbLicenceGlobale=ILLIMITE` and the four publics, like django-gar's.
    pub fn etabl(id: &str, distributor: &str) -> Self {
        Self::from_pairs(&[
            ("idAbonnement", id),
            ("idDistributeurCom", distributor),
            ("idRessource", "ark:/99999/demo.encyclopedie"),
            ("typeIdRessource", "ark"),
            ("libelleRessource", "Encyclopédie"),
            ("debutValidite", "2026-09-01T00:00:00"),
            ("anneeFinValidite", "2026-2027"),
            ("uaiEtab", "0990001N"),
            ("categorieAffectation", "transferable"),
            ("typeAffectation", "ETABL"),
            ("nbLicenceGlobale", "ILLIMITE"),
            ("publicCible", "ELEVE"),
            ("publicCible", "ENSEIGNANT"),
            ("publicCible", "DOCUMENTALISTE"),
            ("publicCible", "AUTRE PERSONNEL"),
        ])
    }

    fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    pub fn id(&self) -> String {
        self.get("idAbonnement").unwrap_or_default()
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    /// Replaces every `name` element by one with `value`, where the first stood (or at the end).
    pub fn set(mut self, name: &str, value: &str) -> Self {
        match self.0.iter().position(|(k, _)| k == name) {
            Some(at) => {
                self.0[at].1 = value.to_owned();
                let mut seen = false;
                self.0.retain(|(k, _)| k != name || !std::mem::replace(&mut seen, true));
            }
            None => self.0.push((name.to_owned(), value.to_owned())),
        }
        self
    }

    /// Adds one more `name` element (repeated elements: uaiEtab, publicCible).
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.0.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.0.retain(|(k, _)| k != name);
        self
    }

    pub fn xml(&self) -> String {
        let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;");
        let fields: String = self.0.iter().map(|(k, v)| format!("\n    <{k}>{}</{k}>", escape(v))).collect();
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<abonnement xmlns=\"{NS}\">{fields}\n</abonnement>")
    }
}
