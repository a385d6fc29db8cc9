//! Who is calling on the mutual-TLS listener.
//!
//! The TLS handshake already proved the client holds a certificate from a trusted CA; here the
//! leaf is matched to a registered ENT project or distributor. A handler that takes `Caller`,
//! `EntCaller` or `DistributorCaller` cannot run for an unknown certificate.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;

use actix_tls::accept::rustls_0_23::TlsStream;
use actix_web::dev::{Extensions, Payload};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;
use tokio::net::TcpStream;

use super::server::AppState;
use crate::config::IdentifyBy;
use crate::pki::CertificateInfo;
use crate::store::partners::{self, CallerKind, CertificateKey, RegisteredCaller};
use crate::store::{AnyConnection, StoreError};

/// The verified leaf certificate of the connection, stored when the connection opens.
#[derive(Clone, Debug)]
pub struct PeerCertificate(pub CertificateInfo);

/// `HttpServer::on_connect` hook for the mTLS listener. TLS lists the leaf first.
pub fn on_connect(conn: &dyn Any, ext: &mut Extensions) {
    let Some(tls) = conn.downcast_ref::<TlsStream<TcpStream>>() else { return };
    let leaf = tls.get_ref().1.peer_certificates().and_then(|chain| chain.first());
    if let Some(info) = leaf.and_then(|der| CertificateInfo::from_der(der).ok()) {
        ext.insert(PeerCertificate(info));
    }
}

/// A registered server-to-server caller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Caller {
    pub kind: CallerKind,
    pub id: String,
    pub name: String,
}

/// A caller known to be the given ENT project.
#[derive(Clone, Debug)]
pub struct EntCaller(pub Caller);

/// A caller known to be the given distributor.
#[derive(Clone, Debug)]
pub struct DistributorCaller(pub Caller);

#[derive(Debug, thiserror::Error)]
pub enum CallerError {
    #[error("a client certificate is required")]
    NoCertificate,
    #[error("this client certificate is not registered with Sesame")]
    Unregistered,
    #[error("this client certificate does not belong to {0}")]
    WrongKind(&'static str),
    #[error("caller identity could not be checked")]
    Store(#[from] StoreError),
}

impl ResponseError for CallerError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NoCertificate => StatusCode::UNAUTHORIZED,
            Self::Unregistered | Self::WrongKind(_) => StatusCode::FORBIDDEN,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Store(e) = self {
            tracing::error!(error = %e, "caller lookup failed");
        }
        HttpResponse::build(self.status_code()).json(serde_json::json!({ "error": self.to_string() }))
    }
}

impl Caller {
    async fn resolve(req: &HttpRequest) -> Result<Self, CallerError> {
        let found = find_owner(req, partners::find_caller).await?;
        let RegisteredCaller { kind, id, name } = found.ok_or(CallerError::Unregistered)?;
        Ok(Self { kind, id, name })
    }

    /// The registered caller a verified certificate belongs to, looked up on `conn`: for handlers
    /// that identify their caller in the same database round trip as their own work.
    pub fn find(
        conn: &mut AnyConnection,
        identify_by: IdentifyBy,
        info: &CertificateInfo,
    ) -> Result<Option<Self>, StoreError> {
        let found = partners::find_caller(conn, certificate_key(identify_by, info))?;
        Ok(found.map(|RegisteredCaller { kind, id, name }| Self { kind, id, name }))
    }
}

/// How `tls.identify_by` looks a certificate up.
fn certificate_key(identify_by: IdentifyBy, info: &CertificateInfo) -> CertificateKey<'_> {
    match identify_by {
        IdentifyBy::Fingerprint => CertificateKey::Fingerprint(&info.fingerprint),
        IdentifyBy::Subject => CertificateKey::Subject(&info.subject),
    }
}

/// Looks the connection's verified certificate up with `find`, by fingerprint or by subject as
/// `tls.identify_by` says: `None` when it is registered to no owner `find` knows.
pub async fn find_owner<T: Send + 'static>(
    req: &HttpRequest,
    find: fn(&mut AnyConnection, CertificateKey<'_>) -> Result<Option<T>, StoreError>,
) -> Result<Option<T>, CallerError> {
    let Some(PeerCertificate(info)) = req.conn_data::<PeerCertificate>().cloned() else {
        return Err(CallerError::NoCertificate);
    };
    let state = req.app_data::<web::Data<AppState>>().expect("AppState is registered").clone();
    let identify_by = state.config.tls.identify_by;
    let found = state.store(move |conn| find(conn, certificate_key(identify_by, &info))).await?;
    Ok(found)
}

type Resolving<T> = Pin<Box<dyn Future<Output = Result<T, CallerError>>>>;

impl FromRequest for Caller {
    type Error = CallerError;
    type Future = Resolving<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Caller::resolve(&req).await })
    }
}

impl FromRequest for EntCaller {
    type Error = CallerError;
    type Future = Resolving<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let caller = Caller::resolve(&req).await?;
            match caller.kind {
                CallerKind::Ent => Ok(EntCaller(caller)),
                CallerKind::Distributor => Err(CallerError::WrongKind("an ENT project")),
            }
        })
    }
}

impl FromRequest for DistributorCaller {
    type Error = CallerError;
    type Future = Resolving<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let caller = Caller::resolve(&req).await?;
            match caller.kind {
                CallerKind::Distributor => Ok(DistributorCaller(caller)),
                CallerKind::Ent => Err(CallerError::WrongKind("a distributor")),
            }
        })
    }
}

/// `GET /v1/whoami`: lets a partner check its certificate is set up before real traffic.
async fn whoami(caller: Caller, req: HttpRequest) -> HttpResponse {
    let cert = req.conn_data::<PeerCertificate>().map(|p| &p.0);
    HttpResponse::Ok().json(serde_json::json!({
        "kind": caller.kind,
        "id": caller.id,
        "name": caller.name,
        "certificate": cert.map(|c| serde_json::json!({
            "subject": c.subject,
            "fingerprint": c.fingerprint,
            "notAfter": c.not_after.and_utc().to_rfc3339(),
        })),
    }))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/whoami", web::get().to(whoami));
}
