//! Structured logs. Request spans carry the route pattern, never the raw path: paths and
//! query strings hold personal identifiers (GARPersonIdentifiant, UAI, resource ids).

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Sets the global subscriber once; later calls (tests) are ignored.
pub fn init_tracing(config: &LogConfig) {
    let filter = EnvFilter::try_new(&config.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Root span of every request, with an access-log event when it ends.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        // Routing happens after this middleware, so the route is recorded at the end.
        tracing::info_span!(
            "request",
            method = %request.method(),
            route = tracing::field::Empty,
            status = tracing::field::Empty,
            request_id = %uuid_v4(),
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let (status, route) = match outcome {
            Ok(response) => (response.response().status().as_u16(), response.request().match_pattern()),
            Err(error) => (error.as_response_error().status_code().as_u16(), None),
        };
        let route = route.as_deref().unwrap_or("UNMATCHED");
        span.record("status", status);
        span.record("route", route);
        // The access-log line repeats the fields so a JSON log line stands on its own.
        span.in_scope(|| tracing::info!(route, status, "request handled"));
    }
}

fn uuid_v4() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}
