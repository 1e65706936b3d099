//! Which methods each route of the API answers, read from the OpenAPI document the routes make,
//! so that a request for a known path with another method gets 405 and an `Allow` header
//! (RFC 9110, 15.5.6) rather than 404.

use std::collections::BTreeSet;

use serde_json::Value;

/// The methods of each path template of the document.
#[derive(Debug, Default)]
pub struct RouteMethods {
    routes: Vec<(Vec<Segment>, BTreeSet<String>)>,
}

#[derive(Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Parameter,
}

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "patch", "head", "options"];

impl RouteMethods {
    /// The routes of an OpenAPI document (its `paths` and their operations).
    pub fn from_document(document: &Value) -> RouteMethods {
        let Some(paths) = document.get("paths").and_then(Value::as_object) else {
            return RouteMethods::default();
        };
        let routes = paths
            .iter()
            .map(|(template, item)| {
                let segments = template
                    .split('/')
                    .map(|s| match s.starts_with('{') && s.ends_with('}') {
                        true => Segment::Parameter,
                        false => Segment::Literal(s.to_string()),
                    })
                    .collect();
                let methods = METHODS
                    .iter()
                    .filter(|m| item.get(**m).is_some())
                    .map(|m| m.to_ascii_uppercase())
                    .collect();
                (segments, methods)
            })
            .collect();
        RouteMethods { routes }
    }

    /// The methods the routes matching `path` answer, sorted; empty when no route matches it.
    pub fn allowed(&self, path: &str) -> Vec<String> {
        let parts: Vec<&str> = path.split('/').collect();
        let mut allowed = BTreeSet::new();
        for (segments, methods) in &self.routes {
            let matches = segments.len() == parts.len()
                && segments.iter().zip(&parts).all(|(segment, part)| match segment {
                    Segment::Literal(literal) => literal == part,
                    Segment::Parameter => !part.is_empty(),
                });
            if matches {
                allowed.extend(methods.iter().cloned());
            }
        }
        // Every GET route answers HEAD too (`api::head`).
        if allowed.contains("GET") {
            allowed.insert("HEAD".to_string());
        }
        allowed.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_gets_the_methods_of_every_template_it_matches() {
        let document = serde_json::json!({"paths": {
            "/v1/operations": {"get": {}, "post": {}},
            "/v1/operations/{op}": {"get": {}, "patch": {}, "parameters": []},
            "/v1/operations/{op}/changes": {"get": {}},
        }});
        let routes = RouteMethods::from_document(&document);
        assert_eq!(routes.allowed("/v1/operations"), ["GET", "HEAD", "POST"]);
        assert_eq!(routes.allowed("/v1/operations/x"), ["GET", "HEAD", "PATCH"]);
        assert_eq!(routes.allowed("/v1/operations/x/changes"), ["GET", "HEAD"]);
        assert!(
            routes.allowed("/v1/operations/").is_empty(),
            "a parameter is never empty"
        );
        assert!(routes.allowed("/v1/operations/x/nothing").is_empty());
        assert!(routes.allowed("/v2/operations").is_empty());
    }
}
