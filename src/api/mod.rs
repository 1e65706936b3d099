//! The HTTP API: one file per resource, the routes, and the OpenAPI document they make.

pub mod audit;
pub mod cache;
pub mod document;
pub mod extract;
pub mod head;
pub mod health;
pub mod idempotent;
pub mod imports;
pub mod intake;
pub mod interceptions;
pub mod methods;
pub mod negotiate;
mod oas30;
pub mod operations;
pub mod problems;
pub mod public;
pub mod releases;
pub mod reporting;
mod respond;
pub mod sync;
pub mod tallies;
pub mod tokens;
pub mod units;
pub mod upload;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{FieldError, Problem};

/// The parts of the OpenAPI document that are not collected from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "opcoord",
        description = "Coordination hub of a multi-country law-enforcement operation against human trafficking and \
            migrant smuggling. National systems push their results; coordination units read the totals. \
            The API stores counts and categories only, never personal data of victims or suspects. \
            Errors are RFC 9457 problem details (`application/problem+json`, or `application/json` when the \
            request's `Accept` prefers it).",
        contact(name = "opcoord maintainers"),
        license(name = "Apache-2.0", url = "https://www.apache.org/licenses/LICENSE-2.0")
    ),
    servers((url = "/", description = "The instance that serves this document")),
    modifiers(&BearerScheme),
    tags(
        (name = "tokens", description = "Access tokens: issue, revoke, and the public keys that verify them"),
        (name = "operations", description = "Operations: a week of action across many countries"),
        (name = "units", description = "National units taking part in an operation"),
        (name = "interceptions", description = "Incidents pushed by national systems: counts and categories only"),
        (name = "imports", description = "Spreadsheet imports: the template, uploads, and the history with its files"),
        (name = "sync", description = "The change feed and reconciliation"),
        (name = "tallies", description = "Totals by country and breakdown (with each country's reporting status), stated figures"),
        (name = "reporting", description = "The reporting cycle: the board, nil returns, final and approved figures, reminders"),
        (name = "audit", description = "Who changed what, as a hash chain"),
        (name = "releases", description = "Releases: the secretariat makes, reviews and publishes frozen, protected figures"),
        (name = "public", description = "Published releases, without a token"),
        (name = "health", description = "Probes for orchestrators"),
    ),
    components(
        schemas(Problem, FieldError, tallies::GroupBy, crate::domain::metric::Metric),
        responses(
            problems::BadRequest,
            problems::Unauthorized,
            problems::Forbidden,
            problems::NotFound,
            problems::Conflict,
            problems::PreconditionFailed,
            problems::PayloadTooLarge,
            problems::RequestTimeout,
            problems::UnsupportedMediaType,
            problems::Unprocessable,
            problems::Unavailable,
        )
    )
)]
pub struct ApiDoc;

/// Adds the bearer (JWT) scheme that every `/v1` operation names, with the scope it needs
/// (published as `x-required-scopes`: see [`oas30`]).
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An opcoord access token (JWT, typ at+jwt, EdDSA), sent as `Authorization: Bearer`. \
                         Each operation names the scope it needs in `x-required-scopes`; the token must also \
                         cover the operation and the country of every object touched.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Registers every route; used by the server, the tests and `opcoord openapi` alike.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(tokens::jwks)
        .service(
            utoipa_actix_web::scope("/v1")
                .service(tokens::issue_token)
                .service(tokens::revoke_token)
                .service(tokens::list_tokens)
                .service(operations::create_operation)
                .service(operations::list_operations)
                .service(operations::get_operation)
                .service(operations::update_operation)
                .service(units::create_unit)
                .service(units::list_units)
                .service(units::get_unit)
                .service(units::update_unit)
                .service(interceptions::push_interceptions)
                .service(interceptions::list_interceptions)
                .service(interceptions::put_interception)
                .service(interceptions::get_interception)
                .service(interceptions::list_interception_versions)
                .service(interceptions::retract_interception)
                .service(imports::get_import_template)
                .service(imports::create_import)
                .service(imports::list_imports)
                .service(imports::get_import)
                .service(imports::get_import_file)
                .service(sync::list_changes)
                .service(sync::get_sync_digest)
                .service(tallies::get_tallies)
                .service(reporting::get_reporting)
                .service(reporting::get_reminders)
                .service(reporting::put_nil_return)
                .service(reporting::retract_nil_return)
                .service(reporting::declare_final)
                .service(reporting::approve_country)
                .service(reporting::reopen_country)
                .service(tallies::put_reported_tally)
                .service(tallies::get_reported_tally)
                .service(releases::create_release)
                .service(releases::list_releases)
                .service(releases::get_release)
                .service(releases::publish_release)
                .service(releases::discard_release)
                .service(public::list_public_releases)
                .service(public::get_public_release)
                .service(audit::list_audit_entries),
        );
}
