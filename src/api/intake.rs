//! The bounded intake of a batch: what a batch body can cost before it is refused.
//!
//! A batch is read without ever building a tree of JSON values. The envelope `{"items": [...]}`
//! is read with each item kept as a borrowed slice of the body ([`RawValue`]) and counted as
//! it is read: one item past the limit stops the reading at once with a 422 at `/items`. Each
//! item is then read into its typed form on its own ([`item`]), so a malformed item costs what
//! its own members cost and is reported with its pointer. The body's syntax is checked first
//! without allocating ([`check_syntax`]); nesting is skipped over without recursion there, and
//! every typed read stops at serde_json's depth limit (128), so no body can overflow the stack.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::extract::{check_syntax, parse_shape};
use crate::error::Error;

/// The envelope of a batch body: only `items` is allowed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a, const MAX: usize> {
    #[serde(borrow)]
    items: Items<'a, MAX>,
}

/// At most `MAX` items, each the raw JSON text of one item, borrowed from the body.
struct Items<'a, const MAX: usize>(Vec<&'a RawValue>);

impl<'de: 'a, 'a, const MAX: usize> Deserialize<'de> for Items<'a, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(CountingVisitor::<MAX>(PhantomData))
    }
}

struct CountingVisitor<'a, const MAX: usize>(PhantomData<&'a ()>);

impl<'de: 'a, 'a, const MAX: usize> Visitor<'de> for CountingVisitor<'a, MAX> {
    type Value = Items<'a, MAX>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "an array of 1 to {MAX} items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            if items.len() == MAX {
                return Err(de::Error::custom(format!(
                    "must hold 1 to {MAX} items (got more than {MAX})"
                )));
            }
            items.push(item);
        }
        Ok(Items(items))
    }
}

/// The items of a batch body, each as its own JSON text, 1 to `MAX` of them: 400 for a body
/// that is not JSON, 422 at `/items` for too many or none, 422 with a pointer for another shape.
pub fn batch_items<const MAX: usize>(bytes: &[u8]) -> Result<Vec<Box<RawValue>>, Error> {
    check_syntax(bytes)?;
    let envelope: Envelope<MAX> = parse_shape(&mut serde_json::Deserializer::from_slice(bytes))?;
    if envelope.items.0.is_empty() {
        return Err(Error::invalid("/items", format!("must hold 1 to {MAX} items (got 0)")));
    }
    Ok(envelope.items.0.into_iter().map(RawValue::to_owned).collect())
}

/// Reads one item of a batch into its typed form; 422 with a pointer from the item's root.
pub fn item<T: DeserializeOwned>(raw: &RawValue) -> Result<T, Error> {
    parse_shape(&mut serde_json::Deserializer::from_str(raw.get()))
}

/// Reads what it can of `T` from an item, ignoring every other member and any error: for
/// the reference and country of an item that is otherwise refused.
pub fn probe<T: DeserializeOwned + Default>(raw: &RawValue) -> T {
    serde_json::from_str(raw.get()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pointer(result: Result<Vec<Box<RawValue>>, Error>) -> Option<String> {
        match result {
            Err(Error::Validation(errors)) => errors[0].pointer.clone(),
            _ => None,
        }
    }

    #[test]
    fn counts_items_and_stops_past_the_limit() {
        let ok = batch_items::<3>(br#"{"items": [{"a": 1}, [2], "three"]}"#).unwrap_or_default();
        assert_eq!(
            ok.iter().map(|r| r.get()).collect::<Vec<_>>(),
            vec![r#"{"a": 1}"#, "[2]", r#""three""#]
        );
        assert_eq!(
            pointer(batch_items::<3>(br#"{"items": [1, 2, 3, 4]}"#)).as_deref(),
            Some("/items")
        );
        assert_eq!(
            pointer(batch_items::<3>(br#"{"items": []}"#)).as_deref(),
            Some("/items")
        );
        assert_eq!(
            pointer(batch_items::<3>(br#"{"items": {}}"#)).as_deref(),
            Some("/items")
        );
        assert_eq!(
            pointer(batch_items::<3>(br#"{"items": [], "extra": 1}"#)).as_deref(),
            Some("/extra")
        );
        assert_eq!(pointer(batch_items::<3>(br#"[1, 2]"#)).as_deref(), Some("/0"));
        assert!(matches!(
            batch_items::<3>(br#"{"items": [1, "#),
            Err(Error::MalformedJson(_))
        ));
        assert!(matches!(
            batch_items::<3>("[".repeat(100_000).as_bytes()),
            Err(Error::MalformedJson(_))
        ));
        // Deep nesting is skipped over without recursion, and refused by the typed read at
        // serde_json's depth limit, never by overflowing the stack.
        let deep = format!("{{\"items\": [{}{}]}}", "[".repeat(100_000), "]".repeat(100_000));
        let items = batch_items::<3>(deep.as_bytes()).unwrap_or_default();
        assert_eq!(items.len(), 1);
        assert!(matches!(
            item::<Vec<serde_json::Value>>(&items[0]),
            Err(Error::Validation(_))
        ));
    }
}
