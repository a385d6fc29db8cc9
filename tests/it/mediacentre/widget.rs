//! Widget tokens (mutual TLS), the token-authenticated listing on the public listener, its CORS
//! rules, and the widget script.

use sesame::mediacentre::token::{TokenKey, WidgetClaims};
use sesame::pki::{KeyMaterial, KeyPaths};
use sesame::store::widget_origins;

use super::*;

const ENT_PAGE: &str = "https://ent.example.org";

/// Obtains a token for `gar_id` (and `uai`) as ENT Z0's server does.
async fn token(demo: &Demo, gar_id: &str, uai: Option<&str>) -> Answer {
    let mut body = serde_json::json!({ "GARPersonIdentifiant": gar_id });
    if let Some(uai) = uai {
        body["UAI"] = uai.into();
    }
    let url = format!("{}/mediacentre/v1/Z0/tokens", demo.app.mtls_url);
    Answer::read(demo.z0.post(url).json(&body).send().await.unwrap()).await
}

/// `GET /mediacentre/v1/ressources` as a browser on `origin` sends it.
async fn browser_get(demo: &Demo, token: &str, origin: Option<&str>, extra: &[(&str, &str)]) -> Answer {
    let mut request = reqwest::Client::new()
        .get(format!("{}/mediacentre/v1/ressources", demo.app.public_url))
        .header("Authorization", format!("Bearer {token}"));
    if let Some(origin) = origin {
        request = request.header("Origin", origin);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    Answer::read(request.send().await.unwrap()).await
}

async fn preflight(demo: &Demo, origin: &str) -> Answer {
    let request = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{}/mediacentre/v1/ressources", demo.app.public_url))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization");
    Answer::read(request.send().await.unwrap()).await
}

crate::storage_test! {
    async fn a_token_lists_its_persons_resources_for_allowed_origins_only(db) {
        let demo = Demo::start(&db).await;
        let conn = &mut demo.app.conn();
        widget_origins::add(conn, "Z0", ENT_PAGE).unwrap();
        widget_origins::add(conn, "Z1", "https://ecoles.example.org").unwrap();
        let teacher = person(conn, COLLEGE, "National_ens", Some("5ALL"));

        let issued = token(&demo, &teacher, None).await;
        assert_eq!(issued.status, StatusCode::OK, "{}", issued.text());
        let issued = issued.json();
        assert_eq!(issued["expiresIn"], 300);
        assert_eq!(issued["listeRessourcesUrl"], format!("{}/mediacentre/v1/ressources", demo.app.public_url));
        let all_schools = issued["token"].as_str().unwrap().to_owned();
        assert!(!all_schools.contains(&teacher), "the token does not show who it is for");

        // Without a UAI the token lists every school, exactly as the mTLS all-schools call does.
        let listed = browser_get(&demo, &all_schools, Some(ENT_PAGE), &[]).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
        assert_eq!(listed.header("access-control-allow-origin"), Some(ENT_PAGE));
        assert!(listed.headers.get_all("vary").iter().any(|v| v == "Origin"));
        let mtls = demo.listing(&demo.z0, &format!("/ressources/Z0/-/{teacher}"), &[]).await;
        assert_eq!(listed.body, mtls.body);
        // With a UAI, that school only.
        let one = token(&demo, &teacher, Some(LYCEE)).await.json()["token"].as_str().unwrap().to_owned();
        let lycee = browser_get(&demo, &one, Some(ENT_PAGE), &[]).await;
        assert_eq!(lycee.body, demo.listing(&demo.z0, &format!("/ressources/Z0/{LYCEE}/{teacher}"), &[]).await.body);
        // Revalidation works for browsers too.
        let etag = listed.header("etag").unwrap().to_owned();
        let again = browser_get(&demo, &all_schools, Some(ENT_PAGE), &[("If-None-Match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);

        // A page the project did not allow, or another project's page, reads nothing.
        for origin in ["https://evil.example.org", "https://ecoles.example.org"] {
            let refused = browser_get(&demo, &all_schools, Some(origin), &[]).await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN, "{origin}");
            assert_eq!(refused.header("access-control-allow-origin"), None, "{origin}");
            assert_eq!(refused.json()["Erreur"]["Message"], "Origine non autorisée pour ce projet ENT");
        }
        // No Origin: not a browser's cross-origin read; the token alone decides.
        assert_eq!(browser_get(&demo, &all_schools, None, &[]).await.status, StatusCode::OK);
    }
}

crate::storage_test! {
    async fn preflights_follow_the_allowed_origins(db) {
        let demo = Demo::start(&db).await;
        widget_origins::add(&mut demo.app.conn(), "Z0", ENT_PAGE).unwrap();
        let allowed = preflight(&demo, ENT_PAGE).await;
        assert_eq!(allowed.status, StatusCode::NO_CONTENT);
        assert_eq!(allowed.header("access-control-allow-origin"), Some(ENT_PAGE));
        assert_eq!(allowed.header("access-control-allow-methods"), Some("GET"));
        assert_eq!(allowed.header("access-control-allow-headers"), Some("Authorization"));
        assert_eq!(allowed.header("access-control-max-age"), Some("600"));
        let refused = preflight(&demo, "https://evil.example.org").await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(refused.header("access-control-allow-origin"), None);

        widget_origins::remove(&mut demo.app.conn(), "Z0", ENT_PAGE).unwrap();
        assert_eq!(preflight(&demo, ENT_PAGE).await.status, StatusCode::FORBIDDEN, "withdrawn at once, on every node");
    }
}

crate::storage_test! {
    async fn expired_forged_and_misdirected_tokens_are_refused(db) {
        let demo = Demo::start(&db).await;
        widget_origins::add(&mut demo.app.conn(), "Z0", ENT_PAGE).unwrap();
        let pupil = person(&mut demo.app.conn(), COLLEGE, "National_elv", Some("6A"));
        // Sealed with the node's own key, but expired a second ago.
        let keys = KeyMaterial::load_or_create(&KeyPaths::in_data_dir(&demo.app.config.data_dir)).unwrap();
        let claims = WidgetClaims {
            ent_id: "Z0".into(),
            gar_id: pupil.clone(),
            uai: None,
            expires_at: chrono::Utc::now().timestamp() - 1,
        };
        let expired = TokenKey::derive(&keys.pseudonym_secret).seal(&claims);
        let answer = browser_get(&demo, &expired, Some(ENT_PAGE), &[]).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.json()["Erreur"]["Message"], "Jeton expiré");
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
        // The page may read the 401, so that the widget can ask its ENT for a fresh token.
        assert_eq!(answer.header("access-control-allow-origin"), Some(ENT_PAGE));

        // Sealed with another secret: another Sesame, or a forgery.
        let foreign = TokenKey::derive(&[9u8; 32]).seal(&WidgetClaims { expires_at: i64::MAX, ..claims });
        let answer = browser_get(&demo, &foreign, Some(ENT_PAGE), &[]).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.json()["Erreur"]["Message"], "Jeton absent ou invalide");

        // Token requests the ENT cannot make.
        let url = format!("{}/mediacentre/v1/Z0/tokens", demo.app.mtls_url);
        for (body, status, message) in [
            (r#"{"GARPersonIdentifiant": "z0-elv-0001", "UAI": "0990002P"}"#, 404, "L'utilisateur n'est pas rattaché à cet établissement"),
            (r#"{"GARPersonIdentifiant": "z0-elv-0001", "UAI": "0990011Z"}"#, 400, "Établissement non trouvé"),
            (r#"{"GARPersonIdentifiant": "z0-elv-0001", "UAI": "nope"}"#, 400, "UAI invalide"),
        ] {
            let answer = Answer::read(demo.z0.post(&url).body(body).send().await.unwrap()).await;
            assert_eq!(answer.status.as_u16(), status, "{body}");
            assert_eq!(answer.json()["Erreur"]["Message"], message, "{body}");
        }
        let answer = Answer::read(demo.z0.post(&url).body(r#"{"user": "z0-elv-0001"}"#).send().await.unwrap()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert!(answer.json()["Erreur"]["Message"].as_str().unwrap().starts_with("Requête invalide"));
    }
}

crate::storage_test! {
    async fn the_widget_script_is_served_and_cached(db) {
        let app = crate::common::TestApp::spawn(&db).await;
        let client = reqwest::Client::new();
        let url = format!("{}/mediacentre/widget.js", app.public_url);
        let script = Answer::read(client.get(&url).send().await.unwrap()).await;
        assert_eq!(script.status, StatusCode::OK);
        assert_eq!(script.header("content-type"), Some("text/javascript; charset=utf-8"));
        assert!(script.text().contains("customElements.define(\"sesame-mediacentre\""));
        let etag = script.header("etag").unwrap().to_owned();
        let again = Answer::read(client.get(&url).header("If-None-Match", &etag).send().await.unwrap()).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        // No demo page unless configured.
        let demo_page = client.get(format!("{}/demo/ent", app.public_url)).send().await.unwrap();
        assert_eq!(demo_page.status(), StatusCode::NOT_FOUND);
    }
}
