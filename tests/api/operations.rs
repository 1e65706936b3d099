//! Operations: create, replay, read, list across pages, change under If-Match, status moves.

use serde_json::json;

use crate::common::TestApp;
use crate::db_test;

fn new_operation(id: &str) -> serde_json::Value {
    json!({"id": id, "name": "Liberterra III", "description": "week of action", "coordinator": "INTERPOL",
           "starts_on": "2025-09-08", "ends_on": "2025-09-14", "public": true})
}

db_test!(
    async fn create_read_and_replay(db) {
        let app = TestApp::start(db).await;
        let created = app.post("/v1/operations", new_operation("liberterra-iii")).await.expect(201);
        assert_eq!(created.header("etag").as_deref(), Some("\"1\""));
        assert_eq!(created.body["status"], "planned");
        assert_eq!(created.body["suppression_threshold"], 5);
        assert_eq!(created.body["public"], true);
        assert_eq!(created.body["participating_countries"], json!([]));

        let read = app.get("/v1/operations/liberterra-iii").await.expect(200);
        assert_eq!(read.header("etag").as_deref(), Some("\"1\""));
        assert_eq!(read.body, created.body);

        // The same create again changes nothing and says so with 200.
        let replay = app.post("/v1/operations", new_operation("liberterra-iii")).await.expect(200);
        assert_eq!(replay.body, created.body);

        // Other content under the same id is a conflict, and the stored operation stays.
        let mut other = new_operation("liberterra-iii");
        other["name"] = json!("Something else");
        app.post("/v1/operations", other).await.expect_problem(409);
        assert_eq!(app.get("/v1/operations/liberterra-iii").await.body["name"], "Liberterra III");

        app.get("/v1/operations/no-such-op").await.expect_problem(404);
    }
);

db_test!(
    async fn list_pages_through_every_operation_once(db) {
        let app = TestApp::start(db).await;
        let mut ids: Vec<String> = (0..7).map(|i| format!("op-{i:02}")).collect();
        for id in ids.iter().rev() {
            app.post("/v1/operations", new_operation(id)).await.expect(201);
        }
        let mut seen = Vec::new();
        let mut url = "/v1/operations?limit=3".to_string();
        let mut pages = 0;
        loop {
            let page = app.get(&url).await.expect(200);
            pages += 1;
            let items = page.body["items"].as_array().expect("items").clone();
            assert!(items.len() <= 3);
            seen.extend(items.iter().map(|op| op["id"].as_str().expect("id").to_string()));
            match page.body["next_cursor"].as_str() {
                Some(cursor) => url = format!("/v1/operations?limit=3&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        ids.sort();
        assert_eq!(seen, ids);

        // Default limit returns all seven in one page; a forged cursor is refused.
        let all = app.get("/v1/operations").await.expect(200);
        assert_eq!(all.body["items"].as_array().map(Vec::len), Some(7));
        assert!(all.body["next_cursor"].is_null());
        let bad = app.get("/v1/operations?cursor=zzz").await.expect_problem(400);
        assert_eq!(bad.body["errors"][0]["parameter"], "cursor");
        for limit in ["0", "1001", "ten"] {
            let bad = app.get(&format!("/v1/operations?limit={limit}")).await.expect_problem(400);
            assert_eq!(bad.body["errors"][0]["parameter"], "limit");
        }
    }
);

db_test!(
    async fn patch_under_if_match(db) {
        let app = TestApp::start(db).await;
        app.post("/v1/operations", new_operation("liberterra-iii")).await.expect(201);
        let url = "/v1/operations/liberterra-iii";

        let changed = app.patch(url, Some("\"1\""), json!({"name": "Liberterra 3"})).await.expect(200);
        assert_eq!(changed.header("etag").as_deref(), Some("\"2\""));
        assert_eq!(changed.body["version"], 2);
        assert_eq!(changed.body["name"], "Liberterra 3");
        assert_eq!(changed.body["description"], "week of action");

        // A stale version is refused and changes nothing.
        let stale = app.patch(url, Some("\"1\""), json!({"name": "Lost update"})).await.expect_problem(412);
        assert!(stale.body["detail"].as_str().is_some_and(|d| d.contains('2')));
        assert_eq!(app.get(url).await.body["name"], "Liberterra 3");

        // A patch that changes nothing keeps the version; `*` and a list of tags match.
        let same = app.patch(url, Some("*"), json!({"name": "Liberterra 3"})).await.expect(200);
        assert_eq!(same.body["version"], 2);
        app.patch(url, Some("\"7\", \"2\""), json!({"public": false})).await.expect(200);
        app.patch(url, Some("W/\"3\""), json!({"public": true})).await.expect_problem(412);

        // Without If-Match the change applies to whatever is stored.
        let last = app.patch(url, None, json!({"coordinator": "INTERPOL CCF"})).await.expect(200);
        assert_eq!(last.body["version"], 4);
        assert_eq!(app.get(url).await.header("etag").as_deref(), Some("\"4\""));
    }
);

db_test!(
    async fn status_moves_and_rules(db) {
        let app = TestApp::start(db).await;
        app.post("/v1/operations", new_operation("op-status")).await.expect(201);
        let url = "/v1/operations/op-status";

        app.patch(url, None, json!({"status": "closed"})).await.expect_problem(409);
        app.patch(url, None, json!({"status": "active"})).await.expect(200);
        app.patch(url, None, json!({"status": "planned"})).await.expect_problem(409);
        app.patch(url, None, json!({"status": "closed"})).await.expect(200);
        let reopened = app.patch(url, None, json!({"status": "active"})).await.expect(200);
        assert_eq!(reopened.body["status"], "active");
        assert_eq!(reopened.body["version"], 4);

        let bad = app.patch(url, None, json!({"ends_on": "2025-09-01"})).await.expect_problem(422);
        assert_eq!(bad.pointers(), vec!["/ends_on"]);
        let bad = app.patch(url, None, json!({"suppression_threshold": 0})).await.expect_problem(422);
        assert_eq!(bad.pointers(), vec!["/suppression_threshold"]);
        let bad = app.patch(url, None, json!({"status": "finished"})).await.expect_problem(422);
        assert_eq!(bad.pointers(), vec!["/status"]);
        let bad = app.patch(url, None, json!({"id": "renamed"})).await.expect_problem(422);
        assert_eq!(bad.pointers(), vec!["/id"]);
        assert_eq!(app.get(url).await.body["version"], 4);
    }
);

db_test!(
    async fn create_rules_each_have_a_pointer(db) {
        let app = TestApp::start(db).await;
        let bad = app
            .post(
                "/v1/operations",
                json!({"id": "Not A Slug", "name": " ", "starts_on": "2025-09-08", "ends_on": "2025-09-01",
                       "suppression_threshold": 0, "description": "x".repeat(2001)}),
            )
            .await
            .expect_problem(422);
        let mut pointers = bad.pointers();
        pointers.sort();
        assert_eq!(pointers, vec!["/description", "/ends_on", "/id", "/name", "/suppression_threshold"]);

        let bad = app
            .post("/v1/operations", json!({"id": "op-x", "name": "x", "starts_on": "2025-13-01", "ends_on": "2025-09-01"}))
            .await
            .expect_problem(422);
        assert_eq!(bad.pointers(), vec!["/starts_on"]);
        let bad = app.post("/v1/operations", json!({"id": "op-x", "name": "x"})).await.expect_problem(422);
        assert_eq!(bad.pointers(), vec!["/starts_on"]);
        let closed = json!({"id": "op-x", "name": "x", "status": "closed", "starts_on": "2025-09-01", "ends_on": "2025-09-01"});
        assert_eq!(app.post("/v1/operations", closed).await.expect_problem(422).pointers(), vec!["/status"]);
        app.get("/v1/operations/op-x").await.expect_problem(404);
    }
);
