//! The HTTP-POST binding (SAML bindings §3.5): a page whose form carries the base64 message
//! (and `RelayState`) to the partner, submitted at once by a one-line script, with a button in
//! `<noscript>` for browsers without JavaScript.
//!
//! The page is served with a Content-Security-Policy that allows exactly that script (by hash) and
//! nothing else, may not be framed, and is never cached: the form holds a bearer assertion.
//! There is deliberately no `form-action` directive: browsers apply it to the redirects that
//! follow the POST, which would break a service provider redirecting after sign-on.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const SUBMIT_SCRIPT: &str = "document.forms[0].submit();";

static CONTENT_SECURITY_POLICY: LazyLock<String> = LazyLock::new(|| {
    let hash = STANDARD.encode(digest::digest(&digest::SHA256, SUBMIT_SCRIPT.as_bytes()));
    format!("default-src 'none'; script-src 'sha256-{hash}'; base-uri 'none'; frame-ancestors 'none'")
});

/// Which message the form carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostedMessage {
    /// `SAMLResponse`: Sesame's response to a publisher.
    Response,
    /// `SAMLRequest`: an AuthnRequest to an IdP that wants the POST binding.
    Request,
}

impl PostedMessage {
    fn field(self) -> &'static str {
        match self {
            Self::Response => "SAMLResponse",
            Self::Request => "SAMLRequest",
        }
    }
}

/// An auto-submitting form page.
pub struct PostForm {
    html: String,
}

impl PostForm {
    /// `action` is the partner's registered endpoint; `message_base64` the encoded message.
    pub fn new(action: &str, message: PostedMessage, message_base64: &str, relay_state: Option<&str>) -> Self {
        let mut html = String::with_capacity(message_base64.len() + 1024);
        html.push_str(
            "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">\
             <meta name=\"robots\" content=\"noindex\"><title>Connexion… / Signing in…</title></head>\
             <body><form method=\"post\" action=\"",
        );
        escape_html(&mut html, action);
        html.push_str("\"><input type=\"hidden\" name=\"");
        html.push_str(message.field());
        html.push_str("\" value=\"");
        escape_html(&mut html, message_base64);
        html.push('"');
        html.push('>');
        if let Some(relay_state) = relay_state {
            html.push_str("<input type=\"hidden\" name=\"RelayState\" value=\"");
            escape_html(&mut html, relay_state);
            html.push_str("\">");
        }
        html.push_str(
            "<p>Connexion à la ressource en cours… / Signing you in…</p>\
             <noscript><p>JavaScript est désactivé : cliquez sur Continuer. / \
             JavaScript is off: press Continue.</p><button type=\"submit\">Continuer / Continue</button></noscript>\
             </form><script>",
        );
        html.push_str(SUBMIT_SCRIPT);
        html.push_str("</script></body></html>\n");
        Self { html }
    }

    pub fn html(&self) -> &str {
        &self.html
    }

    /// The security headers the page must be served with.
    pub fn headers() -> [(HeaderName, HeaderValue); 6] {
        [
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_str(&CONTENT_SECURITY_POLICY).expect("ASCII policy")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin")),
        ]
    }

    /// A `200 OK` HTML response with the security headers.
    pub fn into_response(self) -> HttpResponse {
        let mut response = HttpResponse::Ok();
        response.content_type("text/html; charset=utf-8");
        for header in Self::headers() {
            response.insert_header(header);
        }
        response.body(self.html)
    }
}

/// Escapes text for an HTML attribute value or element content.
pub fn escape_html(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_value_and_allows_only_the_submit_script() {
        let form = PostForm::new(
            "https://sp.test/acs?a=1&b=\"2\"",
            PostedMessage::Response,
            "PHNhbWw+",
            Some("https://r.test/?x=<y>&z='1'"),
        );
        let html = form.html();
        assert!(html.contains(r#"action="https://sp.test/acs?a=1&amp;b=&quot;2&quot;""#), "{html}");
        assert!(html.contains(r#"name="SAMLResponse" value="PHNhbWw+""#));
        assert!(html.contains(r#"name="RelayState" value="https://r.test/?x=&lt;y&gt;&amp;z=&#39;1&#39;""#));
        assert!(html.contains("<noscript>") && html.contains("<button type=\"submit\">"));
        assert_eq!(html.matches("<script>").count(), 1);
        // The hash CSP allows is the hash of the one script in the page.
        let script = html.split("<script>").nth(1).unwrap().split("</script>").next().unwrap();
        let expected = STANDARD.encode(digest::digest(&digest::SHA256, script.as_bytes()));
        assert!(CONTENT_SECURITY_POLICY.contains(&format!("'sha256-{expected}'")));
    }

    #[test]
    fn the_page_is_served_with_its_security_headers() {
        let response = PostForm::new("https://sp.test/acs", PostedMessage::Response, "eA==", None).into_response();
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert_eq!(header(header::CONTENT_TYPE), "text/html; charset=utf-8");
        assert_eq!(header(header::CACHE_CONTROL), "no-store");
        assert_eq!(header(header::X_FRAME_OPTIONS), "DENY");
        assert!(header(header::CONTENT_SECURITY_POLICY).starts_with("default-src 'none'; script-src 'sha256-"));
        assert!(header(header::CONTENT_SECURITY_POLICY).contains("frame-ancestors 'none'"));
    }

    #[test]
    fn without_relay_state_there_is_no_relay_field() {
        let form = PostForm::new("https://idp.test/sso", PostedMessage::Request, "eA==", None);
        assert!(form.html().contains("name=\"SAMLRequest\""));
        assert!(!form.html().contains("RelayState"));
    }
}
