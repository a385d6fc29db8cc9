//! The public side of the widget: `/mediacentre/widget.js` and the listing a browser reads with a
//! widget token (`GET /mediacentre/v1/ressources`, `Authorization: Bearer …`).
//!
//! CORS is decided per ENT project from the database (`sesame ent origins`), which a static CORS
//! middleware cannot do: a preflight carries no token, so it is allowed for an origin that some
//! project allows; the real request is then answered to the browser only when the token's own
//! project allows that origin.

use std::sync::OnceLock;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use chrono::Utc;

use super::error::ApiError;
use super::list;
use super::listing::Scope;
use super::notice_cache::NoticeCache;
use super::respond;
use super::token::{TokenError, TokenKey};
use crate::domain::web_origin::WebOrigin;
use crate::http::AppState;
use crate::store::{StoreError, widget_origins};

/// The web component, built into the binary.
const WIDGET_JS: &str = include_str!("widget.js");

/// How long browsers may reuse a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

pub(super) async fn widget_js(req: HttpRequest) -> HttpResponse {
    static TAG: OnceLock<String> = OnceLock::new();
    let tag = TAG.get_or_init(|| respond::entity_tag(WIDGET_JS.as_bytes()).to_string());
    let unchanged = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(tag.as_str());
    let mut response = if unchanged {
        HttpResponse::NotModified().finish()
    } else {
        HttpResponse::Ok().content_type("text/javascript; charset=utf-8").body(WIDGET_JS)
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, HeaderValue::from_str(tag).expect("hex is a valid header value"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

/// `OPTIONS /mediacentre/v1/ressources`: the CORS preflight of the widget's request.
pub(super) async fn widget_preflight(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let Some(origin) = origin(&req) else {
        return HttpResponse::NoContent().finish();
    };
    let asks_get = req.headers().get(header::ACCESS_CONTROL_REQUEST_METHOD).is_some_and(|m| m == "GET");
    match known_anywhere(&state, &origin).await {
        Ok(true) if asks_get => {
            let mut response = HttpResponse::NoContent().finish();
            allow(&mut response, &origin);
            let headers = response.headers_mut();
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET"));
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("Authorization"));
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(PREFLIGHT_MAX_AGE));
            response
        }
        Ok(_) => HttpResponse::Forbidden().insert_header((header::VARY, "Origin")).finish(),
        Err(e) => ApiError::store(&e, req.path()).error_response(),
    }
}

/// `GET /mediacentre/v1/ressources`: the listing of the token's person.
pub(super) async fn widget_listing(
    req: HttpRequest,
    state: web::Data<AppState>,
    cache: web::Data<NoticeCache>,
) -> HttpResponse {
    let resource = req.path().to_owned();
    let origin = origin(&req);
    let key = TokenKey::derive(&state.keys.pseudonym_secret);
    let claims = bearer(&req).ok_or(TokenError::Invalid).and_then(|token| key.open(token, Utc::now().timestamp()));
    let claims = match claims {
        Ok(claims) => claims,
        Err(e) => {
            let message = match e {
                TokenError::Invalid => "Jeton absent ou invalide",
                TokenError::Expired => "Jeton expiré",
            };
            let mut response = ApiError::new(StatusCode::UNAUTHORIZED, message, &resource).error_response();
            // Let an allowed page read the 401, so the widget can fetch a fresh token.
            if let Some(origin) = &origin
                && known_anywhere(&state, origin).await.unwrap_or(false)
            {
                allow(&mut response, origin);
            }
            return response;
        }
    };
    if let Some(origin) = &origin {
        let (ent, checked) = (claims.ent_id.clone(), origin.clone());
        match state.store(move |conn| widget_origins::is_allowed(conn, &ent, checked.as_str())).await {
            Ok(true) => {}
            Ok(false) => {
                let message = "Origine non autorisée pour ce projet ENT";
                let mut response = ApiError::new(StatusCode::FORBIDDEN, message, &resource).error_response();
                response.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
                return response;
            }
            Err(e) => return ApiError::store(&e, &resource).error_response(),
        }
    }
    let scope = claims.uai.map_or(Scope::AllSchools, Scope::School);
    let access = list::Access::Token;
    let served = list::serve(&req, &state, cache.into_inner(), access, claims.ent_id, claims.gar_id, scope).await;
    let mut response = match served {
        Ok(response) => response,
        Err(e) => e.error_response(),
    };
    if let Some(origin) = &origin {
        allow(&mut response, origin);
    }
    response
}

/// The request's `Origin`, when it is a real http(s) origin (not `null`).
fn origin(req: &HttpRequest) -> Option<WebOrigin> {
    req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).and_then(|v| WebOrigin::parse(v).ok())
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn known_anywhere(state: &AppState, origin: &WebOrigin) -> Result<bool, StoreError> {
    let origin = origin.clone();
    state.store(move |conn| widget_origins::is_known(conn, origin.as_str())).await
}

fn allow(response: &mut HttpResponse, origin: &WebOrigin) {
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(origin.as_str()) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}
