//! Small helpers for building responses.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use serde::Serialize;

use crate::domain::version::etag;

/// A JSON response for one versioned resource, with its `ETag`.
pub fn versioned<T: Serialize>(status: StatusCode, version: i64, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// 201 for a resource created now, 200 for the replay of a create that already happened.
pub fn created_or_replayed(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}
