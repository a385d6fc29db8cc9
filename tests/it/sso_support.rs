//! The sign-on flow's test bench: a node with the demo académie, an ENT identity provider played
//! by signxml (tests/interop/ent_idp.py, its keys kept so that every run is the same IdP), two
//! publishers' service providers, and a browser that keeps cookies and never follows redirects.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use diesel::prelude::*;
use serde_json::{Value, json};
use sesame::domain::audit::Actor;
use sesame::domain::release::ReleaseAttribute;
use sesame::sso::contracts::{self, Approval, ContractTarget};
use sesame::sso::registry::{self, PublisherRegistration};
use sesame::store::schema::audit_events;
use tempfile::TempDir;

use crate::common::{TestApp, TestDb};
use crate::interop::{self, Sp, SpVerdict};

pub const ENCYCLOPEDIA: &str = "ark:/99999/demo.encyclopedie";
pub const ENCYCLOPEDIA_URL: &str = "https://encyclopedie.dictionnaires-demo.example/";
pub const DICTIONARIES: &str = "999000201_0000000000000000";
pub const MATHS: &str = "ark:/99999/demo.maths6";
pub const SAVOIRS: &str = "999000102_0000000000000000";
/// Assigned to the lycées only: a collège pupil is turned away.
pub const NEWS: &str = "ark:/99999/demo.actu";
pub const NEWS_PUBLISHER: &str = "999000202_0000000000000000";

pub const PUPIL: &str = "z0-elv-0001"; // 6A, collège 0990001N
pub const SHARED_TEACHER: &str = "z0-ens-0034"; // 0990001N and 0990002P
pub const LIBRARIAN: &str = "z0-doc-0002"; // assignment manager of 0990002P
pub const COLLEGE: &str = "0990001N";
pub const LYCEE: &str = "0990002P";

pub fn sp_entity(publisher: &str) -> String {
    format!("https://sp.{publisher}.test/saml/metadata")
}

pub fn sp_acs(publisher: &str) -> String {
    format!("https://sp.{publisher}.test/saml/acs")
}

/// A publisher's SP metadata asking for more than any contract gives.
pub fn publisher_metadata(publisher: &str) -> String {
    let requested: String = ["IDO", "UAI", "PRO", "DIV", "NOM", "PRE", "P_MEL"]
        .iter()
        .map(|name| format!(r#"<md:RequestedAttribute Name="{name}"/>"#))
        .collect();
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{}"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{}" index="0"/><md:AttributeConsumingService index="0"><md:ServiceName xml:lang="fr">Test</md:ServiceName>{requested}</md:AttributeConsumingService></md:SPSSODescriptor></md:EntityDescriptor>"#,
        sp_entity(publisher),
        sp_acs(publisher)
    )
}

/// The ENT identity provider of one ENT project.
pub struct EntIdp {
    pub ent: &'static str,
    pub entity_id: String,
    key_file: PathBuf,
    _dir: TempDir,
}

impl EntIdp {
    pub fn new(ent: &'static str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            ent,
            entity_id: format!("https://ent-{}.test/idp/shibboleth", ent.to_lowercase()),
            key_file: dir.path().join("keys.json"),
            _dir: dir,
        }
    }

    /// The IdP's answers for `gar_id`: to the request at `request_url`, or unsolicited to the console.
    pub fn answer(&self, sso: &Sso, request_url: Option<&str>, gar_id: &str) -> Value {
        interop::python(
            "ent_idp.py",
            &[],
            &json!({
                "authn_request_url": request_url,
                "sp_metadata": sso.sp_metadata,
                "console_entity_id": sso.endpoint("console/metadata"),
                "console_acs_url": sso.endpoint("console/acs"),
                "id_ent": self.ent,
                "gar_person_id": gar_id,
                "idp_entity_id": self.entity_id,
                "key_file": self.key_file,
            }),
        )
    }
}

/// A node with the demo académie, the ENT Z0's IdP and two publishers registered.
pub struct Sso {
    pub app: TestApp,
    pub idp: EntIdp,
    pub sp_metadata: String,
    pub idp_metadata: String,
}

impl Sso {
    /// The encyclopedia's publisher has contract IDO,UAI,PRO,DIV; the maths publisher one only
    /// when `maths_contract`.
    pub async fn new(db: &TestDb, maths_contract: bool) -> Self {
        let app = TestApp::spawn(db).await;
        sesame::demo::load(&mut app.conn()).unwrap();
        let get = |path: &'static str| {
            let url = format!("{}{path}", app.public_url);
            async move { reqwest::get(url).await.unwrap().text().await.unwrap() }
        };
        let (sp_metadata, idp_metadata) = (get("/sp/metadata").await, get("/idp/metadata").await);
        let sso = Self { app, idp: EntIdp::new("Z0"), sp_metadata, idp_metadata };
        sso.register_idp_of("Z0");
        for publisher in [DICTIONARIES, SAVOIRS] {
            sso.register_publisher(publisher, None);
        }
        sso.approve(DICTIONARIES, &[ReleaseAttribute::Div]);
        if maths_contract {
            sso.approve(SAVOIRS, &[ReleaseAttribute::Div]);
        }
        sso
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("{}/{path}", self.app.config.public_url())
    }

    /// Registers ENT `ent`'s IdP (Z0: `self.idp`) from the metadata it publishes.
    pub fn register_idp_of(&self, ent: &'static str) {
        self.register_idp(&self.idp, ent);
    }

    pub fn register_idp(&self, idp: &EntIdp, ent: &str) {
        let metadata = idp.answer(self, None, PUPIL)["metadata"].as_str().unwrap().to_owned();
        registry::register_identity_provider(
            &mut self.app.conn(),
            ent,
            None,
            &metadata,
            None,
            Actor::operator(),
            Utc::now(),
        )
        .unwrap();
    }

    pub fn register_publisher(&self, publisher: &str, sign_response: Option<bool>) {
        let xml = publisher_metadata(publisher);
        let registration = PublisherRegistration {
            publisher_id: publisher,
            name: "Éditeur",
            xml: &xml,
            url: None,
            resources: &[],
            sign_response,
        };
        registry::register_publisher(&mut self.app.conn(), &registration, Actor::operator(), Utc::now()).unwrap();
    }

    pub fn approve(&self, publisher: &str, attributes: &[ReleaseAttribute]) {
        let approval = Approval {
            target: ContractTarget::ServiceProvider(sp_entity(publisher)),
            attributes: attributes.to_vec(),
            purpose: "Accès à la ressource".into(),
            legal_basis: "RGPD 6.1.e".into(),
            approver: "DPO".into(),
            retention_days: 365,
        };
        contracts::approve(&mut self.app.conn(), &approval, Utc::now()).unwrap();
    }

    pub fn browser(&self) -> Browser {
        Browser {
            // A fresh connection per request: between two steps the test waits for the interop
            // scripts, long enough on a loaded machine for the node to close an idle keep-alive
            // connection just as the client reuses it.
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
            base: self.app.public_url.clone(),
            cookies: BTreeMap::new(),
        }
    }

    /// Signs `gar_id` in through the ENT from `entry` and returns the page the entry then gives.
    pub async fn sign_in_and_open(&self, browser: &mut Browser, entry: &str, gar_id: &str) -> reqwest::Response {
        let to_ent = browser.get(entry).await;
        assert_eq!(to_ent.status(), 302, "{entry}: {}", to_ent.text().await.unwrap());
        let request_url = location(&to_ent);
        assert!(request_url.starts_with("https://ent-z0.test/idp/SSO/Redirect?SAMLRequest="), "{request_url}");
        let answers = self.idp.answer(self, Some(&request_url), gar_id);
        assert_eq!(answers["request"]["signature_ok"], true, "the ENT checked Sesame's request signature");
        let back =
            browser.post_form("/sp/acs", &[("SAMLResponse", answers["responses"]["valid"].as_str().unwrap())]).await;
        assert_eq!(back.status(), 303);
        let resume = location(&back);
        assert_eq!(resume, entry, "back to the entry URL");
        browser.get(&resume).await
    }

    /// The latest audit events of `kind`, newest first: (uai, subject, details).
    pub fn audit(&self, kind: &str) -> Vec<(Option<String>, Option<String>, Value)> {
        audit_events::table
            .filter(audit_events::kind.eq(kind))
            .order(audit_events::seq.desc())
            .select((audit_events::uai, audit_events::subject, audit_events::details))
            .load::<(Option<String>, Option<String>, String)>(&mut self.app.conn())
            .unwrap()
            .into_iter()
            .map(|(uai, subject, details)| (uai, subject, serde_json::from_str(&details).unwrap()))
            .collect()
    }

    pub async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.app.public_url)).await.unwrap().text().await.unwrap()
    }
}

/// `/domaineGar` as the médiacentre builds it: base64 idENT and idEtab, url-encoded idRessource.
pub fn entry(resource: &str, uai: Option<&str>) -> String {
    let mut url = format!("/domaineGar?idENT={}", STANDARD.encode("Z0"));
    if let Some(uai) = uai {
        url.push_str(&format!("&idEtab={}", STANDARD.encode(uai)));
    }
    url.push_str("&idRessource=");
    url.extend(url::form_urlencoded::byte_serialize(resource.as_bytes()));
    url
}

pub fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// A browser: cookies kept by name, redirects not followed.
pub struct Browser {
    client: reqwest::Client,
    base: String,
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    fn url(&self, path: &str) -> String {
        if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn keep(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name.trim());
            } else {
                self.cookies.insert(name.trim().to_owned(), value.to_owned());
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> reqwest::Response {
        let response = self.client.get(self.url(path)).header("cookie", self.cookie_header()).send().await.unwrap();
        self.keep(&response);
        response
    }

    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let response = self
            .client
            .post(self.url(path))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response
    }
}

/// The auto-POST form Sesame serves toward a publisher.
#[derive(Debug)]
pub struct Form {
    pub action: String,
    pub saml_response: String,
    pub relay_state: String,
}

impl Form {
    pub async fn read(response: reqwest::Response) -> Self {
        assert_eq!(response.status(), 200);
        let html = response.text().await.unwrap();
        let field = |marker: &str| {
            let start = html.find(marker).unwrap_or_else(|| panic!("no {marker} in {html}")) + marker.len();
            let value = &html[start..start + html[start..].find('"').unwrap()];
            value
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        };
        Self {
            action: field("action=\""),
            saml_response: field("name=\"SAMLResponse\" value=\""),
            relay_state: field("name=\"RelayState\" value=\""),
        }
    }

    /// What an independent service provider of `publisher` reads from the form's response.
    pub fn verify(&self, sso: &Sso, sp: Sp, publisher: &str, request_id: Option<&str>) -> SpVerdict {
        sp.verify(&sso.idp_metadata, &self.saml_response, &sp_entity(publisher), &sp_acs(publisher), request_id)
    }

    pub fn xml(&self) -> String {
        String::from_utf8(STANDARD.decode(&self.saml_response).unwrap()).unwrap()
    }
}

pub fn attribute_names(verdict: &SpVerdict) -> Vec<String> {
    let mut names: Vec<String> = verdict.attributes.keys().cloned().collect();
    names.sort();
    names
}

/// The value of a Prometheus series (0 when absent).
pub fn counter(metrics: &str, series: &str) -> f64 {
    metrics.lines().find_map(|line| line.strip_prefix(series).and_then(|rest| rest.trim().parse().ok())).unwrap_or(0.0)
}

/// The text of an HTML page, with the entities Sesame writes decoded.
pub async fn page_text(response: reqwest::Response) -> String {
    let html = response.text().await.unwrap();
    html.replace("&#39;", "'").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}
