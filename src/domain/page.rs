//! Cursor pagination shared by every list: `limit` (1 to 1,000, default 100) and an opaque cursor.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::{Error, Result};

/// Items per page when `limit` is not given.
pub const DEFAULT_LIMIT: i64 = 100;
/// Largest `limit` accepted.
pub const MAX_LIMIT: i64 = 1000;

/// Checks `limit`, giving the default when it is absent.
pub fn limit(limit: Option<i64>) -> Result<i64> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(Error::bad_parameter(
            "limit",
            format!("must be between 1 and {MAX_LIMIT} (got {n})"),
        )),
    }
}

/// Makes the opaque cursor that resumes a list after `key`.
pub fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{key}"))
}

/// Reads a cursor made by [`encode_cursor`] over a numeric id; anything else is a 400 naming
/// `cursor`, which says it is not a cursor of `what`.
pub fn decode_id_cursor(cursor: Option<&str>, what: &str) -> Result<Option<i64>> {
    decode_cursor(cursor)?
        .map(|key| {
            key.parse::<i64>()
                .map_err(|_| Error::bad_parameter("cursor", format!("is not {what} cursor")))
        })
        .transpose()
}

/// Reads a cursor made by [`encode_cursor`]; anything else is a 400 naming `cursor`.
pub fn decode_cursor(cursor: Option<&str>) -> Result<Option<String>> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("v1:").map(str::to_string))
        .map(Some)
        .ok_or_else(|| Error::bad_parameter("cursor", "is not a cursor this service issued"))
}

/// Cuts a page fetched with `limit + 1` rows down to `limit`, returning the cursor of the next
/// page when there is one.
pub fn finish<T>(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(|row| encode_cursor(&key(row)));
        (rows, next)
    } else {
        (rows, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_garbage() {
        let c = encode_cursor("liberterra-iii");
        assert_eq!(
            decode_cursor(Some(&c)).ok().flatten().as_deref(),
            Some("liberterra-iii")
        );
        assert!(decode_cursor(Some("not a cursor")).is_err());
        assert!(decode_cursor(Some(&URL_SAFE_NO_PAD.encode("v2:x"))).is_err());
    }

    #[test]
    fn limits() {
        assert_eq!(limit(None).ok(), Some(100));
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(1001)).is_err());
        assert_eq!(limit(Some(1000)).ok(), Some(1000));
    }
}
