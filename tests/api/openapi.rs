//! The committed OpenAPI document is what the code produces and what the server serves, and it
//! is one that third-party generators read: OpenAPI 3.0 throughout, every operation described.

use serde_json::Value;

use crate::common::{TestApp, TestDb};

#[actix_web::test]
async fn committed_spec_matches_code_and_server() {
    let produced = opcoord::openapi_json().expect("spec");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == produced,
        "openapi/openapi.json is stale: run `cargo run -q -- openapi --out openapi/openapi.json`, record the \
         change in CHANGELOG.md, and commit both"
    );

    let app = TestApp::start(TestDb::Sqlite).await;
    let served = app.get("/openapi.json").await.expect(200);
    let produced: serde_json::Value = serde_json::from_str(&produced).expect("json");
    assert_eq!(served.body, produced);

    // Every response carries a description (validators refuse an empty response object).
    for (path, item) in produced["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            assert!(
                operation["operationId"].is_string(),
                "{method} {path} has no operationId"
            );
            for (status, response) in operation["responses"].as_object().expect("responses") {
                let described =
                    response["description"].as_str().is_some_and(|d| !d.is_empty()) || response["$ref"].is_string();
                assert!(described, "{method} {path} {status} has no description");
            }
        }
    }
    for (name, response) in produced["components"]["responses"].as_object().expect("responses") {
        assert!(
            response["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{name}"
        );
    }
    app.get("/docs/").await.expect(200);
}

/// Keywords of OpenAPI 3.1 (JSON Schema 2020-12) that OpenAPI 3.0 does not have.
const ONLY_IN_31: &[&str] = &[
    "propertyNames",
    "const",
    "prefixItems",
    "unevaluatedProperties",
    "unevaluatedItems",
    "dependentRequired",
    "dependentSchemas",
    "$defs",
    "contentMediaType",
    "contentEncoding",
    "if",
    "then",
    "else",
    "webhooks",
    "jsonSchemaDialect",
    "pathItems",
];

/// `allOf: [{$ref}]` alone, with `nullable: true` (and perhaps a description).
fn is_nullable_reference(schema: &serde_json::Map<String, Value>) -> bool {
    let single_reference = schema["allOf"]
        .as_array()
        .is_some_and(|members| members.len() == 1 && members[0]["$ref"].is_string());
    single_reference
        && schema
            .keys()
            .all(|key| ["allOf", "nullable", "description"].contains(&key.as_str()))
}

/// Every place in `value` that OpenAPI 3.0 cannot read, by JSON pointer.
fn constructs_of_31(value: &Value, at: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                let here = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
                let problem = match (key.as_str(), member) {
                    ("type", Value::Array(_)) => Some("a list of types"),
                    ("type", Value::String(name)) if name == "null" => Some("the type null"),
                    ("examples", Value::Array(_)) => Some("`examples` as a list (3.0: `example`)"),
                    ("exclusiveMinimum" | "exclusiveMaximum", Value::Number(_)) => Some("a numeric exclusive bound"),
                    // The one exception: "a value of a named schema, or null" (see .redocly.yaml).
                    ("nullable", _) if !members.contains_key("type") && !is_nullable_reference(members) => {
                        Some("`nullable` without a `type` beside it")
                    }
                    (key, _) if ONLY_IN_31.contains(&key) && !at.ends_with("/properties") => {
                        Some("a keyword of OpenAPI 3.1 only")
                    }
                    _ => None,
                };
                if let Some(problem) = problem {
                    found.push(format!("{here}: {problem}"));
                }
                constructs_of_31(member, &here, found);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                constructs_of_31(item, &format!("{at}/{index}"), found);
            }
        }
        _ => {}
    }
}

/// The document is OpenAPI 3.0.3 throughout (the generators that read only 3.0, progenitor
/// among them, depend on it), and follows the crate version.
#[test]
fn the_document_is_openapi_3_0_and_follows_the_crate_version() {
    let document = opcoord::openapi().expect("document");
    assert_eq!(document["openapi"], "3.0.3");
    assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
    let mut found = Vec::new();
    constructs_of_31(&document, "#", &mut found);
    assert!(
        found.is_empty(),
        "the document holds what OpenAPI 3.0 cannot express; teach src/api/oas30.rs to lower it, or \
         describe the type another way:\n{}",
        found.join("\n")
    );
    let schemes = document["components"]["securitySchemes"].as_object().expect("schemes");
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            for requirement in operation["security"].as_array().expect("security is always stated") {
                for (scheme, scopes) in requirement.as_object().expect("requirement") {
                    let kind = schemes[scheme]["type"].as_str().expect("a declared scheme");
                    assert!(
                        matches!(kind, "oauth2" | "openIdConnect") || scopes.as_array().is_some_and(Vec::is_empty),
                        "{method} {path}: OpenAPI 3.0 lists scopes only for OAuth2 schemes"
                    );
                }
            }
        }
    }
}

/// Every operation has a summary and a description of its own (a generated client shows both):
/// the first paragraph of the handler's doc comment is the summary, the rest the description.
#[test]
fn every_operation_is_summarised_and_described() {
    let document = opcoord::openapi().expect("document");
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let summary = operation["summary"].as_str().unwrap_or_default();
            let description = operation["description"].as_str().unwrap_or_default();
            assert!(
                !summary.is_empty() && !description.is_empty() && description != summary,
                "{method} {path}: give the handler's doc comment a one-line summary, an empty `///` \
                 line, then a paragraph saying what the operation does and answers"
            );
            assert!(
                !summary.contains('\n'),
                "{method} {path}: the summary (the doc comment's first paragraph) should be one line"
            );
        }
    }
}
