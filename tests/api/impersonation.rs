//! No token can pass for another principal: a `sub` given through the API is named under its
//! issuer, and an idempotency key replays a stored answer only to a caller with the same reach.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::db_test;
use crate::interceptions::departure;

const OP: &str = "liberterra-iii";

/// Issues a token with `token`. What the test's own token (an hour) issues lives half an hour and what those
/// tokens issue ten minutes, so a child never outlives its parent by a second's tick.
async fn issue(app: &TestApp, token: &str, sub: &str, scope: &str, country: &str) -> Value {
    let ttl = if token == app.admin { 1800 } else { 600 };
    let body = json!({"sub": sub, "scope": scope, "countries": [country], "ops": [OP], "ttl_seconds": ttl});
    app.post_as(token, "/v1/tokens", body).await.expect(201).body
}

db_test!(
    async fn a_token_cannot_pass_for_another_principal(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        let write = "interceptions:write interceptions:read";
        let senegal = issue(&app, &app.admin, "sn-system", write, "SN").await;
        assert_eq!(senegal["sub"], "test/sn-system");
        let gb_issuer = issue(&app, &app.admin, "gb-issuer", &format!("tokens:issue {write}"), "GB").await;
        let gb_issuer_token = gb_issuer["token"].as_str().expect("token");

        // An issuer names tokens only inside its own branch.
        let named = issue(&app, gb_issuer_token, "sn-system", write, "GB").await;
        assert_eq!(named["sub"], "test/gb-issuer/sn-system");
        for sub in ["../sn-system", "test/sn-system", "/sn-system"] {
            let body = json!({"sub": sub, "scope": write, "countries": ["GB"], "ops": [OP], "ttl_seconds": 600});
            let refused = app.post_as(gb_issuer_token, "/v1/tokens", body).await.expect_problem(422);
            assert_eq!(refused.pointers(), vec!["/sub"], "{sub}");
        }

        // Senegal pushes a batch under a key.
        let url = format!("/v1/operations/{OP}/interceptions/batch");
        let batch = json!({"items": [departure("SN", "SN-1", 40)]});
        let send = |token: &str| {
            TestRequest::post()
                .uri(&url)
                .insert_header(("idempotency-key", "batch-2025-09-12"))
                .insert_header(("authorization", format!("Bearer {token}")))
                .set_json(batch.clone())
        };
        let first = app.send_as(None, send(senegal["token"].as_str().expect("token"))).await.expect(200);
        assert_eq!(first.body["summary"]["created"], 1);

        // Even a token given Senegal's very sub (by the same issuer) but for GB does not get
        // Senegal's stored answer: its request runs as its own, and SN's item is refused.
        let lookalike = issue(&app, &app.admin, "sn-system", write, "GB").await;
        assert_eq!(lookalike["sub"], senegal["sub"]);
        let replay = app.send_as(None, send(lookalike["token"].as_str().expect("token"))).await.expect(200);
        assert!(replay.header("idempotent-replayed").is_none(), "{}", replay.body);
        assert_eq!(replay.body["summary"]["rejected"], 1);
        assert_eq!(replay.body["results"][0]["problem"]["status"], 403);
        // Senegal's own retry still gets its answer back.
        let retry = app.send_as(None, send(senegal["token"].as_str().expect("token"))).await.expect(200);
        assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
        assert_eq!(retry.body, first.body);
    }
);
