//! The OpenAPI document as published at `/openapi.json` and committed as
//! `openapi/openapi.json`: what utoipa collects from the handlers and [`super::ApiDoc`], with
//! the rules that hold for every operation applied, written as OpenAPI 3.0.3.

use serde_json::{json, Map, Value};

use super::oas30;
use crate::error::PROBLEM_JSON;

/// The published document built from the collected one.
pub fn publish(collected: utoipa::openapi::OpenApi) -> serde_json::Result<Value> {
    let mut document = serde_json::to_value(collected)?;
    declare_open_operations(&mut document);
    parameters_are_never_null(&mut document);
    problems_in_either_media_type(&mut document);
    oas30::lower(&mut document);
    Ok(document)
}

/// The operations of the document, each with its method.
fn operations(document: &mut Value) -> impl Iterator<Item = (&String, &mut Map<String, Value>)> {
    let paths = document.get_mut("paths").and_then(Value::as_object_mut);
    paths
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.iter_mut())
        .filter(|(method, _)| {
            matches!(
                method.as_str(),
                "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
            )
        })
        .filter_map(|(method, operation)| operation.as_object_mut().map(|operation| (method, operation)))
}

/// An operation that names no security requirement needs no token, and says so with
/// `security: []`, so that no reader mistakes it for one that forgot to say (the test
/// `no_endpoint_is_open_without_a_token` checks both kinds against the server).
fn declare_open_operations(document: &mut Value) {
    for (_, operation) in operations(document) {
        operation.entry("security").or_insert_with(|| Value::Array(Vec::new()));
    }
}

/// A parameter is text in a path, a query string or a header: it can be left out (it is then
/// not `required`), never be `null`. utoipa writes an `Option<T>` header as "T or null", which
/// misleads generators (progenitor makes it an optional optional); here it is T.
fn parameters_are_never_null(document: &mut Value) {
    let null = json!({ "type": "null" });
    for (_, operation) in operations(document) {
        let parameters = operation.get_mut("parameters").and_then(Value::as_array_mut);
        for schema in parameters.into_iter().flatten().filter_map(|p| p.get_mut("schema")) {
            let Some(schema) = schema.as_object_mut() else {
                continue;
            };
            if let Some(Value::Array(types)) = schema.get_mut("type") {
                types.retain(|t| t != "null");
                if let [only] = types.as_slice() {
                    let only = only.clone();
                    schema.insert("type".into(), only);
                }
            }
            for keyword in ["oneOf", "anyOf"] {
                if let Some(Value::Array(members)) = schema.get_mut(keyword) {
                    members.retain(|member| member != &null);
                    if let [Value::Object(only)] = members.as_slice() {
                        let only = only.clone();
                        schema.remove(keyword);
                        for (key, value) in only {
                            schema.entry(key).or_insert(value);
                        }
                    }
                }
            }
        }
    }
}

/// Every problem answer may come as `application/json` too, when the request's `Accept`
/// prefers it ([`super::negotiate`]): generators that type JSON answers only (progenitor) then
/// type problems as well.
fn problems_in_either_media_type(document: &mut Value) {
    let also_plain = |response: &mut Value| {
        let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
            return;
        };
        if let Some(problem) = content.get(PROBLEM_JSON).cloned() {
            content.entry("application/json").or_insert(problem);
        }
    };
    let shared = document
        .pointer_mut("/components/responses")
        .and_then(Value::as_object_mut);
    shared.into_iter().flat_map(|r| r.values_mut()).for_each(also_plain);
    for (_, operation) in operations(document) {
        let own = operation.get_mut("responses").and_then(Value::as_object_mut);
        own.into_iter().flat_map(|r| r.values_mut()).for_each(also_plain);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_operations_and_parameters() {
        let mut document = json!({"paths": {"/a": {
            "parameters": [],
            "get": {"parameters": [
                {"name": "If-Match", "in": "header", "schema": {"type": ["string", "null"]}},
                {"name": "kind", "in": "query", "schema": {"oneOf": [{"type": "null"}, {"$ref": "#/k"}]}}
            ]},
            "put": {"security": [{"bearer": ["a:write"]}]}
        }}});
        declare_open_operations(&mut document);
        parameters_are_never_null(&mut document);
        let item = &document["paths"]["/a"];
        assert_eq!(item["get"]["security"], json!([]));
        assert_eq!(item["put"]["security"], json!([{"bearer": ["a:write"]}]));
        assert_eq!(item["parameters"], json!([]), "not an operation");
        assert_eq!(item["get"]["parameters"][0]["schema"], json!({"type": "string"}));
        assert_eq!(item["get"]["parameters"][1]["schema"], json!({"$ref": "#/k"}));
    }

    #[test]
    fn problems_may_come_as_plain_json() {
        let problem = json!({"schema": {"$ref": "#/components/schemas/Problem"}});
        let mut document = json!({
            "components": {"responses": {"NotFound": {"content": {"application/problem+json": problem}}}},
            "paths": {"/a": {"get": {"responses": {
                "200": {"content": {"text/csv": {}}},
                "409": {"content": {"application/problem+json": problem}}
            }}}}
        });
        problems_in_either_media_type(&mut document);
        let both = json!({"application/json": problem, "application/problem+json": problem});
        assert_eq!(document["components"]["responses"]["NotFound"]["content"], both);
        assert_eq!(document["paths"]["/a"]["get"]["responses"]["409"]["content"], both);
        assert_eq!(
            document["paths"]["/a"]["get"]["responses"]["200"]["content"],
            json!({"text/csv": {}})
        );
    }
}
