//! `sesame serve`, `sesame migrate` and `sesame demo`.

use std::path::PathBuf;

use anyhow::Context;

use super::certs::issue_and_register;
use crate::config::Config;
use crate::demo;
use crate::domain::pseudonym::Pseudonyms;
use crate::http::Application;
use crate::pki::{KeyMaterial, KeyPaths, TlsPaths};
use crate::store::{self, DatabaseUrl, widget_origins};

pub(super) fn serve(config: Config) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config.clone())?;
        print_listeners(&config, &app);
        app.run_until_stopped().await?;
        Ok(())
    })
}

/// Printed on stdout so scripts (and tests) learn the bound ports.
fn print_listeners(config: &Config, app: &Application) {
    println!("public listener: {}", public_base(config, app));
    println!("mTLS listener: https://{}", app.mtls_addr());
}

fn public_base(config: &Config, app: &Application) -> String {
    format!("http{}://{}", if config.http.public_tls { "s" } else { "" }, app.public_addr())
}

pub(super) fn migrate(config: &Config) -> anyhow::Result<()> {
    let url = config.database_url();
    let applied = store::run_migrations(&mut url.connect()?)?;
    println!("{url}: {applied} migration(s) applied");
    Ok(())
}

/// `sesame demo`: always a fresh embedded database, whatever `database.url` says.
pub(super) fn demo(mut config: Config) -> anyhow::Result<()> {
    let db = config.data_dir.join("demo.sqlite3");
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        if path.exists() {
            std::fs::remove_file(&path)?;
        }
    }
    config.database.url = Some(DatabaseUrl::Sqlite(db).to_string());
    // The demo, and only the demo, lets anyone log in to the console as any manager.
    config.console.demo_login = true;
    config.mediacentre.demo_page = true;
    let mut conn = config.database_url().connect()?;
    store::run_migrations(&mut conn)?;
    // The node's own secret, so the demo's audit events name people as the node will.
    let keys = KeyMaterial::load_or_create(&KeyPaths::in_data_dir(&config.data_dir))?;
    let loaded = demo::load_with(&mut conn, &Pseudonyms::new(&keys.pseudonym_secret))
        .context("loading the demo académie failed")?;
    println!("Demo académie loaded into {}:\n{loaded}", config.database_url());

    let clients = config.data_dir.join("demo-clients");
    let mut certificates = Vec::new();
    for (kind, owner) in loaded.callers() {
        certificates.push(issue_and_register(&config, &mut conn, kind, &owner, &clients, true)?);
    }
    drop(conn);

    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config.clone())?;
        let ent_page = allow_demo_ent_page(&config, &app, &loaded.ents)?;
        print_listeners(&config, &app);
        print_demo_urls(&config, &app, &certificates, &ent_page);
        app.run_until_stopped().await?;
        Ok(())
    })
}

/// The demo ENT page is opened as `localhost` while Sesame's public URL names the IP address, so
/// the page and the listing are different origins, as on a real ENT; every demo ENT allows it.
fn allow_demo_ent_page(config: &Config, app: &Application, ents: &[String]) -> anyhow::Result<String> {
    let page =
        format!("http{}://localhost:{}", if config.http.public_tls { "s" } else { "" }, app.public_addr().port());
    let mut conn = config.database_url().connect()?;
    for ent in ents {
        widget_origins::add(&mut conn, ent, &page)?;
    }
    Ok(page)
}

fn print_demo_urls(config: &Config, app: &Application, certificates: &[(PathBuf, PathBuf)], ent_page: &str) {
    let public = public_base(config, app);
    let ca = TlsPaths::in_data_dir(&config.data_dir).ca_cert;
    println!("\nAssignment console (demo login, no single sign-on): {public}/console");
    println!("\nTry:");
    for path in ["/healthz", "/readyz", "/metrics"] {
        println!("  curl {public}{path}");
    }
    for (cert, key) in certificates {
        println!(
            "  curl --cacert {} --cert {} --key {} https://{}/v1/whoami",
            ca.display(),
            cert.display(),
            key.display(),
            app.mtls_addr()
        );
    }
    println!("\nDemo ENT page with the médiacentre widget: {ent_page}/demo/ent");
    println!("\nStop with Ctrl-C.");
}
