//! `HEAD` is answered as `GET` (RFC 9110, 9.3.2): the same status and headers — an `ETag` to
//! check a record's version, a `Content-Length` — and no body. The routes are registered for
//! `GET` only, so the request is routed as a `GET`; the HTTP/1 encoder, which saw the request
//! line, sends the head of the answer without its body.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::HttpMessage;

/// Marks a request that came as `HEAD` and is routed as `GET`.
#[derive(Debug, Clone, Copy)]
pub struct AskedHead;

/// Routes a `HEAD` request as the `GET` of the same path.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.extensions_mut().insert(AskedHead);
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

/// The method the client sent: `HEAD` for a request routed as `GET` by [`head_as_get`].
pub fn method_sent(req: &actix_web::HttpRequest) -> String {
    match req.extensions().get::<AskedHead>() {
        Some(_) => Method::HEAD.to_string(),
        None => req.method().to_string(),
    }
}
