//! Builds the application: storage, TLS material, both listeners.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use tracing_actix_web::TracingLogger;

use super::logging::RequestSpan;
use super::metrics::Metrics;
use super::tls::{self, TlsFiles};
use super::{caller, debug, health};
use crate::config::Config;
use crate::domain::pseudonym::Pseudonyms;
use crate::feed::drop_folder::DropFolder;
use crate::pki::{KeyMaterial, KeyPaths, LocalAuthority, PkiError, TlsPaths};
use crate::sso::{self, saml::SamlContext, saml::keys::KeyError};
use crate::store::{self, AnyConnection, Pool, StoreError};
use crate::subscriptions;

/// Shared by every request handler.
pub struct AppState {
    pub config: Arc<Config>,
    pub pool: Pool,
    /// Signing key and pseudonym secret, loaded once at start.
    pub keys: Arc<KeyMaterial>,
    pub pseudonyms: Arc<Pseudonyms>,
    /// SAML endpoints, parsed signing keys, signature verifier.
    pub saml: Arc<SamlContext>,
    /// One permit per pooled connection: requests beyond the pool wait here, asynchronously,
    /// rather than as parked blocking threads contending for the pool's lock.
    pub db_permits: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// Runs blocking database work on the blocking thread pool, never on an actix worker.
    pub async fn store<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self.db_permits.acquire().await.map_err(|_| StoreError::Cancelled)?;
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || work(&mut *pool.get()?)).await.map_err(|_| StoreError::Cancelled)?
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("signing keys unusable: {0}")]
    Keys(#[from] KeyError),
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("metrics setup failed: {0}")]
    Metrics(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// A built, not yet running, Sesame node.
pub struct Application {
    public_addr: SocketAddr,
    mtls_addr: SocketAddr,
    public: Server,
    mtls: Server,
    pool: Pool,
    state: web::Data<AppState>,
    /// Watches `feed.drop_dir`; stops with the node.
    drop_folder: Option<DropFolder>,
}

impl Application {
    /// Connects to the database (applying migrations), prepares TLS and binds both listeners.
    pub fn build(config: Config) -> Result<Self, StartError> {
        tls::install_crypto_provider();
        let url = config.database_url();
        let pool = url.pool(config.database.pool_size)?;
        let applied = store::run_migrations(&mut *pool.get().map_err(StoreError::from)?)?;
        tracing::info!(backend = %url.backend(), applied, "database ready");
        Self::build_with_pool(config, pool)
    }

    /// As `build`, on an existing pool whose schema is current.
    pub fn build_with_pool(mut config: Config, pool: Pool) -> Result<Self, StartError> {
        tls::install_crypto_provider();
        let tls_material = TlsMaterial::prepare(&config)?;
        let public_listener = bind(config.http.public_addr)?;
        let public_addr = public_listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr: config.http.public_addr, source })?;
        if config.http.public_url.is_none() {
            // Links handed out (entry URLs, widget endpoints) must carry the port actually bound.
            let scheme = if config.http.public_tls { "https" } else { "http" };
            config.http.public_url = Some(format!("{scheme}://{public_addr}"));
        }
        let keys = KeyMaterial::load_or_create(&KeyPaths::in_data_dir(&config.data_dir))?;
        let pseudonyms = Arc::new(Pseudonyms::new(&keys.pseudonym_secret));
        let saml = Arc::new(SamlContext::new(&config, &keys)?);
        let config = Arc::new(config);
        let db_permits = Arc::new(tokio::sync::Semaphore::new(pool.max_size() as usize));
        let state = web::Data::new(AppState {
            config: config.clone(),
            pool: pool.clone(),
            keys: Arc::new(keys),
            pseudonyms,
            saml,
            db_permits,
        });
        let metrics = Metrics::new(pool.clone())?;
        let shutdown = Duration::from_secs(config.http.shutdown_timeout_secs);
        let workers = if config.http.workers == 0 { num_workers() } else { config.http.workers };

        let (public_state, public_metrics, debug_routes) = (state.clone(), metrics.public, config.debug.wait_route);
        let public = HttpServer::new(move || {
            App::new()
                .app_data(public_state.clone())
                .wrap(public_metrics.clone())
                .wrap(TracingLogger::<RequestSpan>::new())
                .configure(health::configure)
                .configure(sso::configure_public)
                .configure(crate::assignments::configure_public)
                .configure(crate::mediacentre::configure_public)
                .configure(|cfg| {
                    if debug_routes {
                        debug::configure(cfg);
                    }
                })
        })
        .workers(workers)
        .shutdown_timeout(shutdown.as_secs())
        .disable_signals();
        let public = if config.http.public_tls {
            public.listen_rustls_0_23(public_listener, tls::public_config(&tls_material.files())?)
        } else {
            public.listen(public_listener)
        }
        .map_err(|source| StartError::Bind { addr: public_addr, source })?
        .run();

        let mtls_listener = bind(config.http.mtls_addr)?;
        let mtls_addr =
            mtls_listener.local_addr().map_err(|source| StartError::Bind { addr: config.http.mtls_addr, source })?;
        let (mtls_state, mtls_metrics) = (state.clone(), metrics.mtls);
        let mtls = HttpServer::new(move || {
            App::new()
                .app_data(mtls_state.clone())
                .wrap(mtls_metrics.clone())
                .wrap(TracingLogger::<RequestSpan>::new())
                .configure(health::configure)
                .configure(caller::configure)
                .configure(crate::audit::configure_mtls)
                .configure(subscriptions::configure_mtls)
                .configure(crate::feed::configure_mtls)
                .configure(crate::mediacentre::configure_mtls)
        })
        .workers(workers)
        .shutdown_timeout(shutdown.as_secs())
        .disable_signals()
        // Must come before binding, or the hook does not apply to the listener.
        .on_connect(caller::on_connect)
        .listen_rustls_0_23(mtls_listener, tls::mtls_config(&tls_material.files())?)
        .map_err(|source| StartError::Bind { addr: mtls_addr, source })?
        .run();

        let drop_folder = DropFolder::start(config.clone(), state.pseudonyms.clone());
        Ok(Self { public_addr, mtls_addr, public, mtls, pool, state, drop_folder })
    }

    pub fn public_addr(&self) -> SocketAddr {
        self.public_addr
    }

    pub fn mtls_addr(&self) -> SocketAddr {
        self.mtls_addr
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Handles to stop both listeners gracefully (tests, embedding).
    pub fn handles(&self) -> [ServerHandle; 2] {
        [self.public.handle(), self.mtls.handle()]
    }

    /// Serves until SIGTERM/SIGINT (or a handle's stop), letting in-flight requests finish.
    ///
    /// Signals are handled here rather than by actix: its handler stops the whole runtime as soon
    /// as one server is done, which would cut the other listener's in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handles = self.handles();
        let on_signal = actix_web::rt::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutdown requested; finishing in-flight requests");
            let [public, mtls] = handles;
            tokio::join!(public.stop(true), mtls.stop(true));
        });
        let mut jobs = crate::audit::jobs::spawn(self.state.clone());
        jobs.extend(sso::refresh::spawn(self.state.clone()));
        let (public, mtls) = tokio::join!(self.public, self.mtls);
        on_signal.abort();
        jobs.iter().for_each(|job| job.abort());
        drop(self.drop_folder);
        public.and(mtls)
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops Sesame");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr).map_err(|source| StartError::Bind { addr, source })
}

fn num_workers() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}

/// Server certificate and client CAs, from the configuration or generated in the data folder.
struct TlsMaterial {
    cert: PathBuf,
    key: PathBuf,
    client_cas: Vec<PathBuf>,
}

impl TlsMaterial {
    fn prepare(config: &Config) -> Result<Self, StartError> {
        let generated = TlsPaths::in_data_dir(&config.data_dir);
        let needs_local_ca = config.tls.cert.is_none() || config.tls.client_ca.is_empty();
        if needs_local_ca {
            LocalAuthority::load_or_create(&generated, &server_names(config))?;
        }
        let (cert, key) = match (&config.tls.cert, &config.tls.key) {
            (Some(cert), Some(key)) => (cert.clone(), key.clone()),
            _ => (generated.server_cert, generated.server_key),
        };
        let client_cas =
            if config.tls.client_ca.is_empty() { vec![generated.ca_cert] } else { config.tls.client_ca.clone() };
        Ok(Self { cert, key, client_cas })
    }

    fn files(&self) -> TlsFiles<'_> {
        TlsFiles { cert: &self.cert, key: &self.key, client_cas: &self.client_cas }
    }
}

/// Names the development server certificate is valid for.
pub fn server_names(config: &Config) -> Vec<String> {
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    for addr in [config.http.public_addr, config.http.mtls_addr] {
        let ip = addr.ip();
        if !ip.is_unspecified() && !names.contains(&ip.to_string()) {
            names.push(ip.to_string());
        }
    }
    let public_host = config.http.public_url.as_deref().and_then(|u| url::Url::parse(u).ok());
    if let Some(host) = public_host.as_ref().and_then(|u| u.host_str())
        && !names.iter().any(|n| n == host)
    {
        names.push(host.to_owned());
    }
    names
}
