//! The file of an import, read from the request: the raw body (`text/csv`, XLSX, ODS or
//! `application/octet-stream`) or the first file part of `multipart/form-data`, never more
//! than the import size limit (413 as soon as it is passed, from `Content-Length` or while
//! reading), within the body timeout.

use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;

use crate::domain::import::{FileFormat, ODS_MEDIA_TYPE, XLSX_MEDIA_TYPE};
use crate::error::Error;

/// The body of an import, not read yet: the handler reads it with [`Upload::read`] once the
/// caller may act (authorization before the body, as for JSON bodies).
pub struct Upload {
    req: HttpRequest,
    payload: Payload,
}

impl FromRequest for Upload {
    type Error = Error;
    type Future = std::future::Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Upload {
            req: req.clone(),
            payload: payload.take(),
        }))
    }
}

/// A file as sent.
#[derive(Debug)]
pub struct SentFile {
    /// The name the client gave it (a multipart part's file name, or `file_name`), if any.
    pub name: Option<String>,
    /// The format its media type or name's ending says it is, if they say.
    pub declared: Option<FileFormat>,
    /// The file.
    pub bytes: Vec<u8>,
}

/// The format a media type names: `None` for `application/octet-stream` (the file says what
/// it is), 415 for a type that is not a spreadsheet.
fn declared_by_type(essence: &str) -> Result<Option<FileFormat>, Error> {
    match essence {
        "text/csv" | "text/plain" | "application/csv" | "text/comma-separated-values" | "application/vnd.ms-excel" => {
            Ok(Some(FileFormat::Csv))
        }
        XLSX_MEDIA_TYPE => Ok(Some(FileFormat::Xlsx)),
        ODS_MEDIA_TYPE => Ok(Some(FileFormat::Ods)),
        "application/octet-stream" | "" => Ok(None),
        other => Err(Error::UnsupportedMediaType(format!(
            "`{other}` is not a spreadsheet; send text/csv, {XLSX_MEDIA_TYPE}, {ODS_MEDIA_TYPE} or multipart/form-data"
        ))),
    }
}

/// The format a file name's ending names, if it names one.
pub fn declared_by_name(name: &str) -> Option<FileFormat> {
    let lower = name.to_ascii_lowercase();
    let (_, ending) = lower.rsplit_once('.')?;
    FileFormat::parse(ending)
}

/// A file name cut to its last path segment and 200 characters, without control characters.
pub fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    last.chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .trim()
        .to_string()
}

fn essence(value: Option<&header::HeaderValue>) -> String {
    value
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

impl Upload {
    /// Reads the file, at most `limit` bytes, within `timeout`.
    pub async fn read(self, limit: usize, timeout: Duration) -> Result<SentFile, Error> {
        let too_large = Error::PayloadTooLarge { limit };
        let announced = self
            .req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > limit as u64 + 64 * 1024) {
            return Err(too_large);
        }
        let kind = essence(self.req.headers().get(header::CONTENT_TYPE));
        let reading = async move {
            if kind == "multipart/form-data" {
                read_multipart(self.req, self.payload, limit).await
            } else {
                let declared = declared_by_type(&kind)?;
                // Sized once from Content-Length, rather than doubled as it grows.
                let expected = announced.map_or(0, |n| n.min(limit as u64) as usize);
                let bytes = read_stream(self.payload, limit, expected).await?;
                Ok(SentFile {
                    name: None,
                    declared,
                    bytes,
                })
            }
        };
        actix_web::rt::time::timeout(timeout, reading)
            .await
            .map_err(|_| Error::RequestTimeout {
                secs: timeout.as_secs(),
            })?
    }
}

/// Reads a stream of chunks into bytes, 413 once past `limit`.
async fn read_stream<S, E>(mut stream: S, limit: usize, expected: usize) -> Result<Vec<u8>, Error>
where
    S: futures_util::Stream<Item = Result<actix_web::web::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut bytes = Vec::with_capacity(expected);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Error::MalformedJson(format!("the body could not be read: {e}")))?;
        if bytes.len() + chunk.len() > limit {
            return Err(Error::PayloadTooLarge { limit });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The first part of a multipart body that carries a file (a part named `file`, or any part
/// with a file name); other parts are skipped.
async fn read_multipart(req: HttpRequest, payload: Payload, limit: usize) -> Result<SentFile, Error> {
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload);
    while let Some(field) = multipart.next().await {
        let field = field.map_err(|e| bad_multipart(&e))?;
        let disposition = field.content_disposition().cloned();
        let name = disposition.as_ref().and_then(|d| d.get_filename()).map(str::to_string);
        let is_file = name.is_some() || disposition.as_ref().and_then(|d| d.get_name()) == Some("file");
        if !is_file {
            // Drain the part so the next one can be read; bounded by the limit too.
            read_stream(field, limit, 0).await?;
            continue;
        }
        let declared = match field.content_type().map(|m| m.essence_str().to_ascii_lowercase()) {
            Some(kind) => declared_by_type(&kind).unwrap_or(None),
            None => None,
        }
        .or_else(|| name.as_deref().and_then(declared_by_name));
        let bytes = read_stream(field, limit, 0).await?;
        return Ok(SentFile { name, declared, bytes });
    }
    Err(Error::invalid(
        "/file",
        "the multipart body has no file part; send the spreadsheet as a part named `file`",
    ))
}

fn bad_multipart(e: &actix_multipart::MultipartError) -> Error {
    match e {
        actix_multipart::MultipartError::Payload(actix_web::error::PayloadError::Overflow) => {
            Error::PayloadTooLarge { limit: 0 }
        }
        other => Error::MalformedJson(format!("the multipart body cannot be read: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types() {
        assert_eq!(clean_name("C:\\Users\\desk\\day 3.xlsx"), "day 3.xlsx");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(declared_by_name("Day3.XLSX"), Some(FileFormat::Xlsx));
        assert_eq!(declared_by_name("report"), None);
        assert!(declared_by_type("application/json").is_err());
        assert_eq!(declared_by_type("application/octet-stream").ok(), Some(None));
    }
}
