//! Test harness: a real Sesame node on real databases, reached over real (m)TLS.
//!
//! Every storage test runs once per backend through `storage_test!`, which expands to a
//! `sqlite` and a `postgres` test function, so the output names the backend of each run.
//! PostgreSQL tests need `TEST_POSTGRES_URL` (an admin URL of a throwaway server); the
//! README test command starts one. Without it they fail rather than silently pass.

use std::path::Path;

use diesel::connection::SimpleConnection;
use sesame::config::Config;
use sesame::http::Application;
use sesame::pki::{LocalAuthority, TlsPaths};
use sesame::store::partners::{self, CallerKind};
use sesame::store::{self, AnyConnection, Backend, DatabaseUrl, Pool};
use tempfile::TempDir;

/// A fresh, empty database of one backend, dropped with the value.
pub struct TestDb {
    pub url: DatabaseUrl,
    _dir: Option<TempDir>,
    pg_cleanup: Option<(String, String)>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = DatabaseUrl::Sqlite(dir.path().join("test.sqlite3"));
                Self { url, _dir: Some(dir), pg_cleanup: None }
            }
            Backend::Postgresql => {
                let admin = std::env::var("TEST_POSTGRES_URL").expect(
                    "TEST_POSTGRES_URL is not set: run the test command from the README, \
                     which starts a throwaway PostgreSQL",
                );
                let name = format!("sesame_test_{}", random_suffix());
                admin_conn(&admin).batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
                let mut url = url::Url::parse(&admin).unwrap();
                url.set_path(&name);
                Self { url: DatabaseUrl::parse(url.as_str()).unwrap(), _dir: None, pg_cleanup: Some((admin, name)) }
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// A migrated connection.
    pub fn connect(&self) -> AnyConnection {
        let mut conn = self.url.connect().unwrap();
        store::run_migrations(&mut conn).unwrap();
        conn
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg_cleanup {
            let _ = admin_conn(admin).batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

fn admin_conn(admin: &str) -> AnyConnection {
    DatabaseUrl::parse(admin).unwrap().connect().unwrap()
}

pub fn random_suffix() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("{n:016x}")
}

/// Runs the body once on SQLite and once on PostgreSQL, as `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! storage_test {
    (async fn $name:ident($db:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[actix_web::test]
            async fn sqlite() {
                let $db = $crate::common::TestDb::new(sesame::store::Backend::Sqlite);
                $body
            }
            #[actix_web::test]
            async fn postgres() {
                let $db = $crate::common::TestDb::new(sesame::store::Backend::Postgresql);
                $body
            }
        }
    };
    (fn $name:ident($db:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn sqlite() {
                let $db = $crate::common::TestDb::new(sesame::store::Backend::Sqlite);
                $body
            }
            #[test]
            fn postgres() {
                let $db = $crate::common::TestDb::new(sesame::store::Backend::Postgresql);
                $body
            }
        }
    };
}

/// Configuration for a node on ephemeral ports with its own data folder.
pub fn test_config(data_dir: &std::path::Path, db: &TestDb) -> Config {
    let mut config = Config { data_dir: data_dir.to_owned(), ..Config::default() };
    config.database.url = Some(db.url.expose());
    config.database.pool_size = 4;
    config.http.public_addr = "127.0.0.1:0".parse().unwrap();
    config.http.mtls_addr = "127.0.0.1:0".parse().unwrap();
    config.http.workers = 1;
    config.http.shutdown_timeout_secs = 5;
    // The retention job would purge old or expired rows a test set up; tests that need it turn it on.
    config.retention.enabled = false;
    config
}

/// A running node. Servers stop when the test's runtime ends.
pub struct TestApp {
    pub public_url: String,
    pub mtls_url: String,
    pub config: Config,
    pub pool: Pool,
    _data_dir: TempDir,
}

impl TestApp {
    pub async fn spawn(db: &TestDb) -> Self {
        Self::spawn_with(db, |_| {}).await
    }

    pub async fn spawn_with(db: &TestDb, adjust: impl FnOnce(&mut Config)) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let mut config = test_config(data_dir.path(), db);
        adjust(&mut config);
        let app = Application::build(config.clone()).expect("application builds");
        let public_url = format!("http://{}", app.public_addr());
        // As the node runs it: without a configured public URL, it uses the port it bound.
        config.http.public_url.get_or_insert_with(|| public_url.clone());
        let mtls_url = format!("https://localhost:{}", app.mtls_addr().port());
        let pool = app.pool().clone();
        actix_web::rt::spawn(app.run_until_stopped());
        Self { public_url, mtls_url, config, pool, _data_dir: data_dir }
    }

    pub fn conn(&self) -> store::PooledConnection {
        self.pool.get().unwrap()
    }

    fn tls_paths(&self) -> TlsPaths {
        TlsPaths::in_data_dir(&self.config.data_dir)
    }

    fn authority(&self) -> LocalAuthority {
        LocalAuthority::load_or_create(&self.tls_paths(), &[]).unwrap()
    }

    /// A client trusting the node's CA, presenting no certificate.
    pub fn anonymous_client(&self) -> reqwest::Client {
        client_builder(&self.tls_paths().ca_cert).build().unwrap()
    }

    /// A client presenting a fresh certificate from the node's CA, registered for `owner`.
    pub fn registered_client(&self, kind: CallerKind, owner: &str) -> reqwest::Client {
        let issued = self.authority().issue_client(&format!("test {owner}")).unwrap();
        partners::register_certificate(&mut self.conn(), &issued.info, kind, owner).unwrap();
        self.client_with(&issued.cert_pem, &issued.key_pem)
    }

    /// A client presenting a valid certificate from the node's CA that was never registered.
    pub fn unregistered_client(&self, common_name: &str) -> reqwest::Client {
        let issued = self.authority().issue_client(common_name).unwrap();
        self.client_with(&issued.cert_pem, &issued.key_pem)
    }

    /// A client presenting a certificate from a CA the node does not trust.
    pub fn foreign_client(&self) -> reqwest::Client {
        let elsewhere = tempfile::tempdir().unwrap();
        let foreign = LocalAuthority::load_or_create(&TlsPaths::in_data_dir(elsewhere.path()), &[]).unwrap();
        let issued = foreign.issue_client("test intruder").unwrap();
        self.client_with(&issued.cert_pem, &issued.key_pem)
    }

    pub fn client_with(&self, cert_pem: &str, key_pem: &str) -> reqwest::Client {
        let identity = reqwest::Identity::from_pem(format!("{cert_pem}\n{key_pem}").as_bytes()).unwrap();
        client_builder(&self.tls_paths().ca_cert).identity(identity).build().unwrap()
    }
}

fn client_builder(ca: &Path) -> reqwest::ClientBuilder {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap();
    reqwest::Client::builder().tls_certs_only([ca]).timeout(std::time::Duration::from_secs(30))
}

/// Partners most tests need.
pub fn seed_partners(conn: &mut AnyConnection) {
    partners::insert_ent_project(conn, "Z0", "ENT Test").unwrap();
    partners::insert_distributor(conn, "123456789_0000000000000000", "Distributeur Test").unwrap();
}

pub const DISTRIBUTOR: &str = "123456789_0000000000000000";
