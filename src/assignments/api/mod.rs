//! The console's JSON API, `/console/api/v1/…`, described in `schema/console-api.openapi.json`.
//!
//! A console session cookie identifies the manager; every route under `/schools/{uai}` answers
//! 403 for a school they do not manage. Writes need the session's CSRF token in `X-CSRF-Token`.
//! Errors are `{"error": {"code": "NO_LICENCE_LEFT", "message": "…"}}` with the matching status.

mod error;
mod read;
mod write;

use actix_web::http::Method;
use actix_web::web;

pub use error::ApiError;
pub(crate) use error::ledger_status;

/// Declares each route once: the table the OpenAPI test reads and the routes `configure` mounts.
macro_rules! api_routes {
    ($($method:ident $path:literal => $handler:path),* $(,)?) => {
        /// Every (method, path) the API mounts.
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), concat!("/console/api/v1", $path))),*];

        /// Mounts the API (public listener).
        pub fn configure(cfg: &mut web::ServiceConfig) {
            // In a scope, so these extractor settings (JSON errors) do not reach the pages.
            let scope = web::scope("/console/api/v1")
                .app_data(error::json_config())
                .app_data(error::path_config())
                .app_data(error::query_config());
            $(let scope = scope.route($path, web::method(Method::$method).to($handler));)*
            cfg.service(scope);
        }
    };
}

api_routes! {
    GET "/session" => read::session,
    GET "/schools/{uai}/dashboard" => read::dashboard,
    GET "/schools/{uai}/subscriptions/{id}" => read::subscription,
    GET "/schools/{uai}/populations" => read::populations,
    GET "/schools/{uai}/people" => read::search_people,
    GET "/schools/{uai}/people/{gar_id}" => read::person,
    GET "/schools/{uai}/history" => read::history,
    POST "/schools/{uai}/preview" => write::preview,
    POST "/schools/{uai}/assignments" => write::assign,
    POST "/schools/{uai}/withdrawals" => write::withdraw,
    POST "/schools/{uai}/transfers" => write::transfer,
    POST "/schools/{uai}/school-wide" => write::school_wide,
    POST "/schools/{uai}/history/{id}/undo" => write::undo,
}
