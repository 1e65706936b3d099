//! Releases: the secretariat makes, reviews and publishes them; the public reads only what is
//! published, as JSON, CSV and a page; a published release never changes; every endpoint
//! checks scope, operation and every country.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::db_test;
use crate::interceptions::departure;

const OP: &str = "liberterra-iii";

/// A public operation with units in three countries and a few records.
pub async fn public_operation(app: &TestApp, id: &str, name: &str) {
    let operation = json!({"id": id, "name": name, "status": "active", "public": true,
                           "starts_on": "2025-09-08", "ends_on": "2025-09-14"});
    app.post("/v1/operations", operation).await.expect(201);
    for (country, officers) in [("SN", 300), ("ES", 120), ("GM", 3)] {
        let unit = json!({"country": country, "name": "NCB", "kind": "national_central_bureau", "officers_deployed": officers});
        app.post(&format!("/v1/operations/{id}/units"), unit).await.expect(201);
    }
    let victims = |country: &str, r: &str, total: i64, female: i64| {
        let mut item = departure(country, r, 40);
        item["victims"] = json!({"total": total, "female": female, "male": total - female});
        item
    };
    let items =
        json!({"items": [victims("SN", "R-1", 20, 2), victims("ES", "R-2", 21, 21), victims("GM", "R-3", 1, 0)]});
    app.post(&format!("/v1/operations/{id}/interceptions/batch"), items)
        .await
        .expect(200);
}

fn public(path: &str) -> TestRequest {
    TestRequest::get().uri(path)
}

fn release_path(op: &str, tail: &str) -> String {
    format!("/v1/public/operations/{op}/releases/{tail}")
}

db_test!(
    async fn a_release_is_made_reviewed_published_and_never_changes(db) {
        let app = TestApp::start(db).await;
        public_operation(&app, OP, "Operation Liberterra III").await;
        let secretariat = format!("/v1/operations/{OP}/releases");

        // The live public figures are gone; nothing is public before a release is published.
        app.send_as(None, public(&format!("/v1/public/operations/{OP}/tallies"))).await.expect_problem(404);
        app.send_as(None, public(&release_path(OP, "latest"))).await.expect_problem(404);
        let list = app.send_as(None, public(&format!("/v1/public/operations/{OP}/releases"))).await.expect(200);
        assert_eq!(list.body["releases"], json!([]));

        // A draft: the publication as it would be, and the review beside it.
        let draft = app.post(&secretariat, json!({"kind": "interim"})).await.expect(201);
        assert_eq!(draft.body["release"]["number"], 1);
        assert_eq!(draft.body["release"]["status"], "draft");
        assert_eq!(draft.body["release"]["rounding_base"], 5);
        assert!(draft.body["publication"]["published_at"].is_null());
        let review = draft.body["review"].as_array().expect("review");
        let gm = review.iter().find(|r| r["metric"] == "victims_safeguarded" && r["country"] == "GM").expect("GM");
        assert_eq!((gm["value"].as_i64(), gm["published"].as_i64(), gm["treatment"].as_str()), (Some(1), None, Some("withheld")));
        assert!(draft.body["withheld"].as_u64() > Some(0));
        app.post(&secretariat, json!({})).await.expect_problem(409);
        app.post(&secretariat, json!({"kind": "daily"})).await.expect_problem(422);
        app.send_as(None, public(&release_path(OP, "latest"))).await.expect_problem(404);
        app.send_as(None, public(&release_path(OP, "1"))).await.expect_problem(404);
        let reviewed = app.get(&format!("{secretariat}/1")).await.expect(200);
        assert_eq!(reviewed.body["publication"], draft.body["publication"]);

        // Published: the public reads exactly what was reviewed, stamped with the time.
        let published = app.post(&format!("{secretariat}/1/publish"), json!({})).await.expect(200);
        assert_eq!(published.body["release"]["status"], "published");
        let again = app.post(&format!("{secretariat}/1/publish"), json!({})).await.expect(200);
        assert_eq!(again.body["release"]["published_at"], published.body["release"]["published_at"]);
        let latest = app.send_as(None, public(&release_path(OP, "latest"))).await.expect(200);
        let mut expected = draft.body["publication"].clone();
        expected["published_at"] = published.body["release"]["published_at"].clone();
        assert_eq!(latest.body, expected);
        assert_eq!(latest.header("cache-control").as_deref(), Some("public, max-age=60"));
        assert_eq!(app.send_as(None, public(&release_path(OP, "1"))).await.expect(200).body, latest.body);
        assert_eq!(app.send_as(None, public(&release_path(OP, "1.json"))).await.expect(200).body, latest.body);
        let text = serde_json::to_string(&latest.body).expect("json");
        assert!(!text.contains("as_of_seq"), "the global feed position is not public");
        let headline = &latest.body["headline"];
        assert_eq!(headline["participating_countries"], json!({"value": 3, "exact": true}));
        assert!(headline["method"].as_str().is_some_and(|m| m.contains("multiple of 5")));
        assert!(latest.body["method"]["statement"].as_str().is_some_and(|s| s.contains("fewer than 5")));

        // CSV by Accept or by ending; the page by Accept (as browsers send) or by ending.
        for request in [public(&release_path(OP, "latest")).insert_header(("accept", "text/csv")), public(&release_path(OP, "1.csv"))] {
            let csv = app.send_as(None, request).await.expect(200);
            assert_eq!(csv.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
            let body = csv.body.as_str().expect("text").to_string();
            assert!(body.starts_with("release,metric,table,key,figure,exact,note\n"), "{body}");
            assert!(body.contains("1,participating_countries,headline,,3,true,exact\n"), "{body}");
            assert!(body.contains("1,victims_safeguarded,country,GM,,false,fewer than 5\n"), "{body}");
        }
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        for request in [public(&release_path(OP, "latest")).insert_header(("accept", browser)), public(&release_path(OP, "1.html"))] {
            let page = app.send_as(None, request).await.expect(200);
            assert_eq!(page.header("content-type").as_deref(), Some("text/html; charset=utf-8"));
            assert!(page.header("content-security-policy").is_some_and(|c| c.starts_with("default-src 'none'")));
            let body = page.body.as_str().expect("text").to_string();
            assert!(body.contains("<h1>Operation Liberterra III</h1>") && body.contains("Senegal (SN)"), "{body}");
            assert!(body.contains("fewer than 5") && !body.to_lowercase().contains("<script"), "{body}");
        }

        // New writes change nothing public until the next release.
        let items = json!({"items": [departure("SN", "R-4", 12)]});
        app.post(&format!("/v1/operations/{OP}/interceptions/batch"), items).await.expect(200);
        assert_eq!(app.send_as(None, public(&release_path(OP, "latest"))).await.expect(200).body, latest.body);

        // A published release is never discarded; a draft is, and its number is reused.
        app.send(TestRequest::delete().uri(&format!("{secretariat}/1"))).await.expect_problem(409);
        let second = app.post(&secretariat, json!({"kind": "final"})).await.expect(201);
        assert_eq!(second.body["release"]["number"], 2);
        app.send(TestRequest::delete().uri(&format!("{secretariat}/2"))).await.expect(204);
        app.get(&format!("{secretariat}/2")).await.expect_problem(404);
        assert_eq!(app.post(&secretariat, json!({"kind": "final"})).await.expect(201).body["release"]["number"], 2);
        let listed = app.get(&secretariat).await.expect(200);
        let statuses: Vec<&str> = listed.body["items"].as_array().expect("items").iter().filter_map(|r| r["status"].as_str()).collect();
        assert_eq!(statuses, vec!["published", "draft"]);
        assert_eq!(app.send_as(None, public(&release_path(OP, "latest"))).await.expect(200).body["number"], 1);

        // Who made, published and discarded each release is in the audit trail.
        let audit = app.get(&format!("/v1/operations/{OP}/audit")).await.expect(200);
        let actions: Vec<(String, String)> = audit.body["entries"].as_array().expect("entries").iter()
            .filter(|e| e["entity"] == "release")
            .map(|e| (e["action"].as_str().unwrap_or("").to_string(), e["key"].as_str().unwrap_or("").to_string()))
            .collect();
        let expected: Vec<(String, String)> = [("create", "1"), ("publish", "1"), ("create", "2"), ("discard", "2"), ("create", "2")]
            .iter().map(|(a, k)| (a.to_string(), k.to_string())).collect();
        assert_eq!(actions, expected);
        assert!(audit.body["entries"].as_array().expect("entries").iter().filter(|e| e["entity"] == "release").all(|e| e["sub"] == "test"));

        // The contract's path without /v1 leads to the same place.
        let moved = app.send_as(None, public(&format!("/public/operations/{OP}/releases/latest.csv?x=1"))).await.expect(308);
        assert_eq!(moved.header("location").as_deref(), Some(&*format!("/v1/public/operations/{OP}/releases/latest.csv?x=1")));
    }
);

db_test!(
    async fn every_release_endpoint_checks_scope_operation_and_countries(db) {
        let app = TestApp::start(db).await;
        public_operation(&app, OP, "Operation Liberterra III").await;
        app.operation("other-op").await;
        let base = format!("/v1/operations/{OP}/releases");
        app.post(&base, json!({})).await.expect(201);
        let endpoints: Vec<(&str, String, &str)> = vec![
            ("POST", base.clone(), "releases:write"),
            ("GET", base.clone(), "releases:read"),
            ("GET", format!("{base}/1"), "releases:read"),
            ("POST", format!("{base}/1/publish"), "releases:write"),
            ("DELETE", format!("{base}/1"), "releases:write"),
        ];
        let request = |method: &str, path: &str| {
            let request = match method {
                "POST" => TestRequest::post().set_json(json!({})),
                "DELETE" => TestRequest::delete(),
                _ => TestRequest::get(),
            };
            request.uri(path)
        };
        for (method, path, scope) in &endpoints {
            let other = if *scope == "releases:read" { "releases:write tallies:read operations:read" } else { "releases:read tallies:write audit:read" };
            let refused = [
                (app.token(other, &["*"], &[OP]), "a token without the scope"),
                (app.token(scope, &["*"], &["other-op"]), "a token for another operation"),
                (app.token(scope, &["SN"], &[OP]), "a token for one country"),
                (app.token(&format!("{scope} tallies:read"), &["SN", "ES", "GM"], &["*"]), "a token for some countries"),
            ];
            for (token, who) in refused {
                let reply = app.send_as(Some(&token), request(method, path)).await;
                assert_eq!(reply.status.as_u16(), 403, "{who}: {method} {path}: {}", reply.body);
            }
            app.send_as(None, request(method, path)).await.expect_problem(401);
        }
        // The right token gets through each of them.
        let reader = app.token("releases:read", &["*"], &[OP]);
        let writer = app.token("releases:write", &["*"], &[OP]);
        app.get_as(&reader, &base).await.expect(200);
        app.get_as(&reader, &format!("{base}/1")).await.expect(200);
        app.send_as(Some(&writer), request("DELETE", &format!("{base}/1"))).await.expect(204);
        app.post_as(&writer, &base, json!({})).await.expect(201);
        app.post_as(&writer, &format!("{base}/1/publish"), json!({})).await.expect(200);
        // A path that names no release is 404, once the checks have passed.
        for bad in ["0", "-1", "x", "99"] {
            app.get_as(&reader, &format!("{base}/{bad}")).await.expect_problem(404);
        }
        app.get("/v1/operations/no-such-op/releases").await.expect_problem(404);
    }
);

db_test!(
    async fn only_public_operations_are_read_and_every_text_is_escaped(db) {
        let app = TestApp::start(db).await;
        let name = "<script>alert('x')</script> & \"Co\"";
        public_operation(&app, OP, name).await;
        app.operation("private-op").await;
        for op in [OP, "private-op"] {
            let made = app.post(&format!("/v1/operations/{op}/releases"), json!({})).await.expect(201);
            let n = made.body["release"]["number"].as_i64().expect("number");
            app.post(&format!("/v1/operations/{op}/releases/{n}/publish"), json!({})).await.expect(200);
        }
        for path in [release_path("private-op", "latest"), release_path("private-op", "1"), release_path("no-such-op", "latest"),
                     "/v1/public/operations/private-op/releases".to_string(), release_path(OP, "2"), release_path(OP, "x.csv")] {
            app.send_as(None, public(&path)).await.expect_problem(404);
        }
        let page = app.send_as(None, public(&release_path(OP, "latest.html"))).await.expect(200);
        let body = page.body.as_str().expect("text");
        assert!(!body.contains("<script>") && body.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Co&quot;"), "{body}");
        let json: Value = app.send_as(None, public(&release_path(OP, "latest"))).await.expect(200).body;
        assert_eq!(json["operation_name"], name);
    }
);
