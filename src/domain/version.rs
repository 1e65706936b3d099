//! Optimistic concurrency: the version of a resource is its `ETag`, and `If-Match` names the
//! version a client saw.

use crate::error::{Error, Result};

/// What an `If-Match` header asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IfMatch {
    /// No `If-Match`: the write applies to whatever is stored.
    #[default]
    Absent,
    /// `If-Match: *`: the resource must exist.
    Any,
    /// The resource must be at one of these versions.
    Versions(Vec<i64>),
}

impl IfMatch {
    /// Checks the stored `current` version, failing with 412 when it is not one the client named.
    pub fn check(&self, current: i64) -> Result<()> {
        match self {
            IfMatch::Versions(versions) if !versions.contains(&current) => Err(Error::PreconditionFailed { current }),
            _ => Ok(()),
        }
    }
}

/// The `ETag` value of a version: a strong tag holding the number, such as `"3"`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

#[cfg(test)]
mod tests {
    use super::IfMatch;

    #[test]
    fn precondition() {
        assert!(IfMatch::Absent.check(3).is_ok());
        assert!(IfMatch::Any.check(3).is_ok());
        assert!(IfMatch::Versions(vec![2, 3]).check(3).is_ok());
        assert!(IfMatch::Versions(vec![2]).check(3).is_err());
    }
}
