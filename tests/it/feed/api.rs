//! The feed API on the mutual-TLS listener: an ENT posts its bundle, reads reports, confirms held
//! imports; another ENT's objects are out of reach.

use reqwest::StatusCode;
use sesame::domain::directory::Degree;
use sesame::feed::Report;
use sesame::store::partners::CallerKind;

use super::support::*;
use crate::common::{DISTRIBUTOR, TestApp};

/// POSTs a bundle as an ENT would: the archive, its GAR name and the content of its `.md5`.
async fn post_bundle(app: &TestApp, client: &reqwest::Client, ent: &str, path: &std::path::Path) -> reqwest::Response {
    let name = sesame::feed::source::file_name(path);
    let md5 = std::fs::read_to_string(sesame::feed::source::sibling_md5(path)).unwrap();
    client
        .post(format!("{}/feed/v1/{ent}?name={name}&md5={}", app.mtls_url, md5.trim()))
        .header("Content-Type", "application/gzip")
        .body(std::fs::read(path).unwrap())
        .send()
        .await
        .unwrap()
}

crate::storage_test! {
    async fn an_ent_posts_its_bundle_and_reads_the_report(db) {
        let app = TestApp::spawn(&db).await;
        register_ents(&mut app.conn(), &["Z0"]);
        let client = app.registered_client(CallerKind::Ent, "Z0");
        let out = tempfile::tempdir().unwrap();
        let path = write_bundle(&demo_directories()[0], Degree::Second, out.path());

        let response = post_bundle(&app, &client, "Z0", &path).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let report: Report = response.json().await.unwrap();
        assert_eq!((report.status.as_str(), report.checksum.as_str(), report.actor.as_str()), ("APPLIED", "verified", "ent:Z0"));
        assert_eq!(location, format!("/feed/v1/Z0/reports/{}", report.id));
        assert!(report.tally("pupils").created > 200);

        let stored: Report = client.get(format!("{}{location}", app.mtls_url)).send().await.unwrap().json().await.unwrap();
        assert_eq!(stored, report);
        let xml = client.get(format!("{}{location}", app.mtls_url)).header("Accept", "application/xml").send().await.unwrap();
        assert_eq!(xml.headers()["content-type"], "application/xml");
        let xml = xml.text().await.unwrap();
        assert!(xml.contains(&format!("id=\"{}\"", report.id)) && xml.contains("status=\"APPLIED\""), "{xml}");
        let file = out.path().join("report.xml");
        std::fs::write(&file, &xml).unwrap();
        xmllint(&repo_file("schema/feed-report.xsd"), &[file]);

        let list: serde_json::Value = client.get(format!("{}/feed/v1/Z0/reports", app.mtls_url)).send().await.unwrap().json().await.unwrap();
        assert_eq!(list["reports"][0]["id"], report.id);
        assert_eq!(list["reports"][0]["status"], "APPLIED");

        let metrics = reqwest::get(format!("{}/metrics", app.public_url)).await.unwrap().text().await.unwrap();
        assert!(metrics.contains("sesame_feed_imports_total{ent=\"Z0\",status=\"APPLIED\"}"), "{metrics}");
    }
}

crate::storage_test! {
    async fn an_ent_cannot_post_or_read_for_another(db) {
        let app = TestApp::spawn(&db).await;
        crate::common::seed_partners(&mut app.conn());
        register_ents(&mut app.conn(), &["Z1"]);
        let z0 = app.registered_client(CallerKind::Ent, "Z0");
        let z1 = app.registered_client(CallerKind::Ent, "Z1");
        let out = tempfile::tempdir().unwrap();
        let path = write_bundle(&demo_directories()[0], Degree::Second, out.path());

        let refused = post_bundle(&app, &z1, "Z0", &path).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let body: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "this client certificate belongs to ENT project Z1, not Z0");
        assert_eq!(statuses(&mut app.conn()), Vec::<String>::new(), "nothing was imported");

        let mine = post_bundle(&app, &z0, "Z0", &path).await;
        assert_eq!(mine.status(), StatusCode::CREATED);
        let id = mine.json::<Report>().await.unwrap().id;
        let forbidden = z1.get(format!("{}/feed/v1/Z0/reports/{id}", app.mtls_url)).send().await.unwrap();
        assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
        // Asked under its own name, another project's report does not exist.
        for (method, path) in [("GET", format!("/feed/v1/Z1/reports/{id}")), ("POST", format!("/feed/v1/Z1/reports/{id}/confirm"))] {
            let response = z1.request(method.parse().unwrap(), format!("{}{path}", app.mtls_url)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
            assert_eq!(response.json::<serde_json::Value>().await.unwrap()["error"], "no such import");
        }
        let distributor = app.registered_client(CallerKind::Distributor, DISTRIBUTOR);
        assert_eq!(post_bundle(&app, &distributor, "Z0", &path).await.status(), StatusCode::FORBIDDEN);
        assert_eq!(post_bundle(&app, &app.unregistered_client("nobody"), "Z0", &path).await.status(), StatusCode::FORBIDDEN);
    }
}

crate::storage_test! {
    async fn a_held_import_is_confirmed_through_the_api(db) {
        let app = TestApp::spawn(&db).await;
        register_ents(&mut app.conn(), &["Z0"]);
        let client = app.registered_client(CallerKind::Ent, "Z0");
        let dir = &demo_directories()[0];
        let out = tempfile::tempdir().unwrap();
        assert_eq!(post_bundle(&app, &client, "Z0", &write_bundle(dir, Degree::Second, out.path())).await.status(), StatusCode::CREATED);

        let pupils = pupils_of(dir, "0990002P");
        let gone: Vec<&str> = pupils.iter().map(String::as_str).collect();
        let next = tempfile::tempdir().unwrap();
        let held = post_bundle(&app, &client, "Z0", &write_bundle(&without_persons(dir, &gone), Degree::Second, next.path())).await;
        assert_eq!(held.status(), StatusCode::ACCEPTED);
        let held: Report = held.json().await.unwrap();
        assert_eq!(held.status, "HELD");
        assert_eq!(held.held.as_ref().unwrap().establishments[0].uai, "0990002P");

        let confirm = format!("{}/feed/v1/Z0/reports/{}/confirm", app.mtls_url, held.id);
        let confirmed = client.post(&confirm).send().await.unwrap();
        assert_eq!(confirmed.status(), StatusCode::OK);
        let confirmed: Report = confirmed.json().await.unwrap();
        assert_eq!((confirmed.status.as_str(), confirmed.actor.as_str()), ("APPLIED", "ent:Z0"));
        assert_eq!(confirmed.tally("pupils").removed as usize, gone.len());
        let again = client.post(&confirm).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::CONFLICT);
        assert!(again.text().await.unwrap().contains("only a HELD import"));
    }
}

crate::storage_test! {
    async fn bad_uploads_get_clear_errors_and_change_nothing(db) {
        let app = TestApp::spawn_with(&db, |config| config.feed.max_upload_bytes = 100_000).await;
        register_ents(&mut app.conn(), &["Z0", "Z1"]);
        let client = app.registered_client(CallerKind::Ent, "Z1");
        let out = tempfile::tempdir().unwrap();
        let path = write_bundle(&demo_directories()[1], Degree::First, out.path());

        // The checksum of another archive.
        let name = sesame::feed::source::file_name(&path);
        let body = std::fs::read(&path).unwrap();
        let wrong = client
            .post(format!("{}/feed/v1/Z1?name={name}&md5=00000000000000000000000000000000", app.mtls_url))
            .header("Content-Type", "application/gzip")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let report: Report = wrong.json().await.unwrap();
        assert!(report.error.unwrap().contains("MD5"));
        assert_eq!(count(&mut app.conn(), "SELECT COUNT(*) AS n FROM persons"), 0);

        let xml = client.post(format!("{}/feed/v1/Z1", app.mtls_url)).header("Content-Type", "application/xml").body("<x/>").send().await.unwrap();
        assert_eq!(xml.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(xml.text().await.unwrap().contains("application/gzip"));
        let bad_name = client.post(format!("{}/feed/v1/Z1?name=export.tgz", app.mtls_url)).header("Content-Type", "application/gzip").body(body).send().await.unwrap();
        assert_eq!(bad_name.status(), StatusCode::BAD_REQUEST);
        let big = client.post(format!("{}/feed/v1/Z1", app.mtls_url)).header("Content-Type", "application/gzip").body(vec![0u8; 200_000]).send().await.unwrap();
        assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
        // A bundle for Z0 posted by Z1 under its own name is refused by its name.
        let other = write_bundle(&demo_directories()[1], Degree::First, &out.path().join("z0"));
        let renamed = out.path().join("Z0_GAR-ENT_Complet_20261125_210000_1D.tar.gz");
        std::fs::copy(&other, &renamed).unwrap();
        let response = client
            .post(format!("{}/feed/v1/Z1?name=Z0_GAR-ENT_Complet_20261125_210000_1D.tar.gz", app.mtls_url))
            .header("Content-Type", "application/gzip")
            .body(std::fs::read(&renamed).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(response.json::<Report>().await.unwrap().error.unwrap().contains("named for ENT project Z0"));
        assert_eq!(count(&mut app.conn(), "SELECT COUNT(*) AS n FROM persons"), 0);
    }
}

crate::storage_test! {
    async fn the_drop_folder_imports_each_delivery_once(db) {
        let drop = tempfile::tempdir().unwrap();
        let folder = drop.path().to_owned();
        let app = TestApp::spawn_with(&db, |config| {
            config.feed.drop_dir = Some(folder);
            config.feed.poll_interval_secs = 1;
        })
        .await;
        register_ents(&mut app.conn(), &["Z0"]);
        let inbox = drop.path().join("Z0");
        std::fs::create_dir_all(&inbox).unwrap();
        let dir = &demo_directories()[0];
        let good = write_bundle(dir, Degree::Second, &inbox);
        // A later delivery whose .md5 does not match.
        let mut name = export_name("Z0", Degree::Second);
        name.stamp = "20261126_210000".into();
        let mut writer = sesame::feed::writer::ExportWriter::bundle(&inbox, name).unwrap();
        writer.write(&dir.of_degree(Degree::Second)).unwrap();
        let bad = writer.finish().unwrap();
        std::fs::write(bad.md5.as_ref().unwrap(), "0123456789abcdef0123456789abcdef\n").unwrap();
        // An archive still uploading: no .md5 yet.
        let pending = inbox.join("Z0_GAR-ENT_Complet_20261127_210000_2D.tar.gz");
        std::fs::write(&pending, b"partial").unwrap();

        let processed = inbox.join("processed").join(sesame::feed::source::file_name(&good));
        let rejected = inbox.join("rejected").join(sesame::feed::source::file_name(&bad.paths[0]));
        for _ in 0..600 {
            if processed.exists() && rejected.exists() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(processed.exists() && rejected.exists(), "deliveries filed away");
        assert!(processed.with_file_name("Z0_GAR-ENT_Complet_20261125_210000_2D.md5").exists());
        assert!(pending.exists(), "an archive without its .md5 waits");
        assert_eq!(statuses(&mut app.conn()), ["APPLIED", "REJECTED"]);
        assert!(count(&mut app.conn(), "SELECT COUNT(*) AS n FROM persons") > 200);
        assert_eq!(count(&mut app.conn(), "SELECT COUNT(*) AS n FROM job_leases WHERE name LIKE 'feed-%'"), 0, "leases released");
    }
}
