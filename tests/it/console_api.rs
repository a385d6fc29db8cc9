//! The console's JSON API and pages over real HTTP: sessions, tenant isolation, CSRF, the ledger
//! operations with their error codes, 50 concurrent assignments for 10 seats, and the OpenAPI
//! document against the routes the server mounts.

use std::collections::BTreeSet;

use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sesame::http::session::token_hash;
use sesame::store::schema::{assignment_seats, audit_events, persons, subscriptions};
use sesame::store::sessions::{self, Session, SessionKind};

use crate::common::{TestApp, random_suffix};
use crate::ledger::{COLLEGE, pool, pupils_of, subscription};

/// A browser-less console client: a session cookie and its CSRF token.
pub struct Console {
    client: reqwest::Client,
    base: String,
    cookie: String,
    pub csrf: String,
}

impl Console {
    /// Opens a session the way single sign-on will: a row in `web_sessions`, a cookie for the browser.
    pub async fn login(app: &TestApp, ent: &str, gar_id: &str) -> Self {
        let token = format!("test-token-{}", random_suffix());
        let session = Session {
            ent_id: ent.into(),
            gar_id: gar_id.into(),
            expires_at: Utc::now().naive_utc() + TimeDelta::hours(1),
        };
        sessions::insert(&mut app.conn(), &token_hash(&token), SessionKind::Console, &session, Utc::now().naive_utc())
            .unwrap();
        Self::with_cookie(app, &format!("sesame_console={token}")).await
    }

    pub async fn with_cookie(app: &TestApp, cookie: &str) -> Self {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut console = Self { client, base: app.public_url.clone(), cookie: cookie.into(), csrf: String::new() };
        let (status, session) = console.get("/console/api/v1/session").await;
        if status == StatusCode::OK {
            console.csrf = session["csrfToken"].as_str().unwrap().to_owned();
        }
        console
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response =
            self.client.get(format!("{}{path}", self.base)).header("Cookie", &self.cookie).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("Cookie", &self.cookie)
            .header("X-CSRF-Token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A page: status, `Location` and body.
    pub async fn page(&self, path: &str) -> (StatusCode, Option<String>, String) {
        let response =
            self.client.get(format!("{}{path}", self.base)).header("Cookie", &self.cookie).send().await.unwrap();
        let status = response.status();
        let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
        (status, location, response.text().await.unwrap())
    }
}

/// A url-encoded form body, as a browser posts it.
pub fn form(request: reqwest::RequestBuilder, pairs: &[(&str, &str)]) -> reqwest::RequestBuilder {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    request.header("Content-Type", "application/x-www-form-urlencoded").body(body)
}

fn school(path: &str) -> String {
    format!("/console/api/v1/schools/{COLLEGE}{path}")
}

fn subscription_id(conn: &mut sesame::store::AnyConnection, external_id: &str) -> i64 {
    subscriptions::table
        .filter(subscriptions::external_id.eq(external_id))
        .select(subscriptions::id)
        .first(conn)
        .unwrap()
}

crate::storage_test! {
    async fn sessions_and_tenant_isolation(db) {
        let app = TestApp::spawn(&db).await;
        sesame::demo::load(&mut app.conn()).unwrap();

        // No session: 401 from the API, the login page for a browser.
        let anonymous = Console::with_cookie(&app, "sesame_console=forged").await;
        let (status, body) = anonymous.get(&school("/dashboard")).await;
        assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("UNAUTHENTICATED")));
        let (status, location, _) = anonymous.page(&format!("/console/{COLLEGE}")).await;
        assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/console/login")));
        // Demo login is off unless `sesame demo` turns it on.
        assert_eq!(anonymous.page("/console/demo-login").await.0, StatusCode::NOT_FOUND);

        let manager = Console::login(&app, "Z0", "z0-dir-0001").await;
        let (status, me) = manager.get("/console/api/v1/session").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["schools"], json!([{ "uai": COLLEGE, "name": "Collège des Tilleuls" }]));
        assert_eq!(manager.get(&school("/dashboard")).await.0, StatusCode::OK);

        // A manager of school A gets 403 on school B, known or not, API and pages alike.
        for other in ["0990002P", "0990011Z", "0999999A", "nonsense"] {
            let (status, body) = manager.get(&format!("/console/api/v1/schools/{other}/dashboard")).await;
            assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("FORBIDDEN")), "{other}");
            assert_eq!(manager.page(&format!("/console/{other}")).await.0, StatusCode::FORBIDDEN, "{other}");
        }
        // Another school's subscription is not found here, and writes there are refused.
        let lycee_only = subscription_id(&mut app.conn(), "DEMO-2026-ACTU-LYCEES");
        let (status, body) = manager.get(&school(&format!("/subscriptions/{lycee_only}"))).await;
        assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("UNKNOWN_SUBSCRIPTION")));
        let (status, _) = manager
            .post("/console/api/v1/schools/0990002P/assignments",
                json!({ "subscription": lycee_only, "target": { "kind": "DIVISION", "ref": "2A" } }))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // A Z1 manager with the same identifier as a Z0 one is another person.
        let z1 = Console::login(&app, "Z1", "z0-dir-0001").await;
        assert_eq!(z1.get("/console/api/v1/session").await.0, StatusCode::FORBIDDEN, "not a manager in Z1");

        // Sessions live in the database: a second node serves the same session.
        let other_node = TestApp::spawn(&db).await;
        let same = Console::with_cookie(&other_node, &manager.cookie).await;
        assert_eq!(same.get(&school("/dashboard")).await.0, StatusCode::OK);

        // Logout ends it on every node.
        let logout = manager.client.post(format!("{}/console/logout", app.public_url)).header("Cookie", &manager.cookie);
        let response = form(logout, &[("csrf", manager.csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let erased = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
        assert!(erased.starts_with("sesame_console=;") && erased.contains("Max-Age=0"), "{erased}");
        assert_eq!(same.get(&school("/dashboard")).await.0, StatusCode::UNAUTHORIZED);
    }
}

crate::storage_test! {
    async fn demo_login_opens_a_marked_session(db) {
        let app = TestApp::spawn_with(&db, |config| config.console.demo_login = true).await;
        sesame::demo::load(&mut app.conn()).unwrap();
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let page = client.get(format!("{}/console/demo-login", app.public_url)).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("Démonstration") && html.contains("login-z0-dir-0001"), "clearly marked demo page");

        let response = form(client.post(format!("{}/console/demo-login", app.public_url)), &[("ent", "Z0"), ("gar_id", "z0-dir-0001")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/console"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        assert!(!cookie.contains("Secure"), "plain HTTP in tests: {cookie}");
        let token = cookie.split(';').next().unwrap().to_owned();
        // Only the token's hash is stored.
        let stored: Vec<String> = sesame::store::schema::web_sessions::table
            .select(sesame::store::schema::web_sessions::id)
            .load(&mut app.conn())
            .unwrap();
        let value = token.trim_start_matches("sesame_console=");
        assert_eq!(stored, [token_hash(value)]);

        let console = Console::with_cookie(&app, &token).await;
        let (status, location, _) = console.page("/console").await;
        assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some(format!("/console/{COLLEGE}").as_str())));
        let (status, _, html) = console.page(&format!("/console/{COLLEGE}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Tableau de bord") && html.contains("demo-banner"), "{html}");

        // Someone who is not a manager cannot log in, even in the demo.
        let refused = form(client.post(format!("{}/console/demo-login", app.public_url)), &[("ent", "Z0"), ("gar_id", "z0-elv-0001")])
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    }
}

crate::storage_test! {
    async fn ledger_operations_over_the_api(db) {
        let app = TestApp::spawn(&db).await;
        sesame::demo::load(&mut app.conn()).unwrap();
        let sub = subscription(&mut app.conn(), "TEST-API", 20, None);
        let etabl = subscription_id(&mut app.conn(), "DEMO-2026-ENCYCLO-Z0");
        let console = Console::login(&app, "Z0", "z0-dir-0001").await;
        let class = json!({ "kind": "DIVISION", "ref": "6A" });

        // Writes need the session's CSRF token; a dry run does not.
        let forged = Console { csrf: "0".repeat(64), ..Console::login(&app, "Z0", "z0-dir-0001").await };
        let (status, body) = forged.post(&school("/assignments"), json!({ "subscription": sub, "target": class })).await;
        assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("CSRF")));
        let (status, preview) = forged.post(&school("/preview"), json!({ "subscription": sub, "target": class })).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(preview["preview"]["uses"], 18);
        assert_eq!(preview["summary"], "utilise 18 licences, il en restera 2");

        let (status, assigned) = console.post(&school("/assignments"), json!({ "subscription": sub, "target": class })).await;
        assert_eq!(status, StatusCode::CREATED, "{assigned}");
        assert_eq!(assigned["result"]["changes"]["granted"], 18);
        assert_eq!(assigned["subscription"]["pools"][0], json!({
            "pool": "ELEVE", "total": 20, "used": 18, "free": 2, "waiting": 0,
            "overAllocated": false, "nearlyExhausted": true
        }));
        let (status, dashboard) = console.get(&school("/dashboard")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(dashboard["alerts"].as_array().unwrap().iter()
            .any(|a| a["kind"] == "NEARLY_EXHAUSTED" && a["subscriptionId"] == sub), "{dashboard}");

        // Refusals come with their code and status, and change nothing.
        let refusals = [
            (json!({ "subscription": sub, "target": { "kind": "DIVISION", "ref": "6B" } }), StatusCode::CONFLICT, "NO_LICENCE_LEFT"),
            (json!({ "subscription": sub, "target": class }), StatusCode::CONFLICT, "ALREADY_ASSIGNED"),
            (json!({ "subscription": etabl, "target": class }), StatusCode::UNPROCESSABLE_ENTITY, "SCHOOL_WIDE_SUBSCRIPTION"),
            (json!({ "subscription": sub, "target": { "kind": "DIVISION", "ref": "9Z" } }), StatusCode::NOT_FOUND, "UNKNOWN_TARGET"),
            (json!({ "subscription": 999_999, "target": class }), StatusCode::NOT_FOUND, "UNKNOWN_SUBSCRIPTION"),
            (json!({ "subscription": sub, "target": { "kind": "DIVISIONS", "ref": [] } }), StatusCode::UNPROCESSABLE_ENTITY, "BAD_TARGET"),
            (json!({ "subscription": sub, "target": { "kind": "CLASS", "ref": "6A" } }), StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            (json!({ "subscription": "one" }), StatusCode::BAD_REQUEST, "BAD_REQUEST"),
        ];
        for (body, expected, code) in refusals {
            let (status, answer) = console.post(&school("/assignments"), body.clone()).await;
            assert_eq!((status, answer["error"]["code"].as_str()), (expected, Some(code)), "{body} → {answer}");
            assert!(!answer["error"]["message"].as_str().unwrap().is_empty());
        }
        assert_eq!(pool(&mut app.conn(), sub, "ELEVE"), (Some(20), 18));

        // Entry by resource: the assignment and its seats; entry by person: what they may open.
        let (_, detail) = console.get(&school(&format!("/subscriptions/{sub}"))).await;
        assert_eq!(detail["assignments"][0]["label"], "Classe 6A");
        assert_eq!(detail["assignments"][0]["seats"], 18);
        let pupil = pupils_of(&mut app.conn(), "6A")[0].clone();
        let (status, person) = console.get(&school(&format!("/people/{pupil}"))).await;
        assert_eq!(status, StatusCode::OK);
        let resources: Vec<&str> = person["resources"].as_array().unwrap().iter().map(|r| r["resourceId"].as_str().unwrap()).collect();
        assert!(resources.contains(&"ark:/99999/demo.fle"), "{person}");
        assert_eq!(console.get(&school("/people/z1-elv-0001")).await.0, StatusCode::NOT_FOUND, "another ENT's pupil");
        let last_name: String = persons::table.filter(persons::gar_id.eq(&pupil)).select(persons::last_name).first(&mut app.conn()).unwrap();
        let (_, found) = console.get(&school(&format!("/people?q={}", last_name.to_lowercase()))).await;
        assert!(found["people"].as_array().unwrap().iter().any(|p| p["garId"] == pupil.as_str()), "{found}");
        let (_, populations) = console.get(&school("/populations")).await;
        assert!(populations["classes"].as_array().unwrap().iter().any(|c| c["target"] == json!({ "kind": "DIVISION", "ref": "6A" })));

        // Transfer, then undo it from the history.
        let (status, moved) = console
            .post(&school("/transfers"), json!({ "subscription": sub, "from": class, "to": { "kind": "DIVISION", "ref": "6B" } }))
            .await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        assert_eq!(moved["result"]["changes"], json!({ "granted": 18, "released": 18, "waiting": 0 }));
        let (_, history) = console.get(&school("/history?limit=1")).await;
        let entry = &history["entries"][0];
        assert_eq!((entry["action"].as_str(), entry["undoable"].as_bool()), (Some("TRANSFER"), Some(true)));
        let (status, _) = console.post(&school(&format!("/history/{}/undo", entry["id"])), json!(null)).await;
        assert_eq!(status, StatusCode::OK);
        let (status, again) = console.post(&school(&format!("/history/{}/undo", entry["id"])), json!(null)).await;
        assert_eq!((status, again["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("ALREADY_UNDONE")));

        // Withdraw the class; switch an ETABL public off and back on.
        let (status, withdrawn) = console.post(&school("/withdrawals"), json!({ "subscription": sub, "target": class })).await;
        assert_eq!((status, withdrawn["result"]["changes"]["released"].as_i64()), (StatusCode::OK, Some(18)));
        let (status, switched) = console
            .post(&school("/school-wide"), json!({ "subscription": etabl, "public": "ELEVE", "enabled": false }))
            .await;
        assert_eq!(status, StatusCode::OK, "{switched}");
        let publics = &switched["subscription"]["schoolWide"]["publics"];
        assert!(publics.as_array().unwrap().iter().any(|p| p["public"] == "ELEVE" && p["enabled"] == false));
        let (status, refused) = console
            .post(&school("/school-wide"), json!({ "subscription": sub, "public": "ELEVE", "enabled": false }))
            .await;
        assert_eq!((status, refused["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("INDIVIDUAL_SUBSCRIPTION")));

        // Every change is an audit event naming the manager.
        let kinds: Vec<String> = audit_events::table
            .filter(audit_events::actor.eq("manager:Z0/z0-dir-0001"))
            .filter(audit_events::kind.like("assignment.%"))
            .select(audit_events::kind)
            .load(&mut app.conn())
            .unwrap();
        for kind in ["assignment.created", "assignment.transferred", "assignment.undone", "assignment.revoked"] {
            assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
        }
    }
}

crate::storage_test! {
    async fn fifty_parallel_assignments_never_oversell_ten_seats(db) {
        let app = TestApp::spawn(&db).await;
        sesame::demo::load(&mut app.conn()).unwrap();
        let sub = subscription(&mut app.conn(), "TEST-RACE", 10, None);
        let pupils: Vec<String> = ["3A", "3B", "4A"].iter().flat_map(|c| pupils_of(&mut app.conn(), c)).take(50).collect();
        assert_eq!(pupils.len(), 50);
        let console = std::sync::Arc::new(Console::login(&app, "Z0", "z0-dir-0001").await);

        let requests = pupils.iter().map(|pupil| {
            let console = console.clone();
            let body = json!({ "subscription": sub, "target": { "kind": "PERSON", "ref": pupil } });
            async move { console.post(&school("/assignments"), body).await }
        });
        let answers = futures_util::future::join_all(requests).await;
        let created = answers.iter().filter(|(status, _)| *status == StatusCode::CREATED).count();
        let refused: Vec<&Value> = answers.iter().filter(|(status, _)| *status == StatusCode::CONFLICT).map(|(_, b)| b).collect();
        assert_eq!(created, 10, "{answers:?}");
        assert_eq!(refused.len(), 40, "{answers:?}");
        assert!(refused.iter().all(|b| b["error"]["code"] == "NO_LICENCE_LEFT"), "{refused:?}");
        assert!(refused[0]["error"]["message"].as_str().unwrap().contains("Plus assez de licences"));

        assert_eq!(pool(&mut app.conn(), sub, "ELEVE"), (Some(10), 10));
        let active: i64 = assignment_seats::table
            .filter(assignment_seats::subscription_id.eq(sub))
            .filter(assignment_seats::status.eq("ACTIVE"))
            .count()
            .get_result(&mut app.conn())
            .unwrap();
        assert_eq!(active, 10);
        let created_events: i64 = audit_events::table
            .filter(audit_events::kind.eq("assignment.created"))
            .filter(audit_events::details.like(format!("%\"subscription\":{sub},%")))
            .count()
            .get_result(&mut app.conn())
            .unwrap();
        assert_eq!(created_events, 10, "refused assignments leave no trace");
        let events = sesame::store::audit::events_after(&mut app.conn(), 0, 100_000).unwrap();
        sesame::domain::audit::verify_chain((0, sesame::domain::audit::GENESIS_HASH), &events).expect("one unbroken chain");
    }
}

/// Fills `{uai}`, `{id}` and `{gar_id}` in a route pattern.
fn concrete(pattern: &str, subscription: i64) -> String {
    pattern.replace("{uai}", COLLEGE).replace("{id}", &subscription.to_string()).replace("{gar_id}", "z0-ens-0001")
}

crate::storage_test! {
    async fn the_openapi_document_lists_exactly_the_mounted_routes(db) {
        let document: Value = serde_json::from_str(include_str!("../../schema/console-api.openapi.json")).unwrap();
        assert_eq!(document["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
        let documented: BTreeSet<(String, String)> = document["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, operations)| {
                operations.as_object().unwrap().keys()
                    .filter(|key| ["get", "post", "put", "patch", "delete"].contains(&key.as_str()))
                    .map(move |method| (method.to_uppercase(), path.clone()))
            })
            .collect();
        let mounted: BTreeSet<(String, String)> = sesame::assignments::api::ROUTES
            .iter()
            .map(|(method, path)| (method.to_string(), path.to_string()))
            .collect();
        assert_eq!(documented, mounted, "schema/console-api.openapi.json and the mounted routes differ");

        // Each listed route is really served: an answer of the API (JSON), never the router's 404.
        let app = TestApp::spawn(&db).await;
        sesame::demo::load(&mut app.conn()).unwrap();
        let sub = subscription(&mut app.conn(), "TEST-ROUTES", 20, None);
        let console = Console::login(&app, "Z0", "z0-dir-0001").await;
        let body = json!({ "subscription": sub, "target": { "kind": "DIVISION", "ref": "6A" } });
        for (method, pattern) in sesame::assignments::api::ROUTES {
            let path = concrete(pattern, sub);
            let (status, answer) = match *method {
                "GET" => console.get(&path).await,
                _ => console.post(&path, body.clone()).await,
            };
            assert!(answer.is_object(), "{method} {path}: {status} without a JSON body");
            // Every documented operation documents the status it answered.
            let responses = &document["paths"][*pattern][method.to_lowercase()]["responses"];
            assert!(responses.get(status.as_str()).is_some(), "{method} {pattern}: status {status} is not documented");
        }
    }
}
