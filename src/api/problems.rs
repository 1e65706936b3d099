//! The error responses of the OpenAPI document: each a problem body under its own status, and
//! the sets of them that handlers name (`responses((status = 200, ...), problems::QueryErrors)`),
//! so that a handler lists only its own success responses.
#![allow(dead_code)] // the tuple fields exist for the schema only

use std::collections::BTreeMap;

use utoipa::openapi::{Ref, RefOr, Response};
use utoipa::{IntoResponses, ToResponse};

use crate::error::Problem;

/// Malformed JSON, or a query parameter or header that cannot be understood.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct BadRequest(Problem);

/// No token, or a token that fails verification.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unauthorized(Problem);

/// A valid token without the scope, country or operation this request needs.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Forbidden(Problem);

/// The resource does not exist.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotFound(Problem);

/// The request conflicts with the state of the resource (operation not active, a move of status
/// that is not allowed, the same key with other content), or — type
/// `urn:opcoord:problem:country-final` — the country's figures are final or approved, so its
/// writes are refused until the secretariat reopens them.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Conflict(Problem);

/// `If-Match` names a version that is not the current one.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PreconditionFailed(Problem);

/// The body is larger than the configured limit.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PayloadTooLarge(Problem);

/// The body did not arrive within the configured time (`body_timeout_secs`).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct RequestTimeout(Problem);

/// The body is not `application/json`.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct UnsupportedMediaType(Problem);

/// The body breaks the contract: one entry with a JSON pointer per failing field.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unprocessable(Problem);

/// The database cannot be reached; retry after `Retry-After` seconds.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json", headers(("Retry-After" = u32, description = "Seconds to wait before retrying")))]
pub struct Unavailable(Problem);

/// A reference to a problem response registered under `#/components/responses`.
fn reference<T: ToResponse<'static>>() -> RefOr<Response> {
    RefOr::Ref(Ref::from_response_name(T::response().0))
}

/// Declares a set of problem responses: optionally a smaller set, plus statuses of its own.
macro_rules! response_set {
    ($(#[$doc:meta])* $set:ident = $($base:ident +)? { $($status:literal => $problem:ident),* $(,)? }) => {
        $(#[$doc])*
        pub struct $set;

        impl IntoResponses for $set {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                #[allow(unused_mut)]
                let mut set = BTreeMap::new();
                $(set.extend($base::responses());)?
                $(set.insert($status.to_string(), reference::<$problem>());)*
                set
            }
        }
    };
}

response_set!(
    /// What any request with a token may meet: no valid token, a token that does not reach, or
    /// a database out of reach.
    Guarded = { 401 => Unauthorized, 403 => Forbidden, 503 => Unavailable }
);

response_set!(
    /// A request addressing one object (or an operation's collection) that may not exist.
    ReadErrors = Guarded + { 404 => NotFound }
);

response_set!(
    /// A read that also takes query parameters, headers or path keys that may not parse.
    QueryErrors = ReadErrors + { 400 => BadRequest }
);

response_set!(
    /// A list at the top of the API (nothing to be missing) with query parameters.
    ListErrors = Guarded + { 400 => BadRequest }
);

response_set!(
    /// A write with a JSON body at the top of the API: the body may be malformed, slow, too
    /// large, of another media type, invalid, or in conflict with what is stored.
    CreateErrors = Guarded + {
        400 => BadRequest,
        408 => RequestTimeout,
        409 => Conflict,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
        422 => Unprocessable,
    }
);

response_set!(
    /// A write with a JSON body inside an operation that may not exist.
    WriteErrors = CreateErrors + { 404 => NotFound }
);

response_set!(
    /// A write with a JSON body that `If-Match` may guard.
    VersionedWriteErrors = WriteErrors + { 412 => PreconditionFailed }
);

response_set!(
    /// A write without a body (a retraction) that `If-Match` and `Idempotency-Key` may guard.
    RetractErrors = ReadErrors + {
        400 => BadRequest,
        409 => Conflict,
        412 => PreconditionFailed,
        422 => Unprocessable,
    }
);

response_set!(
    /// A change of state without a body (a nil return, a declaration of finality) whose path
    /// keys may not parse and which the state of the resource may refuse.
    StateChangeErrors = ReadErrors + { 400 => BadRequest, 409 => Conflict }
);

response_set!(
    /// A read without a token, with query parameters, of an object that may not be there.
    PublicReadErrors = { 400 => BadRequest, 404 => NotFound, 503 => Unavailable }
);
