//! The demo: published headline figures, every record marked as demo data, tokens that work,
//! and a second load that changes nothing.

use serde_json::Value;

use crate::common::TestApp;
use crate::db_test;

const OP: &str = opcoord::demo::OPERATION;

db_test!(
    async fn the_demo_shows_the_published_figures(db) {
        let app = TestApp::start(db).await;
        let (national, coordination) = opcoord::demo::run(&app.db, &app.auth).expect("demo");
        let report = app.get_as(&coordination, &format!("/v1/operations/{OP}/tallies")).await.expect(200);
        let total = |metric: &str| -> i64 {
            report.body["totals"].as_array().expect("totals").iter().find(|t| t["metric"] == metric).expect(metric)["value"]
                .as_i64()
                .expect("value")
        };
        assert_eq!(total("victims_safeguarded"), 4414);
        assert_eq!(total("migrants_detected"), 12992);
        assert_eq!(total("investigations_opened"), 721);
        assert_eq!(total("officers_deployed"), 14000);
        let operation = app.get_as(&coordination, &format!("/v1/operations/{OP}")).await.expect(200);
        assert_eq!(operation.body["participating_countries"].as_array().map(Vec::len), Some(119));
        assert!(operation.body["name"].as_str().is_some_and(|n| n.starts_with("[DEMO]")));

        // A realistic board: most reported, some nil returns, a few late, several final, some
        // approved, Spain reopened with a reason.
        let board = app.get_as(&coordination, &format!("/v1/operations/{OP}/reporting")).await.expect(200).body;
        let s = &board["summary"];
        assert_eq!(s["expected"], 119 * 7);
        let (received, nil, late) = (s["received"].as_i64().unwrap_or(0), s["received_nil"].as_i64().unwrap_or(0), s["late"].as_i64().unwrap_or(0));
        assert!(received > 119 * 3 && nil > 100 && (5..=40).contains(&late), "{s}");
        assert!(s["completeness_pct"].as_f64().is_some_and(|p| (90.0..100.0).contains(&p)), "{s}");
        assert!(s["timeliness_pct"].as_f64().is_some_and(|p| (70.0..95.0).contains(&p)), "{s}");
        let count = |key: &str| s[key].as_array().map_or(0, Vec::len);
        assert!(count("countries_final") >= 10 && count("countries_approved") >= 10, "{s}");
        assert!((3..=10).contains(&count("countries_late_today")), "{s}");
        let spain = board["countries"].as_array().expect("countries").iter().find(|c| c["country"] == "ES").expect("ES");
        assert_eq!(spain["status"], "reopened");
        assert!(spain["reopen_reason"].as_str().is_some_and(|r| r.starts_with("DEMO DATA.")));

        // Every record says it is demo data.
        let mut url = format!("/v1/operations/{OP}/interceptions?limit=1000");
        let mut seen = 0;
        loop {
            let page = app.get(&url).await.expect(200);
            for item in page.body["items"].as_array().expect("items") {
                assert!(item["external_ref"].as_str().is_some_and(|r| r.starts_with("DEMO-")), "{item}");
                assert!(item["notes"].as_str().is_some_and(|n| n.starts_with("DEMO DATA")), "{item}");
                assert_eq!(item["reported_by"], "demo-loader");
                seen += 1;
            }
            match page.body["next_cursor"].as_str() {
                Some(cursor) => url = format!("/v1/operations/{OP}/interceptions?limit=1000&cursor={cursor}"),
                None => break,
            }
        }
        assert!(seen > 400);
        let sea = app.get(&format!("/v1/operations/{OP}/interceptions/SN/DEMO-SN-001")).await.expect(200);
        assert_eq!(sea.body["migrants"]["total"], 245);

        // The national token acts for Senegal only.
        app.get_as(&national, &format!("/v1/operations/{OP}/interceptions/SN/DEMO-SN-001")).await.expect(200);
        app.get_as(&national, &format!("/v1/operations/{OP}/interceptions/DZ/DEMO-DZ-001")).await.expect_problem(403);

        // Loading again changes nothing, and the maintained tallies match the records.
        let feed: Value = app.get(&format!("/v1/operations/{OP}/changes?limit=1")).await.body;
        let before = app.db.with_conn(opcoord::db::journal::position).expect("position");
        opcoord::demo::run(&app.db, &app.auth).expect("demo again");
        assert_eq!(app.db.with_conn(opcoord::db::journal::position).expect("position"), before);
        assert!(feed["changes"].is_array());
        let differences = app.db.with_conn(|conn| opcoord::db::tallies::verify(conn, OP)).expect("verify");
        assert!(differences.is_empty(), "{differences:?}");
    }
);
