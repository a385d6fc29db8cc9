//! The console in a real browser: headless Chromium driven through chromedriver (Debian's
//! `chromium` and `chromium-driver`, installed by `scripts/test`). A demo manager logs in, assigns
//! an INDIV resource to a class, sees the counter drop, undoes it and sees it restored. The
//! dashboard screenshot is kept as `target/console-dashboard.png`.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use sesame::store::schema::subscriptions;

use crate::common::TestApp;
use crate::ledger::COLLEGE;

/// A chromedriver process on a free port, stopped with the value.
struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    fn start() -> Self {
        let binary = which("chromedriver").expect(
            "chromedriver is not installed: run the test command from the README, which installs \
             Debian's chromium and chromium-driver",
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        driver
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|dir| Path::new(dir).join(program)).find(|p| p.is_file())
}

/// A headless Chromium session with its own profile folder, on a tablet-sized window.
async fn browser(driver: &ChromeDriver, profile: &Path) -> Client {
    let mut options = json!({
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
            format!("--user-data-dir={}", profile.display()), "--window-size=1280,1000",
        ]
    });
    if let Some(chromium) = which("chromium") {
        options["binary"] = json!(chromium);
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session with headless Chromium")
}

async fn text(client: &Client, css: &str) -> String {
    client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.unwrap().text().await.unwrap()
}

/// Waits until the element's text satisfies `ok` (pages load asynchronously after a click), and
/// returns it; fails after 10 seconds with the last text seen.
async fn text_when(client: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = String::new();
    while Instant::now() < deadline {
        // The element may belong to the page being left: a stale element is simply retried.
        if let Ok(element) = client.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if ok(&text) {
                return text;
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css}: still {last:?} after 10 s")
}

async fn click(client: &Client, css: &str) {
    client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

/// Writes the screenshot beside the build (`target/`), replacing it in one step.
fn keep_screenshot(png: &[u8], name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    std::fs::create_dir_all(&target).unwrap();
    let partial = target.join(format!("{name}.{}.partial", crate::common::random_suffix()));
    std::fs::write(&partial, png).unwrap();
    let path = target.join(name);
    std::fs::rename(&partial, &path).unwrap();
    path
}

crate::storage_test! {
    async fn a_manager_assigns_a_class_and_undoes_it_in_a_browser(db) {
        let app = TestApp::spawn_with(&db, |config| config.console.demo_login = true).await;
        sesame::demo::load(&mut app.conn()).unwrap();
        let french: i64 = subscriptions::table
            .filter(subscriptions::external_id.eq("DEMO-2026-FR3-TILLEULS"))
            .select(subscriptions::id)
            .first(&mut app.conn())
            .unwrap();
        let driver = ChromeDriver::start();
        let profile = tempfile::tempdir().unwrap();
        let client = browser(&driver, profile.path()).await;

        // Log in as the collège's head through the clearly marked demo login.
        client.goto(&format!("{}/console", app.public_url)).await.unwrap();
        click(&client, "#demo-login").await;
        assert!(text(&client, ".demo-banner").await.contains("Démonstration"));
        click(&client, "#login-z0-dir-0001").await;
        text_when(&client, "h1", |t| t == "Tableau de bord").await;
        assert_eq!(client.current_url().await.unwrap().path(), format!("/console/{COLLEGE}"));
        let png = client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        keep_screenshot(&png, "console-dashboard.png");

        // Entry by resource: the French textbook, 40 pupil licences, none used.
        click(&client, &format!("#resource-{french} .resource-name")).await;
        let pupils = format!("#pool-{french}-ELEVE .figure");
        text_when(&client, "h1", |t| t.starts_with("Français 3e")).await;
        assert_eq!(text(&client, &pupils).await, "40");

        // Preview, then assign class 3A (18 pupils).
        client.find(Locator::Css("select#cible")).await.unwrap().select_by_value("DIVISION:3A").await.unwrap();
        click(&client, "#preview-button").await;
        let preview = text_when(&client, "#preview-summary", |t| t.starts_with("Utilise")).await;
        assert!(preview.contains("il en restera 22"), "{preview}");
        click(&client, "#assign-button").await;
        text_when(&client, ".notice", |t| t.starts_with("Ressource affectée")).await;
        assert_eq!(text(&client, &pupils).await, "22", "the counter dropped by the class");

        // Undo from the history: the counter is back.
        click(&client, "nav.school a[href$='/history']").await;
        let latest = text_when(&client, "ol.history li:first-child", |t| t.contains("Classe 3A")).await;
        assert!(latest.contains("Affectation à Classe 3A"), "{latest}");
        click(&client, "ol.history li:first-child button").await;
        text_when(&client, ".notice", |t| t == "Opération annulée.").await;
        client.goto(&format!("{}/console/{COLLEGE}/resources/{french}", app.public_url)).await.unwrap();
        assert_eq!(text(&client, &pupils).await, "40", "the counter is restored");

        client.close().await.unwrap();
    }
}
