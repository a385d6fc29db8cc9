//! How a listing goes out: format chosen from `Accept`, a strong `ETag` computed from the exact
//! bytes, `If-None-Match` answered with 304, and caching limited to the one user.
//!
//! The ETag hashes the response body itself, so it changes whenever the list changes, whatever
//! caused it (assignment, subscription, directory, catalogue), with nothing to keep in step.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, EntityTag, HeaderValue, IfNoneMatch};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use aws_lc_rs::digest;

use super::render::Format;

/// JSON unless the client ranks XML first (`application/xml` or `text/xml`); any other type,
/// or no `Accept` at all, gets JSON, the GAR's default.
pub fn negotiate(req: &HttpRequest) -> Format {
    let Some(accept) = req.get_header::<header::Accept>() else { return Format::Json };
    for mime in accept.ranked() {
        match (mime.type_().as_str(), mime.subtype().as_str()) {
            ("application", "json") => return Format::Json,
            ("application" | "text", "xml") => return Format::Xml,
            _ => {}
        }
    }
    Format::Json
}

/// A strong entity tag: the first 128 bits of the body's SHA-256, in hex.
pub fn entity_tag(body: &[u8]) -> EntityTag {
    let hash = digest::digest(&digest::SHA256, body);
    EntityTag::new_strong(hex::encode(&hash.as_ref()[..16]))
}

/// 200 with the body, or 304 when the client already holds this exact content.
pub fn with_etag(req: &HttpRequest, body: Vec<u8>, content_type: &'static str) -> HttpResponse {
    let tag = entity_tag(&body);
    let fresh = match req.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => true,
        // If-None-Match compares weakly (RFC 9110 §13.1.2).
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&tag)),
        None => false,
    };
    let mut response = if fresh {
        HttpResponse::build(StatusCode::NOT_MODIFIED).finish()
    } else {
        HttpResponse::Ok().content_type(content_type).body(body)
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, HeaderValue::from_str(&tag.to_string()).expect("hex is a valid header value"));
    // The list is one person's: no shared cache may keep it, and clients revalidate every time.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    headers.append(header::VARY, HeaderValue::from_static("Accept"));
    response
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn negotiates_like_real_clients() {
        let format = |accept: Option<&str>| {
            let req = match accept {
                Some(a) => TestRequest::default().insert_header((header::ACCEPT, a)),
                None => TestRequest::default(),
            };
            negotiate(&req.to_http_request())
        };
        assert_eq!(format(None), Format::Json);
        assert_eq!(format(Some("application/json")), Format::Json);
        assert_eq!(format(Some("application/xml")), Format::Xml);
        assert_eq!(format(Some("text/xml, application/json;q=0.5")), Format::Xml);
        assert_eq!(format(Some("application/xml;q=0.4, application/json")), Format::Json);
        assert_eq!(format(Some("*/*")), Format::Json);
        assert_eq!(format(Some("text/html")), Format::Json);
    }

    #[test]
    fn answers_304_only_for_the_same_content() {
        let tag = entity_tag(b"abc").to_string();
        let respond = |if_none_match: &str| {
            let req = TestRequest::default().insert_header((header::IF_NONE_MATCH, if_none_match)).to_http_request();
            with_etag(&req, b"abc".to_vec(), "application/json").status()
        };
        assert_eq!(respond(&tag), StatusCode::NOT_MODIFIED);
        assert_eq!(respond(&format!("W/{tag}")), StatusCode::NOT_MODIFIED);
        assert_eq!(respond(&format!("\"other\", {tag}")), StatusCode::NOT_MODIFIED);
        assert_eq!(respond("*"), StatusCode::NOT_MODIFIED);
        assert_eq!(respond(&entity_tag(b"abd").to_string()), StatusCode::OK);
    }
}
