//! Problem answers in the media type the client asked for: `application/problem+json` unless
//! the request's `Accept` prefers plain `application/json` (as generated clients that only read
//! JSON send, progenitor's among them), when the same body goes as `application/json`. The
//! OpenAPI document declares both for every problem response.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, Accept, Header, HeaderValue, Quality};
use actix_web::middleware::Next;

use crate::error::PROBLEM_JSON;

/// Whether the request's `Accept` names `media_type` (for the reads that also answer CSV or text).
pub fn accepts(req: &actix_web::HttpRequest, media_type: &str) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains(media_type))
}

/// Rewrites the media type of a problem answer when the client prefers plain JSON.
pub async fn problem_media_type(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let plain = Accept::parse(&req).is_ok_and(|accept| prefers_plain_json(&accept));
    let mut response = next.call(req).await?;
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value == PROBLEM_JSON);
    if plain && is_problem {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    Ok(response)
}

/// Whether `accept` rates `application/json` above `application/problem+json` (RFC 9110
/// §12.5.1: a media type takes the quality of the most specific range that matches it).
fn prefers_plain_json(accept: &Accept) -> bool {
    let quality = |media_type: &str| {
        accept
            .iter()
            .filter_map(|range| {
                let specificity = match range.item.essence_str() {
                    exact if exact == media_type => 2,
                    "application/*" => 1,
                    "*/*" => 0,
                    _ => return None,
                };
                Some((specificity, range.quality))
            })
            .max_by_key(|(specificity, _)| *specificity)
            .map_or(Quality::ZERO, |(_, quality)| quality)
    };
    quality("application/json") > quality(PROBLEM_JSON)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn prefers(accept: &str) -> bool {
        let request = TestRequest::default()
            .insert_header((header::ACCEPT, accept))
            .to_http_request();
        prefers_plain_json(&Accept::parse(&request).expect("an Accept header"))
    }

    #[test]
    fn plain_json_only_when_preferred() {
        assert!(prefers("application/json"));
        assert!(prefers("application/json, */*;q=0.1"));
        assert!(prefers("application/problem+json;q=0.5, application/json"));
        assert!(!prefers("*/*"));
        assert!(!prefers("application/*"));
        assert!(!prefers("application/problem+json, application/json"));
        assert!(!prefers("application/json;q=0.5, application/*"));
        assert!(!prefers("text/html"));
    }
}
