//! Authorization comes before validation everywhere: a caller who may not act gets 403 (or the
//! 404 of an object out of its reach) whatever is wrong with its body, headers or query, and so
//! learns nothing about the rules of a request it may not make.

use actix_web::http::header::HeaderValue;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::common::TestApp;
use crate::db_test;
use crate::interceptions::departure;

const OP: &str = "liberterra-iii";

/// Every way a request can be malformed, applied to a request to `uri`.
fn spoiled(method: &str, uri: &str) -> Vec<(&'static str, TestRequest)> {
    let base = || TestRequest::default().method(method.parse().expect("method")).uri(uri);
    let json = |body: &str| {
        base()
            .insert_header(("content-type", "application/json"))
            .set_payload(body.to_string())
    };
    let glue = if uri.contains('?') { '&' } else { '?' };
    vec![
        ("malformed JSON (400)", json("{\"a\": ")),
        (
            "not JSON (415)",
            base().insert_header(("content-type", "text/plain")).set_payload("{}"),
        ),
        ("no content type (415)", base().set_payload("{}")),
        ("wrong shape (422)", json("[1, 2, 3]")),
        ("unknown member (422)", json(r#"{"chidren": 1}"#)),
        (
            "too large (413)",
            json(&format!("{{\"notes\": \"{}\"}}", "x".repeat(4096))),
        ),
        (
            "bad If-Match (400)",
            json("{}").insert_header(("if-match", HeaderValue::from_bytes(b"\"1\xff\"").expect("header"))),
        ),
        (
            "bad Idempotency-Key (400)",
            json("{}").insert_header(("idempotency-key", "has spaces in it")),
        ),
        (
            "bad query (400)",
            TestRequest::default()
                .method(method.parse().expect("method"))
                .uri(&format!("{uri}{glue}atomic=maybe&limit=x&bogus=1"))
                .insert_header(("content-type", "application/json"))
                .set_payload("{}"),
        ),
    ]
}

db_test!(
    async fn a_caller_who_may_not_act_learns_nothing_about_the_rules(db) {
        let app = TestApp::start_with(db, |s| s.body_limit_bytes = 2048).await;
        app.operation(OP).await;
        app.operation("other-op").await;
        let units = format!("/v1/operations/{OP}/units");
        let fr_unit = app.post(&units, json!({"country": "FR", "name": "FR unit", "kind": "field_unit"})).await.expect(201).body["id"].as_i64().expect("id");
        let gb_unit = app.post(&units, json!({"country": "GB", "name": "GB unit", "kind": "field_unit"})).await.expect(201).body["id"].as_i64().expect("id");
        app.post(&format!("/v1/operations/{OP}/interceptions/batch"), json!({"items": [departure("FR", "FR-1", 5)]})).await.expect(200);

        let reader = app.token("operations:read interceptions:read tallies:read", &["*"], &["*"]);
        let gb_writer = app.token("operations:write units:write interceptions:write tallies:write tokens:issue", &["GB"], &[OP]);
        let every_country_other_op = app.token("operations:write", &["*"], &["other-op"]);
        let cases: Vec<(&str, &str, String, &String, u16)> = vec![
            ("create an operation without the scope", "POST", "/v1/operations".into(), &reader, 403),
            ("change an operation without the scope", "PATCH", format!("/v1/operations/{OP}"), &reader, 403),
            ("change an operation for one country only", "PATCH", format!("/v1/operations/{OP}"), &gb_writer, 403),
            ("register a unit without the scope", "POST", units.clone(), &reader, 403),
            ("change a unit without the scope", "PATCH", format!("{units}/{gb_unit}"), &reader, 403),
            ("change another country's unit", "PATCH", format!("{units}/{fr_unit}"), &gb_writer, 404),
            ("push one without the scope", "PUT", format!("/v1/operations/{OP}/interceptions/GB/X-1"), &reader, 403),
            ("push one for another country", "PUT", format!("/v1/operations/{OP}/interceptions/FR/X-1"), &gb_writer, 403),
            ("push one in another operation", "PUT", "/v1/operations/other-op/interceptions/GB/X-1".into(), &gb_writer, 403),
            ("push a batch without the scope", "POST", format!("/v1/operations/{OP}/interceptions/batch"), &reader, 403),
            ("push a batch in another operation", "POST", "/v1/operations/other-op/interceptions/batch".into(), &gb_writer, 403),
            ("retract without the scope", "DELETE", format!("/v1/operations/{OP}/interceptions/FR/FR-1"), &reader, 403),
            ("retract another country's", "DELETE", format!("/v1/operations/{OP}/interceptions/FR/FR-1"), &gb_writer, 403),
            ("state a figure without the scope", "PUT", format!("/v1/operations/{OP}/tallies/GB/arrests"), &reader, 403),
            ("state another country's figure", "PUT", format!("/v1/operations/{OP}/tallies/FR/arrests"), &gb_writer, 403),
            ("issue a token without the scope", "POST", "/v1/tokens".into(), &reader, 403),
            ("list interceptions without the scope", "GET", format!("/v1/operations/{OP}/interceptions"), &gb_writer, 403),
            ("read the feed without the scope", "GET", format!("/v1/operations/{OP}/changes"), &gb_writer, 403),
            ("read the audit trail without the scope", "GET", format!("/v1/operations/{OP}/audit"), &gb_writer, 403),
            ("read tallies without the scope", "GET", format!("/v1/operations/{OP}/tallies"), &gb_writer, 403),
        ];
        let before = app.get(&format!("/v1/operations/{OP}/changes?limit=1000")).await.expect(200).body;
        for (name, method, uri, token, status) in &cases {
            for (spoil, request) in spoiled(method, uri) {
                let reply = app.send_as(Some(token), request).await;
                assert_eq!(reply.status.as_u16(), *status, "{name}, {spoil}: {}", reply.body);
            }
        }
        // A token for one operation cannot learn the body rules by creating another, nor by
        // sending a body that names no operation at all.
        for body in [r#"{"id": "third-op", "name": ""}"#, r#"{"id": "#, "[1, 2]", r#"{"chidren": 1}"#] {
            let request = TestRequest::post().uri("/v1/operations").insert_header(("content-type", "application/json")).set_payload(body);
            app.send_as(Some(&every_country_other_op), request).await.expect_problem(403);
        }
        // A GB writer naming FR in a unit body is refused before the other members are judged.
        let named = json!({"country": "FR", "name": "", "kind": "no-such-kind", "officers_deployed": -1});
        app.post_as(&gb_writer, &units, named).await.expect_problem(403);
        // A batch item for another country is refused as such, whatever else is wrong with it.
        let item = json!({"country": "FR", "external_ref": "FR-2", "kind": "no-such-kind"});
        let batch = app.post_as(&gb_writer, &format!("/v1/operations/{OP}/interceptions/batch"), json!({"items": [item]})).await.expect(200);
        assert_eq!(batch.body["results"][0]["problem"]["status"], 403, "{}", batch.body);
        // Nothing changed.
        assert_eq!(app.get(&format!("/v1/operations/{OP}/changes?limit=1000")).await.expect(200).body, before);
    }
);

db_test!(
    async fn a_query_naming_another_country_is_403_whatever_else_is_wrong_with_it(db) {
        // Found from outside: a list asked for another country with a second, malformed parameter
        // answered 400 (and so described the rules of a read the caller may not make).
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        let senegal = app.token("operations:read interceptions:read interceptions:write tallies:read", &["SN"], &[OP]);
        let reads = [
            "interceptions?limit=abc",
            "tallies?metric=nope",
            "reporting?day=2025-9-1",
            "units?limit=0",
            "sync/digest?extra=1",
            "imports?cursor=%%%",
        ];
        for read in reads {
            let (path, bad) = read.split_once('?').expect("a query");
            let url = |country: &str| format!("/v1/operations/{OP}/{path}?country={country}&{bad}");
            let foreign = app.get_as(&senegal, &url("FR")).await.expect_problem(403);
            assert_eq!(foreign.body["type"], "urn:opcoord:problem:forbidden", "{read}");
            // Its own country, or a country that is not a code: the query's own 400.
            app.get_as(&senegal, &url("SN")).await.expect_problem(400);
            app.get_as(&senegal, &url("F1")).await.expect_problem(400);
        }
        // The import names its country in the query as well.
        let upload = TestRequest::post()
            .uri(&format!("/v1/operations/{OP}/imports?country=FR&atomic=maybe"))
            .insert_header(("content-type", "text/csv"))
            .set_payload("external_ref\n");
        app.send_as(Some(&senegal), upload).await.expect_problem(403);
    }
);
