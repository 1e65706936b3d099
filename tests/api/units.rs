//! National units: registration, country rules, participation, changes and pages.

use serde_json::json;

use crate::common::TestApp;
use crate::db_test;

fn unit(country: &str, name: &str, officers: i64) -> serde_json::Value {
    json!({"country": country, "name": name, "kind": "field_unit", "officers_deployed": officers})
}

db_test!(
    async fn register_and_participate(db) {
        let app = TestApp::start(db).await;
        app.operation("liberterra-iii").await;
        let units = "/v1/operations/liberterra-iii/units";

        let gb = app.post(units, unit("gb", "NCB London", 120)).await.expect(201);
        assert_eq!(gb.body["country"], "GB", "lower case is normalised");
        assert_eq!(gb.body["active"], true);
        assert_eq!(gb.header("etag").as_deref(), Some("\"1\""));
        app.post(units, unit("SN", "DGPN", 300)).await.expect(201);
        app.post(units, unit("GB", "Border Force", 80)).await.expect(201);
        let replay = app.post(units, unit("GB", "NCB London", 120)).await.expect(200);
        assert_eq!(replay.body["id"], gb.body["id"]);
        app.post(units, unit("GB", "NCB London", 7)).await.expect_problem(409);

        let op = app.get("/v1/operations/liberterra-iii").await.expect(200);
        assert_eq!(op.body["participating_countries"], json!(["GB", "SN"]));
        assert_eq!(op.body["officers_deployed"], 500);

        // A deactivated unit no longer counts; a country with none active leaves the list.
        let sn = app.get(&format!("{units}?country=sn")).await.expect(200);
        let sn_id = sn.body["items"][0]["id"].as_i64().expect("id");
        let off = app.patch(&format!("{units}/{sn_id}"), Some("\"1\""), json!({"active": false})).await.expect(200);
        assert_eq!(off.body["version"], 2);
        let op = app.get("/v1/operations/liberterra-iii").await.expect(200);
        assert_eq!(op.body["participating_countries"], json!(["GB"]));
        assert_eq!(op.body["officers_deployed"], 200);

        let read = app.get(&format!("{units}/{sn_id}")).await.expect(200);
        assert_eq!(read.header("etag").as_deref(), Some("\"2\""));
        app.patch(&format!("{units}/{sn_id}"), Some("\"1\""), json!({"officers_deployed": 1})).await.expect_problem(412);
        app.get(&format!("{units}/999999")).await.expect_problem(404);
        app.get(&format!("{units}/not-a-number")).await.expect_problem(404);
    }
);

db_test!(
    async fn unit_rules(db) {
        let app = TestApp::start(db).await;
        app.operation("op-rules").await;
        let units = "/v1/operations/op-rules/units";
        for (body, pointer) in [
            (unit("XK", "Kosovo police", 1), "/country"),
            (unit("UK", "Met", 1), "/country"),
            (unit("GB", "", 1), "/name"),
            (unit("GB", "Met", -1), "/officers_deployed"),
            (json!({"country": "GB", "name": "Met", "kind": "army"}), "/kind"),
            (json!({"country": "GB", "name": "Met", "kind": "field_unit", "officers": 3}), "/officers"),
            (json!({"country": "GB", "kind": "field_unit"}), "/name"),
        ] {
            let bad = app.post(units, body).await.expect_problem(422);
            assert_eq!(bad.pointers(), vec![pointer]);
        }
        assert_eq!(app.get(units).await.body["items"], json!([]));
        app.post("/v1/operations/no-such-op/units", unit("GB", "Met", 1)).await.expect_problem(404);
        app.get("/v1/operations/no-such-op/units").await.expect_problem(404);

        let created = app.post(units, unit("GB", "Met", 1)).await.expect(201);
        let id = created.body["id"].as_i64().expect("id");
        let bad = app.patch(&format!("{units}/{id}"), None, json!({"country": "FR"})).await.expect_problem(422);
        assert_eq!(bad.pointers(), vec!["/country"]);
        app.get(&format!("{units}?country=ZZ")).await.expect_problem(400);
    }
);

db_test!(
    async fn closed_operation_freezes_units(db) {
        let app = TestApp::start(db).await;
        app.operation("op-closed").await;
        let units = "/v1/operations/op-closed/units";
        let id = app.post(units, unit("FR", "OCRTEH", 40)).await.expect(201).body["id"].as_i64().expect("id");
        app.patch("/v1/operations/op-closed", None, json!({"status": "closed"})).await.expect(200);
        app.post(units, unit("FR", "PAF", 10)).await.expect_problem(409);
        app.patch(&format!("{units}/{id}"), None, json!({"officers_deployed": 41})).await.expect_problem(409);
        assert_eq!(app.get(&format!("{units}/{id}")).await.body["officers_deployed"], 40);
    }
);

db_test!(
    async fn unit_pages(db) {
        let app = TestApp::start(db).await;
        app.operation("op-pages").await;
        let units = "/v1/operations/op-pages/units";
        for i in 0..5 {
            app.post(units, unit("DE", &format!("unit {i}"), i)).await.expect(201);
        }
        app.post(units, unit("AT", "BK", 3)).await.expect(201);
        let mut names = Vec::new();
        let mut url = format!("{units}?country=DE&limit=2");
        loop {
            let page = app.get(&url).await.expect(200);
            for item in page.body["items"].as_array().expect("items") {
                assert_eq!(item["country"], "DE");
                names.push(item["name"].as_str().expect("name").to_string());
            }
            match page.body["next_cursor"].as_str() {
                Some(cursor) => url = format!("{units}?country=DE&limit=2&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(names, (0..5).map(|i| format!("unit {i}")).collect::<Vec<_>>());
    }
);
