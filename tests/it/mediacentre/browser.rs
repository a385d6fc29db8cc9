//! The widget in headless Chromium, through chromedriver: the demo ENT page (served as
//! `localhost`, reading the listing from `127.0.0.1`, so the browser enforces CORS) shows the right
//! tiles for a pupil and a teacher; search, filters, favourites and the keyboard work.
//!
//! Needs `chromium` and `chromedriver` (installed by `scripts/test`; `CHROMEDRIVER` and
//! `CHROMIUM` name other binaries). Fails, rather than skips, without them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use sesame::store::widget_origins;

use super::*;

/// WebDriver key codes.
const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

/// A chromedriver process and a headless Chromium session; both end with the value.
struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn binary(variable: &str, candidates: &[&str]) -> PathBuf {
    if let Ok(path) = std::env::var(variable) {
        return PathBuf::from(path);
    }
    let found = candidates.iter().flat_map(|name| {
        std::env::var_os("PATH")
            .into_iter()
            .flat_map(move |paths| std::env::split_paths(&paths).map(move |dir| dir.join(name)).collect::<Vec<_>>())
    });
    found.into_iter().find(|p| p.is_file()).unwrap_or_else(|| {
        panic!(
            "{} not found: run ./scripts/test (it installs chromium and chromium-driver) or set {variable}",
            candidates[0]
        )
    })
}

impl Browser {
    async fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(binary("CHROMEDRIVER", &["chromedriver"]))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": binary("CHROMIUM", &["chromium", "chromium-browser"]),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                    "--window-size=1280,900", format!("--user-data-dir={}", profile.path().display()),
                ],
            }
        });
        let capabilities = capabilities.as_object().unwrap().clone();
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() > deadline => panic!("no WebDriver session: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        Self { client, driver, _profile: profile }
    }

    async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// Opens a page and waits for the widget to finish loading; returns its `data-state`.
    async fn open(&self, url: &str) -> String {
        self.client.goto(url).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let state = self
                .js("const w = document.querySelector('sesame-mediacentre'); return w && w.getAttribute('data-state');")
                .await;
            if let Some(state) = state.as_str().filter(|s| *s != "loading") {
                return state.to_owned();
            }
            assert!(Instant::now() < deadline, "the widget did not load {url}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `data-id` of the tiles shown, in order.
    async fn tiles(&self) -> Vec<String> {
        let ids = self.js("return [...document.querySelector('sesame-mediacentre').shadowRoot.querySelectorAll('li.tile')].map(li => li.dataset.id);").await;
        serde_json::from_value(ids).unwrap()
    }

    /// Describes the focused element inside the widget.
    async fn focused(&self) -> String {
        self.js("const a = document.querySelector('sesame-mediacentre').shadowRoot.activeElement; \
                 return a ? (a.tagName + ' ' + (a.getAttribute('name') || a.getAttribute('aria-label') || a.textContent)) : 'none';")
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Real key presses, delivered to whatever has the focus (inside the shadow root included).
    async fn type_keys(&self, keys: &str) {
        let mut actions = KeyActions::new("keyboard".into());
        for key in keys.chars() {
            actions = actions.then(KeyAction::Down { value: key }).then(KeyAction::Up { value: key });
        }
        self.client.perform_actions(actions).await.unwrap();
    }

    async fn end(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

crate::storage_test! {
    async fn the_demo_ent_page_shows_each_users_tiles_and_filters_work(db) {
        let demo = Demo::start_with(&db, |config| config.mediacentre.demo_page = true).await;
        let port = url::Url::parse(&demo.app.public_url).unwrap().port().unwrap();
        let page = format!("http://localhost:{port}");
        for ent in ["Z0", "Z1"] {
            widget_origins::add(&mut demo.app.conn(), ent, &page).unwrap();
        }
        let pupil = person(&mut demo.app.conn(), COLLEGE, "National_elv", Some("6A"));
        let teacher = "z0-ens-0001";
        let api = |gar_id: String| {
            let demo = &demo;
            async move { demo.listing(&demo.z0, &format!("/ressources/Z0/-/{gar_id}"), &[]).await.resource_ids() }
        };
        let browser = Browser::start().await;

        // A pupil: exactly what the API lists for them.
        assert_eq!(browser.open(&format!("{page}/demo/ent?persona=Z0:{pupil}")).await, "ready");
        let tiles = browser.tiles().await;
        assert_eq!(sorted(tiles.clone()), sorted(api(pupil.clone()).await));
        assert_eq!(tiles, ["ark:/99999/demo.encyclopedie", "ark:/99999/demo.maths6"]);
        let link = browser.js("const a = document.querySelector('sesame-mediacentre').shadowRoot.querySelector('li.tile a.open'); \
                               return [a.getAttribute('href'), a.target, a.rel];").await;
        assert!(link[0].as_str().unwrap().starts_with(&format!("{}/domaineGar?idENT=WjA=", demo.app.public_url)), "{link}");
        assert_eq!((&link[1], &link[2]), (&json!("_blank"), &json!("noopener")));

        // A teacher: their personal manual too.
        assert_eq!(browser.open(&format!("{page}/demo/ent?persona=Z0:{teacher}")).await, "ready");
        let tiles = browser.tiles().await;
        assert_eq!(sorted(tiles.clone()), sorted(api(teacher.to_owned()).await));
        assert!(tiles.contains(&"ark:/99999/demo.francais3".to_owned()), "{tiles:?}");
        let png = browser.client.screenshot().await.unwrap();
        let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/mediacentre-widget-{}.png", db.backend()));
        std::fs::write(&shot, png).unwrap();

        // Text search, typed for real, accents ignored.
        browser.js("document.querySelector('sesame-mediacentre').shadowRoot.querySelector('input[name=text]').focus();").await;
        browser.type_keys("francais").await;
        assert_eq!(browser.tiles().await, ["ark:/99999/demo.francais3"]);
        let count = browser.js("return document.querySelector('sesame-mediacentre').shadowRoot.querySelector('.count').textContent;").await;
        assert_eq!(count, "1 ressource sur 3");
        browser.js("const i = document.querySelector('sesame-mediacentre').shadowRoot.querySelector('input[name=text]'); \
                    i.value = ''; i.dispatchEvent(new Event('input'));").await;

        // Filters: presentation type, level, teaching domain.
        let choose = |name: &str, value: &str| format!(
            "const s = document.querySelector('sesame-mediacentre').shadowRoot.querySelector('select[name={name}]'); \
             s.value = {value:?}; s.dispatchEvent(new Event('change'));");
        browser.js(&choose("type", "DIC")).await;
        assert_eq!(browser.tiles().await, ["ark:/99999/demo.encyclopedie"]);
        browser.js(&choose("type", "")).await;
        browser.js(&choose("level", "6e")).await;
        assert_eq!(browser.tiles().await, ["ark:/99999/demo.maths6"]);
        browser.js(&choose("level", "")).await;
        browser.js(&choose("domain", "français (cycle 4)")).await;
        assert_eq!(browser.tiles().await, ["ark:/99999/demo.francais3"]);
        browser.js(&choose("domain", "")).await;
        assert_eq!(browser.tiles().await.len(), 3);

        // The keyboard: from the search field, Tab walks the filters, then the first tile's link and star.
        browser.js("document.querySelector('sesame-mediacentre').shadowRoot.querySelector('input[name=text]').focus();").await;
        let mut walked = Vec::new();
        for _ in 0..6 {
            browser.type_keys(TAB).await;
            walked.push(browser.focused().await);
        }
        assert!(walked[0].starts_with("SELECT type"), "{walked:?}");
        assert!(walked[3].starts_with("BUTTON"), "the favourites toggle: {walked:?}");
        assert!(walked[4].starts_with("A Encyclopédie Démo"), "the first tile's link: {walked:?}");
        assert!(walked[5].starts_with("BUTTON Ajouter « Encyclopédie Démo » aux favoris"), "{walked:?}");
        // Enter on a star makes a favourite: listed first, kept in the browser across reloads.
        browser.type_keys(ENTER).await;
        assert!(browser.focused().await.starts_with("BUTTON Retirer « Encyclopédie Démo » des favoris"));
        let manual = browser.js("return [...document.querySelector('sesame-mediacentre').shadowRoot.querySelectorAll('li.tile')]\
            .find(li => li.dataset.id === 'ark:/99999/demo.maths6').querySelector('.fav').focus();").await;
        assert_eq!(manual, Value::Null);
        browser.type_keys(ENTER).await;
        // Favourites first (by title), then the others: "Français 3e" comes after "Mathématiques 6e".
        let favourites_first = ["ark:/99999/demo.encyclopedie", "ark:/99999/demo.maths6", "ark:/99999/demo.francais3"];
        assert_eq!(browser.tiles().await, favourites_first);
        assert_eq!(browser.open(&format!("{page}/demo/ent?persona=Z0:{teacher}")).await, "ready");
        assert_eq!(browser.tiles().await, favourites_first);
        browser.js("document.querySelector('sesame-mediacentre').shadowRoot.querySelector('button.toggle').click();").await;
        assert_eq!(sorted(browser.tiles().await), ["ark:/99999/demo.encyclopedie", "ark:/99999/demo.maths6"]);

        // An école pupil of the other ENT project.
        let ecole_pupil = person(&mut demo.app.conn(), ECOLE, "National_elv", None);
        assert_eq!(browser.open(&format!("{page}/demo/ent?persona=Z1:{ecole_pupil}")).await, "ready");
        assert_eq!(browser.tiles().await, ["ark:/99999/demo.dicojunior"]);

        // Once the project withdraws the page's origin, the browser itself refuses the answer.
        widget_origins::remove(&mut demo.app.conn(), "Z0", &page).unwrap();
        assert_eq!(browser.open(&format!("{page}/demo/ent?persona=Z0:{pupil}")).await, "error");
        assert!(browser.tiles().await.is_empty());
        browser.end().await;
    }
}
