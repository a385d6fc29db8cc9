//! Browser sessions: a random token in an HttpOnly, SameSite=Lax cookie (Secure when browsers
//! reach Sesame over HTTPS); the database keeps only its SHA-256, so any node serves any session.
//!
//! State-changing requests carry a CSRF token derived from the session token: a page embeds it in
//! its forms, an API client reads it from `GET /console/api/v1/session` and sends `X-CSRF-Token`.
//! Another site can neither read it nor compute it.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use aws_lc_rs::{constant_time, digest};
use base64::Engine;
use chrono::{TimeDelta, Utc};
use rand::RngCore;

use super::server::AppState;
use crate::config::Config;
use crate::domain::Uai;
use crate::store::StoreError;
use crate::store::managers::{self, Manager};
use crate::store::sessions::{self, Session, SessionKind};

/// The cookie that carries a session of each kind, and the paths it is sent to.
fn cookie_of(kind: SessionKind) -> (&'static str, &'static str) {
    match kind {
        SessionKind::Console => ("sesame_console", "/console"),
        SessionKind::Launch => ("sesame_launch", "/"),
    }
}

/// Header an API client sends its CSRF token in.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// 256 random bits, URL-safe base64.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn sha256_hex(label: &str, token: &str) -> String {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(label.as_bytes());
    context.update(token.as_bytes());
    hex::encode(context.finish())
}

/// What `web_sessions.id` stores for a token.
pub fn token_hash(token: &str) -> String {
    sha256_hex("", token)
}

/// The CSRF token of a session: only the holder of the session token can compute it.
fn csrf_token(token: &str) -> String {
    sha256_hex("sesame csrf\0", token)
}

/// Whether browsers reach the public listener over HTTPS (directly or through a proxy).
fn secure(config: &Config) -> bool {
    config.http.public_tls || config.public_url().starts_with("https://")
}

/// Opens a session for `(ent_id, gar_id)` and returns the cookie that carries it.
pub async fn open(
    state: &AppState,
    kind: SessionKind,
    ent_id: &str,
    gar_id: &str,
) -> Result<Cookie<'static>, StoreError> {
    let token = new_token();
    let minutes = lifetime_minutes(&state.config, kind);
    let now = Utc::now().naive_utc();
    let session = Session {
        ent_id: ent_id.to_owned(),
        gar_id: gar_id.to_owned(),
        expires_at: now + TimeDelta::minutes(i64::from(minutes)),
    };
    let hash = token_hash(&token);
    state
        .store(move |conn| {
            // Opening a session is a good moment to forget expired ones; no job needed.
            sessions::purge_expired(conn, now)?;
            sessions::insert(conn, &hash, kind, &session, now)
        })
        .await?;
    let (name, path) = cookie_of(kind);
    Ok(Cookie::build(name, token)
        .path(path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(&state.config))
        .max_age(CookieDuration::minutes(i64::from(minutes)))
        .finish())
}

/// How long a session of `kind` lasts: `console.session_minutes`, or `saml.session_hours` for
/// sign-on to resources.
pub fn lifetime_minutes(config: &Config, kind: SessionKind) -> u32 {
    match kind {
        SessionKind::Console => config.console.session_minutes,
        SessionKind::Launch => config.saml.session_hours.saturating_mul(60),
    }
}

/// The request's open session of that kind, if any.
pub async fn current(state: &AppState, req: &HttpRequest, kind: SessionKind) -> Result<Option<Session>, StoreError> {
    let (name, _) = cookie_of(kind);
    let Some(cookie) = req.cookie(name) else { return Ok(None) };
    let hash = token_hash(cookie.value());
    state.store(move |conn| sessions::find(conn, &hash, kind, Utc::now().naive_utc())).await
}

/// Ends the request's session of that kind, if any, and returns the cookie that erases it.
pub async fn close(state: &AppState, req: &HttpRequest, kind: SessionKind) -> Result<Cookie<'static>, StoreError> {
    let (name, path) = cookie_of(kind);
    if let Some(cookie) = req.cookie(name) {
        let hash = token_hash(cookie.value());
        state.store(move |conn| sessions::delete(conn, &hash)).await?;
    }
    let mut removal = Cookie::build(name, "").path(path).finish();
    removal.make_removal();
    Ok(removal)
}

/// An assignment manager with an open console session, and the schools they manage.
#[derive(Clone, Debug)]
pub struct ConsoleManager {
    pub manager: Manager,
    csrf: String,
}

impl ConsoleManager {
    pub fn manages(&self, uai: &Uai) -> bool {
        self.manager.manages(uai)
    }

    /// The token forms and API calls must send back.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    /// Constant-time check of a CSRF token sent back.
    pub fn csrf_matches(&self, sent: &str) -> bool {
        constant_time::verify_slices_are_equal(self.csrf.as_bytes(), sent.as_bytes()).is_ok()
    }
}

/// Why a request has no console manager.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("no console session: log in first")]
    Missing,
    #[error("this console session has expired or was closed: log in again")]
    Expired,
    #[error("this person is no longer an assignment manager")]
    NotManager,
    #[error("the session could not be checked")]
    Store(#[from] StoreError),
}

impl ResponseError for SessionError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Missing | Self::Expired => StatusCode::UNAUTHORIZED,
            Self::NotManager => StatusCode::FORBIDDEN,
            Self::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Store(e) = self {
            tracing::error!(error = %e, "session lookup failed");
        }
        let code = match self {
            Self::Missing | Self::Expired => "UNAUTHENTICATED",
            Self::NotManager => "NOT_A_MANAGER",
            Self::Store(_) => "UNAVAILABLE",
        };
        HttpResponse::build(self.status_code())
            .json(serde_json::json!({ "error": { "code": code, "message": self.to_string() } }))
    }
}

impl ConsoleManager {
    async fn resolve(req: &HttpRequest) -> Result<Self, SessionError> {
        let (name, _) = cookie_of(SessionKind::Console);
        let token = req.cookie(name).map(|c| c.value().to_owned()).ok_or(SessionError::Missing)?;
        let state = req.app_data::<web::Data<AppState>>().expect("AppState is registered").clone();
        let hash = token_hash(&token);
        let found = state
            .store(move |conn| {
                let Some(session) = sessions::find(conn, &hash, SessionKind::Console, Utc::now().naive_utc())? else {
                    return Ok(None);
                };
                Ok(Some(managers::find(conn, &session.ent_id, &session.gar_id)?))
            })
            .await?;
        let manager = found.ok_or(SessionError::Expired)?.ok_or(SessionError::NotManager)?;
        Ok(Self { manager, csrf: csrf_token(&token) })
    }
}

impl FromRequest for ConsoleManager {
    type Error = SessionError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, SessionError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { ConsoleManager::resolve(&req).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), csrf_token(&a), "the CSRF token is not the stored hash");
        assert_eq!(csrf_token(&a), csrf_token(&a));
    }
}
