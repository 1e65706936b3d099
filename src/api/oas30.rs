//! Writes the OpenAPI 3.1 document that utoipa collects as OpenAPI 3.0.3, which every common
//! client generator reads (progenitor, for one, reads nothing else; docs/CLIENTS.md).
//!
//! Each 3.1 construct utoipa emits has an exact or customary 3.0 spelling:
//! - `type: [T, "null"]` → `type: T, nullable: true`;
//! - `oneOf: [X, {type: "null"}]` → X with `nullable: true`; when X is a reference, `allOf: [X]`
//!   with `nullable: true` beside it, the customary 3.0 spelling that the generators read as
//!   "X or null" (docs/CLIENTS.md says why no `type` goes beside it);
//! - a `$ref` with sibling keywords (3.0 ignores them) → `allOf: [{$ref}]` beside the siblings;
//! - `propertyNames` with an `enum` → one optional property per name and no others; a bare
//!   `propertyNames: {type: string}` says nothing a JSON object does not, and goes;
//! - `const` → a one-value `enum`, `examples` → `example`, numeric `exclusiveMinimum`/`Maximum` →
//!   the 3.0 boolean form; a string's `contentEncoding: base64` → `format: byte`, and its
//!   `contentMediaType` (raw content, such as an uploaded file) → `format: binary`;
//! - HTTP bearer requirements list no scopes (3.0 allows scopes for OAuth2 and OpenID Connect
//!   only): the scopes an operation needs move to `x-required-scopes`;
//! - `info.license.identifier` (3.1 only) goes; the license keeps its name.
//!
//! Anything else of 3.1 passes through unchanged; `tests/api/openapi.rs` fails on it by name.

use serde_json::{json, Map, Value};

/// The OpenAPI version the published document declares.
pub const VERSION: &str = "3.0.3";

/// Rewrites `document` (OpenAPI 3.1, as utoipa writes it) as OpenAPI 3.0.3, in place.
pub fn lower(document: &mut Value) {
    document["openapi"] = json!(VERSION);
    if let Some(license) = document.pointer_mut("/info/license").and_then(Value::as_object_mut) {
        license.remove("identifier");
    }
    let oauth_like = oauth_like_schemes(document);
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            for operation in item.as_object_mut().into_iter().flat_map(|item| item.values_mut()) {
                move_scopes(operation, &oauth_like);
            }
        }
    }
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for schema in schemas.values_mut() {
            lower_schema(schema, false);
        }
    }
    for part in ["paths", "components"] {
        if let Some(value) = document.get_mut(part) {
            lower_embedded_schemas(value);
        }
    }
}

/// Names of the security schemes whose requirements may list scopes in 3.0.
fn oauth_like_schemes(document: &Value) -> Vec<String> {
    document
        .pointer("/components/securitySchemes")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, scheme)| matches!(scheme["type"].as_str(), Some("oauth2" | "openIdConnect")))
        .map(|(name, _)| name.clone())
        .collect()
}

/// Empties the scope lists of the operation's requirements on other schemes, keeping the
/// scopes in `x-required-scopes`.
fn move_scopes(operation: &mut Value, oauth_like: &[String]) {
    let mut moved: Vec<Value> = Vec::new();
    let requirements = operation.get_mut("security").and_then(Value::as_array_mut);
    for requirement in requirements.into_iter().flatten().filter_map(Value::as_object_mut) {
        for (scheme, scopes) in requirement.iter_mut() {
            if oauth_like.contains(scheme) {
                continue;
            }
            if let Some(scopes) = scopes.as_array_mut() {
                for scope in scopes.drain(..) {
                    if !moved.contains(&scope) {
                        moved.push(scope);
                    }
                }
            }
        }
    }
    if !moved.is_empty() {
        operation["x-required-scopes"] = Value::Array(moved);
    }
}

/// Lowers every schema under a `schema` key (parameters, media types, headers) outside
/// `components/schemas`.
fn lower_embedded_schemas(value: &mut Value) {
    match value {
        Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                match key.as_str() {
                    "schema" if member.is_object() => lower_schema(member, false),
                    // Already lowered by `lower`.
                    "schemas" => {}
                    _ => lower_embedded_schemas(member),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(lower_embedded_schemas),
        _ => {}
    }
}

/// Lowers one schema and everything below it. `in_all_of`: the schema is a member of an
/// `allOf`, where keywords beside a `$ref` only repeat what the parent says.
fn lower_schema(schema: &mut Value, in_all_of: bool) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    unwrap_null_union(object);
    if object.contains_key("$ref") && object.len() > 1 {
        if in_all_of {
            object.retain(|key, _| key == "$ref");
        } else if let Some(reference) = object.remove("$ref") {
            object.insert("allOf".into(), json!([{ "$ref": reference }]));
        }
    }
    lower_type_list(object);
    lower_property_names(object);
    lower_keywords(object);
    for (key, child) in object.iter_mut() {
        match key.as_str() {
            "properties" => {
                for property in child.as_object_mut().into_iter().flat_map(|p| p.values_mut()) {
                    lower_schema(property, false);
                }
            }
            "items" | "additionalProperties" | "not" => lower_schema(child, false),
            "allOf" | "oneOf" | "anyOf" => {
                for member in child.as_array_mut().into_iter().flatten() {
                    lower_schema(member, key == "allOf");
                }
            }
            _ => {}
        }
    }
}

/// `oneOf`/`anyOf` with a `{type: "null"}` member: the other member, made nullable.
fn unwrap_null_union(object: &mut Map<String, Value>) {
    for keyword in ["oneOf", "anyOf"] {
        let Some(Value::Array(members)) = object.get_mut(keyword) else {
            continue;
        };
        let before = members.len();
        members.retain(|member| member != &json!({ "type": "null" }));
        if members.len() == before {
            continue;
        }
        object.insert("nullable".into(), Value::Bool(true));
        let single = match object.get(keyword) {
            Some(Value::Array(members)) if members.len() == 1 => members.first().cloned(),
            _ => None,
        };
        let Some(Value::Object(mut only)) = single else {
            continue;
        };
        object.remove(keyword);
        if let Some(reference) = only.remove("$ref") {
            object.insert("allOf".into(), json!([{ "$ref": reference }]));
        }
        for (key, value) in only {
            object.entry(key).or_insert(value);
        }
    }
}

/// `type: [T, "null"]` → `type: T, nullable: true`.
fn lower_type_list(object: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = object.get("type") else {
        return;
    };
    let others: Vec<Value> = types.iter().filter(|t| t.as_str() != Some("null")).cloned().collect();
    let nullable = others.len() < types.len();
    if let [only] = others.as_slice() {
        object.insert("type".into(), only.clone());
        if nullable {
            object.insert("nullable".into(), Value::Bool(true));
        }
    }
}

/// Map keys drawn from an enum become optional properties; unconstrained keys say nothing.
fn lower_property_names(object: &mut Map<String, Value>) {
    let Some(names) = object.remove("propertyNames") else {
        return;
    };
    let unconstrained = names
        .as_object()
        .is_some_and(|n| n.keys().all(|key| key == "type" || key == "description"));
    let values = object.get("additionalProperties").filter(|v| v.is_object()).cloned();
    match (names["enum"].as_array(), values) {
        (Some(allowed), Some(values)) if allowed.iter().all(Value::is_string) => {
            let properties: Map<String, Value> = allowed
                .iter()
                .filter_map(Value::as_str)
                .map(|name| (name.to_string(), values.clone()))
                .collect();
            object.insert("properties".into(), Value::Object(properties));
            object.insert("additionalProperties".into(), Value::Bool(false));
        }
        _ if unconstrained => {}
        _ => {
            object.insert("propertyNames".into(), names);
        }
    }
}

/// `const`, `examples`, numeric exclusive bounds and string contents in their 3.0 spelling.
fn lower_keywords(object: &mut Map<String, Value>) {
    let encoding = object.remove("contentEncoding");
    if object.remove("contentMediaType").is_some() || encoding.is_some() {
        let format = match encoding.as_ref().and_then(Value::as_str) {
            Some("base64") => "byte",
            _ => "binary",
        };
        object.entry("format").or_insert_with(|| json!(format));
    }
    if let Some(value) = object.remove("const") {
        object.insert("enum".into(), json!([value]));
    }
    if let Some(Value::Array(mut examples)) = object.remove("examples") {
        if !examples.is_empty() && !object.contains_key("example") {
            object.insert("example".into(), examples.swap_remove(0));
        }
    }
    for (exclusive, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        if let Some(limit) = object.get(exclusive).filter(|v| v.is_number()).cloned() {
            object.insert(bound.into(), limit);
            object.insert(exclusive.into(), Value::Bool(true));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lowered(schema: Value) -> Value {
        let mut document =
            json!({ "openapi": "3.1.0", "components": { "schemas": { "S": schema, "K": {"type": "string"} } } });
        lower(&mut document);
        document["components"]["schemas"]["S"].take()
    }

    #[test]
    fn nullable_types_and_references() {
        assert_eq!(
            lowered(json!({"type": ["string", "null"], "format": "date"})),
            json!({"type": "string", "format": "date", "nullable": true})
        );
        assert_eq!(
            lowered(json!({"oneOf": [{"$ref": "#/components/schemas/K", "description": "Kind."}, {"type": "null"}]})),
            json!({"allOf": [{"$ref": "#/components/schemas/K"}], "description": "Kind.", "nullable": true})
        );
        assert_eq!(
            lowered(json!({"properties": {"a": {"$ref": "#/components/schemas/K", "description": "A."}}})),
            json!({"properties": {"a": {"allOf": [{"$ref": "#/components/schemas/K"}], "description": "A."}}})
        );
        assert_eq!(
            lowered(json!({"allOf": [{"$ref": "#/components/schemas/K", "description": "Base."}, {"type": "object"}]})),
            json!({"allOf": [{"$ref": "#/components/schemas/K"}, {"type": "object"}]})
        );
        // Two non-null types have no 3.0 spelling: left for the test of the document to name.
        assert_eq!(
            lowered(json!({"type": ["string", "integer"]})),
            json!({"type": ["string", "integer"]})
        );
    }

    #[test]
    fn map_keys() {
        let values = json!({"type": "integer"});
        assert_eq!(
            lowered(json!({"type": "object", "additionalProperties": values, "propertyNames": {"type": "string"}})),
            json!({"type": "object", "additionalProperties": values})
        );
        assert_eq!(
            lowered(json!({"type": "object", "additionalProperties": values,
                           "propertyNames": {"type": "string", "enum": ["a", "b"]}})),
            json!({"type": "object", "additionalProperties": false, "properties": {"a": values, "b": values}})
        );
        let patterned = json!({"type": "object", "additionalProperties": values,
                               "propertyNames": {"type": "string", "pattern": "^[A-Z]{2}$"}});
        assert_eq!(lowered(patterned.clone()), patterned);
    }

    #[test]
    fn keywords_scopes_and_license() {
        assert_eq!(
            lowered(json!({"const": 3, "examples": [1, 2], "exclusiveMinimum": 0})),
            json!({"enum": [3], "example": 1, "minimum": 0, "exclusiveMinimum": true})
        );
        assert_eq!(
            lowered(json!({"type": "string", "contentMediaType": "application/octet-stream"})),
            json!({"type": "string", "format": "binary"})
        );
        assert_eq!(
            lowered(json!({"type": "string", "contentEncoding": "base64"})),
            json!({"type": "string", "format": "byte"})
        );
        let mut document = json!({
            "openapi": "3.1.0",
            "info": {"license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}},
            "paths": {"/a": {"get": {"security": [{"bearer": ["a:read", "b:read"]}, {"oauth": ["x"]}]}}},
            "components": {"securitySchemes": {"bearer": {"type": "http"}, "oauth": {"type": "oauth2"}}}
        });
        lower(&mut document);
        assert_eq!(document["openapi"], json!("3.0.3"));
        assert_eq!(document["info"]["license"], json!({"name": "Apache-2.0"}));
        let operation = &document["paths"]["/a"]["get"];
        assert_eq!(operation["security"], json!([{"bearer": []}, {"oauth": ["x"]}]));
        assert_eq!(operation["x-required-scopes"], json!(["a:read", "b:read"]));
    }
}
