//! The one error type of opcoord and its HTTP table: every failure leaves as an RFC 9457
//! `application/problem+json` body. Internal details (SQL, paths, causes) go to the log only.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

/// Seconds a client is asked to wait after a 503.
pub const RETRY_AFTER_SECS: u32 = 2;

/// The media type of problem details (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One failing field or parameter of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON pointer (RFC 6901) to the failing member of the request body, such as `/migrants/children`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// Name of the failing query parameter or header, when the problem is not in the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// What is wrong, in words.
    pub message: String,
}

impl FieldError {
    /// A problem with the body member at `pointer`.
    pub fn at(pointer: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            pointer: Some(pointer.into()),
            parameter: None,
            message: message.into(),
        }
    }

    /// A problem with the query parameter or header `name`.
    pub fn parameter(name: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            pointer: None,
            parameter: Some(name.into()),
            message: message.into(),
        }
    }
}

/// RFC 9457 problem details, the body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// URI reference naming the kind of problem, such as `urn:opcoord:problem:validation`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// One entry per failing field or parameter, where there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// The `X-Request-Id` of the request, to find its log lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Everything that can go wrong in opcoord, from a bad request to a lost database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is not well-formed JSON (400).
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    /// A query parameter or header cannot be understood (400).
    #[error("bad request: {}", .0.message)]
    BadParameter(FieldError),
    /// A token is missing or fails verification (401).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// A valid token without the right scope, country or operation (403).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The resource does not exist, or is not visible to the caller (404).
    #[error("not found: {0}")]
    NotFound(String),
    /// The path exists, but not with this method (405, with `Allow`).
    #[error("method not allowed: {method} is not a method of this path; it takes {}", .allowed.join(", "))]
    MethodNotAllowed {
        /// The method of the request.
        method: String,
        /// The methods the path takes.
        allowed: Vec<String>,
    },
    /// The request conflicts with the state of the resource (409).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The country's figures are final or approved: its writes to the operation are refused
    /// until the secretariat reopens them (409, `country-final`).
    #[error("country final: {0}")]
    CountryFinal(String),
    /// A request with the same `Idempotency-Key` is still running; retry after `Retry-After` (409).
    #[error("in progress: a request with this Idempotency-Key is still being processed; retry shortly")]
    InProgress,
    /// `If-Match` names a version that is not the current one (412).
    #[error("precondition failed: the current version is {current}")]
    PreconditionFailed {
        /// The version the resource has now.
        current: i64,
    },
    /// The body is larger than the configured limit (413).
    #[error("payload too large: the limit is {limit} bytes")]
    PayloadTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The client did not send the whole body within the configured time (408).
    #[error("request timeout: the body did not arrive within {secs} seconds")]
    RequestTimeout {
        /// The limit, in seconds.
        secs: u64,
    },
    /// The body is not JSON (415).
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// The body is JSON but breaks the contract; one entry per failing field (422).
    #[error("validation failed ({} errors)", .0.len())]
    Validation(Vec<FieldError>),
    /// The database cannot be reached now; the client should retry (503). The cause is logged
    /// with its chain, never sent.
    #[error("database unavailable")]
    Unavailable(#[source] Cause),
    /// A bug or an unexpected failure; the cause is logged with its chain, never sent (500).
    #[error("internal error")]
    Internal(#[source] Cause),
    /// The configuration cannot be used (the service does not start).
    #[error("configuration: {0}")]
    Config(String),
    /// A command of the CLI failed for a reason of its own (never an HTTP answer).
    #[error("{0}")]
    Command(String),
}

/// Shorthand for results that fail with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The underlying failure of a 500 or 503, kept whole so its chain of causes can be logged.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

impl Error {
    /// A bug or an unexpected failure, described in words or by the error that caused it (500).
    pub fn internal(cause: impl Into<Cause>) -> Error {
        Error::Internal(cause.into())
    }

    /// The database cannot be reached, because of `cause` (503).
    pub fn unavailable(cause: impl Into<Cause>) -> Error {
        Error::Unavailable(cause.into())
    }

    /// This error and every cause under it, joined by `: ` — for the log and the command line.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }

    /// A validation failure of a single field.
    pub fn invalid(pointer: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Validation(vec![FieldError::at(pointer, message)])
    }

    /// A 400 for the query parameter or header `name`.
    pub fn bad_parameter(name: impl Into<String>, message: impl Into<String>) -> Error {
        Error::BadParameter(FieldError::parameter(name, message))
    }

    /// The problem type slug and title of this error.
    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            Error::MalformedJson(_) => ("malformed-json", "Malformed JSON"),
            Error::BadParameter(_) => ("bad-parameter", "Bad request parameter"),
            Error::Unauthorized(_) => ("unauthorized", "Unauthorized"),
            Error::Forbidden(_) => ("forbidden", "Forbidden"),
            Error::NotFound(_) => ("not-found", "Not found"),
            Error::MethodNotAllowed { .. } => ("method-not-allowed", "Method not allowed"),
            Error::Conflict(_) => ("conflict", "Conflict"),
            Error::CountryFinal(_) => ("country-final", "Country figures are final"),
            Error::InProgress => ("in-progress", "Request in progress"),
            Error::PreconditionFailed { .. } => ("precondition-failed", "Precondition failed"),
            Error::PayloadTooLarge { .. } => ("payload-too-large", "Payload too large"),
            Error::RequestTimeout { .. } => ("request-timeout", "Request timeout"),
            Error::UnsupportedMediaType(_) => ("unsupported-media-type", "Unsupported media type"),
            Error::Validation(_) => ("validation", "Validation failed"),
            Error::Unavailable(_) => ("unavailable", "Service unavailable"),
            Error::Internal(_) | Error::Config(_) | Error::Command(_) => ("internal", "Internal server error"),
        }
    }

    /// The problem body sent for this error; 5xx bodies never carry the cause.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        let (slug, title) = self.kind();
        let detail = match self {
            Error::Unavailable(_) => {
                "the database cannot be reached right now; retry after the delay in Retry-After".to_string()
            }
            Error::Internal(_) | Error::Config(_) | Error::Command(_) => {
                "an unexpected error occurred; it has been logged".to_string()
            }
            Error::BadParameter(field) => field.message.clone(),
            Error::Validation(errors) if errors.len() == 1 => errors[0].message.clone(),
            Error::Validation(errors) => format!("{} fields failed validation", errors.len()),
            other => other
                .to_string()
                .split_once(": ")
                .map_or_else(|| other.to_string(), |(_, rest)| rest.to_string()),
        };
        let errors = match self {
            Error::Validation(errors) => Some(errors.clone()),
            Error::BadParameter(field) => Some(vec![field.clone()]),
            _ => None,
        };
        Problem {
            kind: format!("urn:opcoord:problem:{slug}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail,
            errors,
            request_id: crate::observe::current_request_id(),
        }
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Error::MalformedJson(_) | Error::BadParameter(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Error::Conflict(_) | Error::CountryFinal(_) | Error::InProgress => StatusCode::CONFLICT,
            Error::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) | Error::Config(_) | Error::Command(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        // A cause may quote a database URL: credentials are hidden before it is logged.
        if status.is_server_error() {
            log::error!("{status}: {}", crate::db::redact::scrub(&self.chain()));
        } else {
            log::debug!("{status}: {}", crate::db::redact::scrub(&self.to_string()));
        }
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        match self {
            Error::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS));
            }
            Error::InProgress => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
            Error::MethodNotAllowed { allowed, .. } => {
                if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
                    response.insert_header((header::ALLOW, value));
                }
            }
            Error::Unauthorized(_) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                ));
            }
            _ => {}
        }
        response.json(self.problem())
    }
}

impl From<DieselError> for Error {
    fn from(error: DieselError) -> Error {
        match &error {
            DieselError::NotFound => Error::NotFound("no such record".to_string()),
            DieselError::DatabaseError(kind, info) => match kind {
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                    Error::Unavailable(Box::new(error))
                }
                DatabaseErrorKind::UniqueViolation => {
                    Error::Conflict(unique_violation(info.constraint_name(), info.message()).to_string())
                }
                _ if is_lost_connection(info.message()) => Error::Unavailable(Box::new(error)),
                _ => Error::Internal(Box::new(error)),
            },
            DieselError::BrokenTransactionManager => Error::Unavailable(Box::new(error)),
            _ => Error::Internal(Box::new(error)),
        }
    }
}

/// What a unique violation means, from the constraint's name (PostgreSQL) or the columns named
/// in the message (SQLite), for a precise 409.
fn unique_violation(constraint: Option<&str>, message: &str) -> &'static str {
    const KNOWN: [(&str, &str, &str); 4] = [
        (
            "operations_pkey",
            "operations.id",
            "an operation with this id already exists",
        ),
        (
            "units_operation_id_country_name_key",
            "units.operation_id, units.country, units.name",
            "this country already has a unit of this name in the operation",
        ),
        (
            "interceptions_operation_id_country_external_ref_key",
            "interceptions.operation_id, interceptions.country, interceptions.external_ref",
            "this country already has an interception under this reference in the operation",
        ),
        (
            "reported_tallies_pkey",
            "reported_tallies.operation_id, reported_tallies.country",
            "this version of the stated figure was written at the same time by another request; send it again",
        ),
    ];
    KNOWN
        .iter()
        .find(|(name, columns, _)| constraint == Some(*name) || message.contains(columns))
        .map_or("a record with the same key already exists", |(_, _, meaning)| meaning)
}

/// Whether a database message says the server went away, the file is busy or a write statement ran
/// out of time: what a retry cures.
pub fn is_lost_connection(message: &str) -> bool {
    const SIGNS: [&str; 8] = [
        "server closed the connection",
        "terminating connection",
        "connection to server",
        "no connection to the server",
        "could not receive data",
        "database is locked",
        "the database system is shutting down",
        "canceling statement due to statement timeout",
    ];
    SIGNS.iter().any(|sign| message.contains(sign))
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(error: diesel::r2d2::PoolError) -> Error {
        Error::Unavailable(Box::new(error))
    }
}

impl From<actix_web::error::BlockingError> for Error {
    fn from(error: actix_web::error::BlockingError) -> Error {
        Error::Internal(Box::new(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unique_violation_says_which_key() {
        let pg = unique_violation(Some("units_operation_id_country_name_key"), "duplicate key value");
        let sqlite = unique_violation(
            None,
            "UNIQUE constraint failed: units.operation_id, units.country, units.name",
        );
        assert_eq!(pg, sqlite);
        assert!(pg.contains("unit of this name"));
        assert_eq!(
            unique_violation(None, "something else"),
            "a record with the same key already exists"
        );
    }

    #[test]
    fn the_chain_keeps_every_cause_and_the_answer_none() {
        let io = std::io::Error::other("connection refused by 10.0.0.7");
        let error = Error::unavailable(io);
        assert_eq!(error.chain(), "database unavailable: connection refused by 10.0.0.7");
        let problem = error.problem();
        assert!(!problem.detail.contains("10.0.0.7"));
    }
}
