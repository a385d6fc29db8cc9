//! The pages a person sees when sign-on cannot go on: French first, English below, the status
//! code of the failure, never cached, no script.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;

use super::saml::post_form::escape_html;

/// One message in both languages.
pub struct Message<'a> {
    pub title_fr: &'a str,
    pub title_en: &'a str,
    /// Paragraphs, French then English.
    pub paragraphs: &'a [(&'a str, &'a str)],
}

/// A page with `message`, served with `status`.
pub fn page(status: StatusCode, message: &Message<'_>) -> HttpResponse {
    let mut html = String::with_capacity(2048);
    html.push_str(
        "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><meta name=\"robots\" content=\"noindex\">",
    );
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
    escape_html(&mut html, message.title_fr);
    html.push_str(" – Sesame</title><style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}\
                   .en{color:#555;border-top:1px solid #ccc;margin-top:2rem;padding-top:1rem}</style></head><body><main><h1>");
    escape_html(&mut html, message.title_fr);
    html.push_str("</h1>");
    for (fr, _) in message.paragraphs {
        html.push_str("<p>");
        escape_html(&mut html, fr);
        html.push_str("</p>");
    }
    html.push_str("<section class=\"en\" lang=\"en\"><h2>");
    escape_html(&mut html, message.title_en);
    html.push_str("</h2>");
    for (_, en) in message.paragraphs {
        html.push_str("<p>");
        escape_html(&mut html, en);
        html.push_str("</p>");
    }
    html.push_str("</section></main></body></html>\n");
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'"))
        .body(html)
}

/// The database or another dependency failed; the cause is logged by the caller.
pub fn unavailable() -> HttpResponse {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        &Message {
            title_fr: "Service momentanément indisponible",
            title_en: "Service temporarily unavailable",
            paragraphs: &[("Réessayez dans un instant.", "Please try again in a moment.")],
        },
    )
}

/// A request the page cannot make sense of.
pub fn bad_request(fr: &str, en: &str) -> HttpResponse {
    page(
        StatusCode::BAD_REQUEST,
        &Message { title_fr: "Demande incorrecte", title_en: "Bad request", paragraphs: &[(fr, en)] },
    )
}
