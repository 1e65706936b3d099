//! Objects outside a token's reach answer exactly as objects that do not exist.

use serde_json::{json, Value};

use crate::common::TestApp;
use crate::db_test;

const OP: &str = "liberterra-iii";

/// A problem body without what differs from request to request.
fn shape(mut body: Value, id: &str) -> Value {
    body.as_object_mut().expect("problem").remove("request_id");
    let detail = body["detail"].as_str().unwrap_or_default().replace(id, "<id>");
    body["detail"] = json!(detail);
    body
}

db_test!(
    async fn out_of_reach_is_not_found(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        let units = format!("/v1/operations/{OP}/units");
        let fr = app.post(&units, json!({"country": "FR", "name": "FR unit", "kind": "field_unit"})).await.expect(201);
        let fr_id = fr.body["id"].as_i64().expect("id").to_string();
        let missing = (fr.body["id"].as_i64().expect("id") + 1000).to_string();
        let gb = app.token("operations:read units:write tokens:issue", &["GB"], &[OP]);

        // Reading and changing: another country's unit and a missing one answer alike.
        let other = app.get_as(&gb, &format!("{units}/{fr_id}")).await.expect_problem(404);
        let absent = app.get_as(&gb, &format!("{units}/{missing}")).await.expect_problem(404);
        assert_eq!(shape(other.body, &fr_id), shape(absent.body, &missing));
        for body in [json!({"officers_deployed": 1}), json!({"officers_deployed": "junk"}), json!([1])] {
            let other = app.patch_as(&gb, &format!("{units}/{fr_id}"), Some("\"1\""), body.clone()).await.expect_problem(404);
            let absent = app.patch_as(&gb, &format!("{units}/{missing}"), Some("\"1\""), body).await.expect_problem(404);
            assert_eq!(shape(other.body, &fr_id), shape(absent.body, &missing));
        }
        // A unit id that cannot exist answers the same way.
        let odd = app.get_as(&gb, &format!("{units}/not-a-number")).await.expect_problem(404);
        assert_eq!(shape(odd.body, "not-a-number"), shape(app.get_as(&gb, &format!("{units}/{missing}")).await.body, &missing));

        // Revoking: another country's token and a token never issued answer alike.
        let issued = app
            .post("/v1/tokens", json!({"sub": "fr-sync", "scope": "operations:read", "countries": ["FR"], "ops": [OP], "ttl_seconds": 600}))
            .await
            .expect(201);
        let fr_jti = issued.body["jti"].as_str().expect("jti");
        let other = app.post_as(&gb, &format!("/v1/tokens/{fr_jti}/revoke"), json!({})).await.expect_problem(404);
        let absent = app.post_as(&gb, "/v1/tokens/00000000-0000-4000-8000-000000000000/revoke", json!({})).await.expect_problem(404);
        assert_eq!(shape(other.body, fr_jti), shape(absent.body, "00000000-0000-4000-8000-000000000000"));
        // And the FR unit and token are untouched.
        assert_eq!(app.get(&format!("{units}/{fr_id}")).await.expect(200).body["officers_deployed"], 0);
        let fr_token = issued.body["token"].as_str().expect("token");
        app.get_as(fr_token, &format!("/v1/operations/{OP}")).await.expect(200);
    }
);
