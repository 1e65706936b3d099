//! The HTTP API: one file per resource, the routes, and the OpenAPI document they make.

pub mod extract;
pub mod health;
pub mod operations;
pub mod problems;
mod respond;
pub mod units;

use utoipa::OpenApi;
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
            Errors are RFC 9457 problem details (`application/problem+json`)."
    ),
    tags(
        (name = "operations", description = "Operations: a week of action across many countries"),
        (name = "units", description = "National units taking part in an operation"),
        (name = "health", description = "Probes for orchestrators"),
    ),
    components(
        schemas(Problem, FieldError),
        responses(
            problems::BadRequest,
            problems::Unauthorized,
            problems::Forbidden,
            problems::NotFound,
            problems::Conflict,
            problems::PreconditionFailed,
            problems::PayloadTooLarge,
            problems::UnsupportedMediaType,
            problems::Unprocessable,
            problems::Unavailable,
        )
    )
)]
pub struct ApiDoc;

/// Registers every route; used by the server, the tests and `opcoord openapi` alike.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(
            utoipa_actix_web::scope("/v1")
                .service(operations::create_operation)
                .service(operations::list_operations)
                .service(operations::get_operation)
                .service(operations::update_operation)
                .service(units::create_unit)
                .service(units::list_units)
                .service(units::get_unit)
                .service(units::update_unit),
        );
}
