//! The committed OpenAPI document is what the code produces and what the server serves.

use crate::common::{TestApp, TestDb};

#[actix_web::test]
async fn committed_spec_matches_code_and_server() {
    let produced = opcoord::openapi_json().expect("spec");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == produced,
        "openapi/openapi.json is stale: run `cargo run -- openapi --out openapi/openapi.json` and commit it"
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
