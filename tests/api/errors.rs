//! Every error class of the API, each as an RFC 9457 problem that changes nothing.

use actix_web::test::TestRequest;
use diesel::connection::SimpleConnection;
use diesel::Connection;
use serde_json::json;

use crate::common::{TestApp, TestDb};
use crate::db_test;

db_test!(
    async fn bad_bodies(db) {
        let app = TestApp::start_with(db, |s| s.body_limit_bytes = 2048).await;
        let post = |body: &'static str, content_type: Option<&'static str>| {
            let mut request = TestRequest::post().uri("/v1/operations").set_payload(body);
            if let Some(content_type) = content_type {
                request = request.insert_header(("content-type", content_type));
            }
            request
        };
        let malformed = app.send(post("{\"id\": ", Some("application/json"))).await.expect_problem(400);
        assert!(malformed.body["detail"].as_str().is_some_and(|d| d.contains("line 1")));
        app.send(post("{}", Some("text/plain"))).await.expect_problem(415);
        app.send(post("{}", None)).await.expect_problem(415);
        app.send(post("[1, 2]", Some("application/json"))).await.expect_problem(422);

        let big = format!(
            r#"{{"id":"op-big","name":"x","starts_on":"2025-09-01","ends_on":"2025-09-02","description":"{}"}}"#,
            "a".repeat(3000)
        );
        let request = TestRequest::post()
            .uri("/v1/operations")
            .insert_header(("content-type", "application/json"))
            .set_payload(big);
        let too_big = app.send(request).await.expect_problem(413);
        assert!(too_big.body["detail"].as_str().is_some_and(|d| d.contains("2048")));

        // A typo in a nested or top-level member names the member.
        let typo = app
            .post("/v1/operations", json!({"id": "op-typo", "name": "x", "starts_on": "2025-09-01", "ends_on": "2025-09-02", "pubic": true}))
            .await
            .expect_problem(422);
        assert_eq!(typo.pointers(), vec!["/pubic"]);
        let wrong_type = app
            .post("/v1/operations", json!({"id": "op-typo", "name": "x", "starts_on": "2025-09-01", "ends_on": "2025-09-02", "public": "yes"}))
            .await
            .expect_problem(422);
        assert_eq!(wrong_type.pointers(), vec!["/public"]);

        // Nothing of the above was stored.
        assert_eq!(app.get("/v1/operations").await.expect(200).body["items"], json!([]));
        let unknown = app.get("/v2/nothing").await.expect_problem(404);
        assert!(unknown.body["detail"].as_str().is_some_and(|d| d.contains("/v2/nothing")));
    }
);

db_test!(
    async fn lost_database_is_503_and_recovers(db) {
        let app = TestApp::start_with(db, |s| {
            s.sqlite_busy_timeout_ms = 100;
            s.db_timeout_secs = 1;
            if s.database_url.starts_with("postgres") {
                let schema = s.database_url.rsplit("%3D").next().unwrap_or_default().to_string();
                s.database_url.push_str(&format!("&application_name={schema}"));
            }
        })
        .await;
        app.operation("op-before").await;
        let new = json!({"id": "op-after", "name": "x", "starts_on": "2025-09-01", "ends_on": "2025-09-02"});
        match db {
            TestDb::Sqlite => {
                // Another process holds the write lock longer than the busy timeout.
                let path = app.db_path();
                let mut other = diesel::sqlite::SqliteConnection::establish(&path).expect("open");
                other.batch_execute("BEGIN IMMEDIATE").expect("lock");
                let busy = app.post("/v1/operations", new.clone()).await.expect_problem(503);
                assert_eq!(busy.header("retry-after").as_deref(), Some("2"));
                assert!(!busy.body["detail"].as_str().unwrap_or_default().contains("locked"), "no internals");
                other.batch_execute("ROLLBACK").expect("unlock");
            }
            TestDb::Postgres => {
                let (admin_url, schema) = app.pg_schema().expect("postgres");
                let mut admin = diesel::pg::PgConnection::establish(admin_url).expect("admin");
                admin
                    .batch_execute(&format!(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{schema}'"
                    ))
                    .expect("terminate");
                let lost = app.get("/v1/operations/op-before").await.expect_problem(503);
                assert_eq!(lost.header("retry-after").as_deref(), Some("2"));
            }
        }
        // The service recovers by itself: the broken connection was dropped.
        app.post("/v1/operations", new).await.expect(201);
        app.get("/v1/operations/op-before").await.expect(200);
    }
);

db_test!(
    async fn counts_too_large_to_add_are_refused_not_a_crash(db) {
        // Found from outside by schemathesis: sums of counts near i64::MAX overflowed (a panic,
        // a 500, and a connection left inside its transaction for the requests after it).
        let app = TestApp::start(db).await;
        app.operation("liberterra-iii").await;
        let max = i64::MAX;
        let people = json!({"total": 1, "female": max, "male": max, "by_nationality": {"SN": max, "GM": max}});
        let mut victims = people.clone();
        victims["by_exploitation"] = json!({"forced_labour": max, "sexual_exploitation": max});
        let body = json!({"kind": "premises", "occurred_at": "2025-09-12T05:40:00Z", "migrants": people, "victims": victims});
        let uri = "/v1/operations/liberterra-iii/interceptions/SN/HUGE-1";
        let refused = app.send(TestRequest::put().uri(uri).set_json(&body)).await.expect_problem(422);
        for pointer in ["/migrants/by_nationality", "/migrants/male", "/victims/by_exploitation"] {
            assert!(refused.pointers().iter().any(|p| p == pointer), "{pointer}: {:?}", refused.pointers());
        }
        let batch = json!({"items": [{"country": "SN", "external_ref": "HUGE-2", "kind": "premises",
                                      "occurred_at": "2025-09-12T05:40:00Z", "victims": victims}]});
        let reply = app.post("/v1/operations/liberterra-iii/interceptions/batch", batch).await.expect(200);
        assert_eq!(reply.body["summary"]["rejected"], 1);
        app.get(uri).await.expect_problem(404);
    }
);

db_test!(
    async fn problems_come_as_plain_json_when_the_client_prefers_it(db) {
        let app = TestApp::start(db).await;
        let missing = |accept: Option<&'static str>| {
            let request = TestRequest::get().uri("/v1/operations/no-such-op");
            match accept {
                Some(accept) => request.insert_header(("accept", accept)),
                None => request,
            }
        };
        let problem = app.send(missing(None)).await.expect_problem(404);
        app.send(missing(Some("*/*"))).await.expect_problem(404);
        app.send(missing(Some("application/problem+json, application/json"))).await.expect_problem(404);
        for accept in ["application/json", "application/json, */*;q=0.5"] {
            let plain = app.send(missing(Some(accept))).await.expect(404);
            assert_eq!(plain.header("content-type").as_deref(), Some("application/json"), "{accept}");
            assert_eq!(plain.body["type"], problem.body["type"]);
            assert_eq!(plain.body["status"], 404);
        }
        // Answers that are not problems keep their type.
        let token = app.token("operations:read", &["*"], &["*"]);
        let reply = app
            .send_as(Some(&token), TestRequest::get().uri("/v1/operations").insert_header(("accept", "text/html")))
            .await
            .expect(200);
        assert_eq!(reply.header("content-type").as_deref(), Some("application/json"));
    }
);

db_test!(
    async fn text_with_a_nul_character_is_refused_on_both_backends(db) {
        // Found from outside by schemathesis on PostgreSQL, which cannot store U+0000 in text:
        // a PATCH of a unit's name with it was a 500 there and stored on SQLite.
        let app = TestApp::start(db).await;
        app.operation("liberterra-iii").await;
        let unit = app
            .post("/v1/operations/liberterra-iii/units", json!({"country": "SN", "name": "DGPN", "kind": "national_central_bureau"}))
            .await
            .expect(201);
        let uri = format!("/v1/operations/liberterra-iii/units/{}", unit.body["id"]);
        let refused = app.patch(&uri, None, json!({"name": "DG\u{0}PN"})).await.expect_problem(422);
        assert_eq!(refused.pointers(), vec!["/name"]);
        assert_eq!(app.get(&uri).await.expect(200).body["name"], "DGPN");
        let op = json!({"id": "op-nul", "name": "x", "description": "\u{0}", "starts_on": "2025-09-01", "ends_on": "2025-09-02"});
        assert_eq!(app.post("/v1/operations", op).await.expect_problem(422).pointers(), vec!["/description"]);
        let token = json!({"sub": "a\u{0}", "scope": "operations:read", "countries": ["SN"], "ops": ["liberterra-iii"], "ttl_seconds": 60});
        assert_eq!(app.post("/v1/tokens", token).await.expect_problem(422).pointers(), vec!["/sub"]);
    }
);

db_test!(
    async fn a_known_path_with_another_method_is_405_with_allow(db) {
        // Found from outside: every method a path does not take answered 404, as if the path
        // did not exist.
        let app = TestApp::start(db).await;
        app.operation("liberterra-iii").await;
        let cases = [
            (TestRequest::delete().uri("/v1/operations"), "GET, HEAD, POST"),
            (TestRequest::post().uri("/v1/operations/liberterra-iii/interceptions/SN/R-1"), "DELETE, GET, HEAD, PUT"),
            (TestRequest::patch().uri("/v1/operations/liberterra-iii/interceptions/SN/R-1/versions"), "GET, HEAD"),
            (TestRequest::put().uri("/v1/operations/liberterra-iii/changes"), "GET, HEAD"),
            (TestRequest::default().method(actix_web::http::Method::HEAD).uri("/v1/tokens/some-jti/revoke"), "POST"),
        ];
        for (request, allow) in cases {
            let reply = app.send(request).await.expect_problem(405);
            assert_eq!(reply.header("allow").as_deref(), Some(allow), "{}", reply.body);
            assert_eq!(reply.body["type"], "urn:opcoord:problem:method-not-allowed");
        }
        // Without a token too: the method is wrong whoever asks.
        let anonymous = app.send_as(None, TestRequest::delete().uri("/v1/operations")).await.expect_problem(405);
        assert_eq!(anonymous.header("allow").as_deref(), Some("GET, HEAD, POST"));
        // A path that is not the API's stays 404, whatever the method.
        for uri in ["/v1/operations/liberterra-iii/nothing", "/v1/operations/", "/v2/operations"] {
            app.send(TestRequest::delete().uri(uri)).await.expect_problem(404);
        }
        // And the routes themselves still answer.
        app.get("/v1/operations").await.expect(200);
    }
);
