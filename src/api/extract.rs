//! Request extractors that turn every way a request can be wrong into a precise problem:
//! the JSON body (415, 413, 400, 422 with pointers), the query string (400 naming the
//! parameter) and `If-Match`.

use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde_path_to_error::{Path, Segment};
use sha2::{Digest, Sha256};

use crate::domain::version::IfMatch;
use crate::error::{Error, FieldError};

/// How large a body may be and how long it may take to arrive; registered as app data beside
/// actix's `PayloadConfig`.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    /// The largest body accepted, in bytes.
    pub bytes: usize,
    /// The longest a client may take to send the body once its headers arrived.
    pub timeout: Duration,
}

impl Default for BodyLimit {
    fn default() -> BodyLimit {
        BodyLimit {
            bytes: 4 * 1024 * 1024,
            timeout: Duration::from_secs(60),
        }
    }
}

/// A request body, not read yet. Extractors run before the handler can check the caller, so
/// nothing about the body is looked at there: the handler reads it with [`Body::raw`] or
/// [`Body::json`] once the caller is known to be allowed to act, and a caller who may not act
/// learns nothing about the body rules (403 comes before 400, 408, 413, 415 and 422) and costs
/// nothing to read or parse.
pub struct Body {
    req: HttpRequest,
    payload: Payload,
}

impl FromRequest for Body {
    type Error = Error;
    type Future = std::future::Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Body {
            req: req.clone(),
            payload: payload.take(),
        }))
    }
}

impl Body {
    /// Reads the body, checked for its media type (415), size (413) and time to arrive (408).
    pub async fn raw(mut self) -> Result<RawJson, Error> {
        check_media_type(&self.req)?;
        let limits = self.req.app_data::<BodyLimit>().copied().unwrap_or_default();
        let limit = limits.bytes;
        let head = format!(
            "{} {}?{}\n",
            self.req.method(),
            self.req.path(),
            self.req.query_string()
        );
        let body = Bytes::from_request(&self.req, &mut self.payload);
        // A client that trickles its body would hold a worker's connection for ever.
        let read = actix_web::rt::time::timeout(limits.timeout, body)
            .await
            .map_err(|_| Error::RequestTimeout {
                secs: limits.timeout.as_secs(),
            })?;
        let bytes = read.map_err(|e| match e.as_error::<PayloadError>() {
            Some(PayloadError::Overflow) => Error::PayloadTooLarge { limit },
            _ => Error::MalformedJson(format!("the body could not be read: {e}")),
        })?;
        let mut hasher = Sha256::new();
        hasher.update(head.as_bytes());
        hasher.update(&bytes);
        Ok(RawJson {
            bytes,
            fingerprint: hex::encode(hasher.finalize()),
        })
    }

    /// Reads and parses the body (see [`parse_json`]).
    pub async fn json<T: DeserializeOwned>(self) -> Result<T, Error> {
        parse_json(&self.raw().await?.bytes)
    }
}

/// A JSON request body checked for its media type and size but not parsed yet, with the
/// SHA-256 of the request (method, path, query and body) for idempotency keys.
pub struct RawJson {
    /// The body.
    pub bytes: Bytes,
    /// Hex SHA-256 over the method, path, query string and body.
    pub fingerprint: String,
}

/// A part of the request (query string, header) read by an extractor but judged only when the
/// handler asks, after it has checked the caller: its problem, if any, waits until then.
pub struct Deferred<T>(Result<T, Error>, Option<String>);

impl<T> Deferred<T> {
    /// The value, or its 400.
    pub fn checked(self) -> Result<T, Error> {
        self.0
    }

    /// The value, or its 400, once the caller is known to cover the country the query string
    /// names, if it names one that is a country code: a token asking for another country's data
    /// is told 403 whatever else is wrong with its query (a malformed `country` is the 400 of
    /// the query, as any other parameter).
    pub fn checked_for(self, caller: &crate::auth::Caller) -> Result<T, Error> {
        if let Some(code) = self.1.as_deref().and_then(crate::domain::country::normalise) {
            caller.require_country(&code)?;
        }
        self.0
    }
}

/// Accepts `application/json`, `application/merge-patch+json` and any other `+json` type.
fn check_media_type(req: &HttpRequest) -> Result<(), Error> {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return Err(Error::UnsupportedMediaType("send the body as application/json".into()));
    };
    let essence = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json")) {
        Ok(())
    } else {
        Err(Error::UnsupportedMediaType(format!(
            "`{essence}` is not JSON; send application/json"
        )))
    }
}

/// Parses a body: not JSON is 400; JSON of the wrong shape is 422 with a pointer to the member.
///
/// What it costs is bounded by the body's size, not by its shape: the syntax is checked first
/// without building anything (serde's `IgnoredAny`), then the typed value is read straight
/// from the bytes (stopping at serde_json's depth limit of 128), so JSON of the wrong
/// shape (a 4 MB array where an object belongs) fails at its first token instead of being
/// built as a tree of values first.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    check_syntax(bytes)?;
    parse_shape(&mut serde_json::Deserializer::from_slice(bytes))
}

/// 400 unless `bytes` is one well-formed JSON value; allocates nothing.
pub fn check_syntax(bytes: &[u8]) -> Result<(), Error> {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map(|_| ())
        .map_err(|e| Error::MalformedJson(e.to_string()))
}

/// Reads a typed value from JSON already known to be well-formed; 422 with a pointer otherwise.
pub fn parse_shape<'de, T: serde::Deserialize<'de>, R: serde_json::de::Read<'de>>(
    deserializer: &mut serde_json::Deserializer<R>,
) -> Result<T, Error> {
    serde_path_to_error::deserialize(deserializer).map_err(|e| shape_error(&e))
}

/// The 422 for JSON of the wrong shape, pointing at the member.
pub fn shape_error(e: &serde_path_to_error::Error<serde_json::Error>) -> Error {
    let message = e.inner().to_string();
    // Data errors read from bytes end with their position; the pointer says where instead.
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(head, _)| head);
    let pointer = pointer_of(e.path(), message);
    Error::Validation(vec![FieldError::at(pointer, clean_message(message))])
}

/// The JSON pointer of a failing member; for an unknown or missing field, the field itself.
fn pointer_of(path: &Path, message: &str) -> String {
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => {}
        }
    }
    for prefix in ["unknown field `", "missing field `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            if let Some((field, _)) = rest.split_once('`') {
                if !pointer.ends_with(&format!("/{field}")) {
                    pointer.push('/');
                    pointer.push_str(field);
                }
            }
        }
    }
    pointer
}

/// Keeps serde's message but drops the long list of expected fields after an unknown one.
fn clean_message(message: &str) -> String {
    if message.starts_with("unknown field") {
        if let Some((head, _)) = message.split_once(", expected") {
            return format!("{head} (an unknown field is refused so a typo cannot drop data)");
        }
    }
    message.to_string()
}

/// A query string, checked for unknown parameters and bad values (400 naming the parameter)
/// when the handler asks for it with [`Deferred::checked`].
pub type QueryParams<T> = Deferred<T>;

impl<T: DeserializeOwned> FromRequest for Deferred<T> {
    type Error = Error;
    type Future = std::future::Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let query = req.query_string();
        let country = form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "country")
            .map(|(_, value)| value.into_owned());
        std::future::ready(Ok(Deferred(parse_query(query), country)))
    }
}

/// Reads a query string into `T`: 400 naming the parameter that is unknown or wrong.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, Error> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let message = e.inner().to_string();
        let name = match message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split_once('`'))
        {
            Some((field, _)) => field.to_string(),
            None => e.path().to_string(),
        };
        Error::bad_parameter(name, clean_message(&message))
    })
}

/// The `If-Match` header of a request, judged when the handler asks (after the caller).
pub struct IfMatchHeader(Deferred<IfMatch>);

impl IfMatchHeader {
    /// The precondition, or the 400 of a header that is not ASCII.
    pub fn checked(self) -> Result<IfMatch, Error> {
        self.0.checked()
    }
}

impl FromRequest for IfMatchHeader {
    type Error = Error;
    type Future = std::future::Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(IfMatchHeader(Deferred(parse_if_match(req), None))))
    }
}

/// Reads `If-Match`: `*`, or a list of strong entity tags holding versions (`"3"`). A weak tag
/// or one that holds no version matches nothing, so the write fails with 412.
fn parse_if_match(req: &HttpRequest) -> Result<IfMatch, Error> {
    let mut values = req.headers().get_all(header::IF_MATCH).peekable();
    if values.peek().is_none() {
        return Ok(IfMatch::Absent);
    }
    let mut versions = Vec::new();
    for value in values {
        let text = value
            .to_str()
            .map_err(|_| Error::bad_parameter("If-Match", "is not ASCII"))?;
        for tag in text.split(',').map(str::trim) {
            if tag == "*" {
                return Ok(IfMatch::Any);
            }
            if let Some(version) = tag
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .and_then(|t| t.parse::<i64>().ok())
            {
                versions.push(version);
            }
        }
    }
    Ok(IfMatch::Versions(versions))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn pointer(body: &str) -> Option<String> {
        match parse_json::<Outer>(body.as_bytes()) {
            Err(Error::Validation(errors)) => errors[0].pointer.clone(),
            _ => None,
        }
    }

    #[test]
    fn pointers_name_the_member() {
        assert_eq!(
            pointer(r#"{"name":"a","inner":{"count":-1}}"#).as_deref(),
            Some("/inner/count")
        );
        assert_eq!(
            pointer(r#"{"name":"a","inner":{"count":1,"cuont":2}}"#).as_deref(),
            Some("/inner/cuont")
        );
        assert_eq!(pointer(r#"{"name":"a"}"#).as_deref(), Some("/inner"));
        assert_eq!(pointer(r#"{"name":1,"inner":{"count":1}}"#).as_deref(), Some("/name"));
        assert!(matches!(parse_json::<Outer>(b"{"), Err(Error::MalformedJson(_))));
    }
}
