//! opcoord: the coordination hub of a multi-country law-enforcement operation.
//!
//! [`app`] builds the whole HTTP application from an [`AppState`]; the binary, the tests and
//! the OpenAPI export all go through it, so what is tested is what is served.

pub mod api;
pub mod auth;
pub mod config;
pub mod console;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod files;
pub mod observe;
pub mod service;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{web, App, HttpRequest, HttpServer};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::KeepAlive;

use crate::api::cache::ReportCache;
use crate::api::extract::BodyLimit;
use crate::auth::Auth;
use crate::config::Settings;
use crate::db::Database;
use crate::error::{Error, Result};

/// What every request handler shares: the database, the settings, the token checks and the
/// cache of tally answers.
#[derive(Clone)]
pub struct AppState {
    /// The connection pool.
    pub db: Database,
    /// The settings the service started with.
    pub settings: Settings,
    /// Keys, token checks and the revocation list.
    pub auth: Arc<Auth>,
    /// Recent tally answers of this instance (see [`api::cache`]).
    pub reports: Arc<ReportCache>,
}

impl AppState {
    /// The state of one instance, with an empty tally cache sized by `tally_cache_ms`.
    ///
    /// On PostgreSQL it also starts the thread that hears revocations made through other
    /// instances (see [`db::revocations`]) and the one that folds the tally delta log (see
    /// [`service::folding`]); both end when the state is dropped.
    pub fn new(db: Database, settings: Settings, auth: Arc<Auth>) -> AppState {
        let reports = Arc::new(ReportCache::new(Duration::from_millis(settings.tally_cache_ms)));
        if db.backend() == db::Backend::Postgres {
            db::revocations::spawn(settings.database_url.trim().to_string(), Arc::downgrade(&auth));
            let every = Duration::from_millis(settings.tally_fold_ms);
            service::folding::spawn(db.clone(), every, Arc::downgrade(&reports));
        }
        AppState {
            db,
            settings,
            auth,
            reports,
        }
    }
}

/// The OpenAPI document as published (see [`api::document`]), built from the same routes the
/// server serves.
pub fn openapi() -> Result<serde_json::Value> {
    let collected = App::new()
        .into_utoipa_app()
        .openapi(api::ApiDoc::openapi())
        .configure(api::routes)
        .split_for_parts()
        .1;
    api::document::publish(collected).map_err(|e| Error::internal(format!("cannot build the OpenAPI document: {e}")))
}

/// The OpenAPI document as the pretty JSON committed in `openapi/openapi.json`.
pub fn openapi_json() -> Result<String> {
    serde_json::to_string_pretty(&openapi()?)
        .map(|json| json + "\n")
        .map_err(|e| Error::internal(format!("cannot write the OpenAPI document: {e}")))
}

/// Builds the HTTP application: routes, extractor settings, Swagger UI and logging.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limit = state.settings.body_limit_bytes;
    let body_timeout = Duration::from_secs(state.settings.body_timeout_secs);
    let (app, spec) = App::new()
        .app_data(web::Data::new(state))
        .app_data(web::PayloadConfig::new(limit))
        .app_data(BodyLimit {
            bytes: limit,
            timeout: body_timeout,
        })
        .app_data(web::PathConfig::default().error_handler(|err, _| {
            log::debug!("path not matched: {err}");
            Error::NotFound("no such resource".to_string()).into()
        }))
        .into_utoipa_app()
        .openapi(api::ApiDoc::openapi())
        .configure(api::routes)
        .split_for_parts();
    let document = api::document::publish(spec).unwrap_or_else(|e| {
        log::error!("cannot build the OpenAPI document: {e}");
        serde_json::Value::Null
    });
    let methods = web::Data::new(api::methods::RouteMethods::from_document(&document));
    let swagger = SwaggerUi::new("/docs/{_:.*}")
        .external_url_unchecked("/openapi.json", document)
        .config(utoipa_swagger_ui::Config::default().show_extensions(true));
    app.app_data(methods)
        .service(swagger)
        .service(web::redirect("/docs", "/docs/"))
        .configure(console::routes)
        .service(web::resource("/public/{tail:.*}").route(web::get().to(api::public::unprefixed)))
        .default_service(web::to(no_route))
        .wrap(actix_web::middleware::from_fn(api::head::head_as_get))
        .wrap(actix_web::middleware::from_fn(api::negotiate::problem_media_type))
        .wrap(actix_web::middleware::Compress::default())
        .wrap(actix_web::middleware::from_fn(observe::observe))
}

/// No route took the request: 405 if the path is one of the API's with other methods, else 404.
async fn no_route(req: HttpRequest, methods: web::Data<api::methods::RouteMethods>) -> Result<actix_web::HttpResponse> {
    let allowed = methods.allowed(req.path());
    let method = api::head::method_sent(&req);
    if allowed.is_empty() {
        return Err(Error::NotFound(format!("no route for {method} {}", req.path())));
    }
    Err(Error::MethodNotAllowed { method, allowed })
}

/// Opens the database, applies pending migrations and serves HTTP until stopped.
pub async fn serve(settings: Settings) -> Result<()> {
    let db = Database::open(&settings)?;
    let applied = db.with_conn(db::migrate::run_pending)?;
    if applied > 0 {
        log::info!("applied {applied} migrations");
    }
    let auth = Arc::new(Auth::from_settings(&settings, true)?);
    let state = AppState::new(db, settings.clone(), auth);
    let mut server = HttpServer::new(move || app(state.clone()))
        .shutdown_timeout(settings.shutdown_grace_secs)
        .client_request_timeout(Duration::from_millis(settings.header_timeout_ms))
        .keep_alive(match settings.keep_alive_secs {
            0 => KeepAlive::Disabled,
            secs => KeepAlive::Timeout(Duration::from_secs(secs)),
        });
    if settings.workers > 0 {
        server = server.workers(settings.workers);
    }
    let server = server
        .bind(&settings.bind)
        .map_err(|e| Error::Config(format!("cannot listen on {}: {e}", settings.bind)))?;
    log::info!(
        "opcoord listening on http://{} ({:?} database)",
        settings.bind,
        Backend(&settings)
    );
    server
        .run()
        .await
        .map_err(|e| Error::internal(format!("server stopped: {e}")))?;
    log::info!("stopped: requests in flight finished");
    Ok(())
}

/// Shows the backend in a log line without ever printing the URL (it may hold a password).
struct Backend<'a>(&'a Settings);

impl std::fmt::Debug for Backend<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", db::Backend::of(&self.0.database_url))
    }
}
