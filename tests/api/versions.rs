//! A record's history: every stored version of an interception, read like the record itself.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::db_test;
use crate::interceptions::departure;

const OP: &str = "liberterra-iii";

fn record(external_ref: &str) -> String {
    format!("/v1/operations/{OP}/interceptions/SN/{external_ref}")
}

fn column<'a>(versions: &'a Value, f: impl Fn(&'a Value) -> Value) -> Vec<Value> {
    versions["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(f)
        .collect()
}

db_test!(
    async fn every_stored_version_of_a_record_is_kept_oldest_first(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        // Senegal's desk, a principal of its own (the secretariat's token is `test`).
        let scopes = opcoord::auth::claims::Scope::set_of("interceptions:read interceptions:write");
        let only = |v: &str| opcoord::auth::claims::Access::from_claim(&[v.to_string()]);
        let sn = app.auth.sign(&app.auth.claims("sn-desk", &scopes, &only("SN"), &only(OP), 3600)).expect("sign");
        let put = |total: i64| TestRequest::put().uri(&record("H-1")).set_json(departure("SN", "H-1", total));
        app.send_as(Some(&sn), put(5)).await.expect(201);
        app.send_as(Some(&sn), put(5)).await.expect(200); // unchanged: no new version
        app.send(put(7)).await.expect(200); // written by the secretariat
        // Two changes of the same record in one batch: only the last is stored.
        let batch = json!({"items": [departure("SN", "H-1", 8), departure("SN", "H-1", 9)]});
        app.post(&format!("/v1/operations/{OP}/interceptions/batch"), batch).await.expect(200);
        app.send(TestRequest::delete().uri(&record("H-1"))).await.expect(200);
        app.send_as(Some(&sn), put(5)).await.expect(200); // revived
        let history = app.get_as(&sn, &format!("{}/versions", record("H-1"))).await.expect(200).body;
        assert_eq!(column(&history, |v| v["version"].clone()), [1, 2, 4, 5, 6].map(Value::from));
        assert_eq!(column(&history, |v| v["deleted"].clone()), [false, false, false, true, false].map(Value::from));
        let totals = column(&history, |v| v["migrants"]["total"].clone());
        assert_eq!((&totals[..3], &totals[4]), (&[5, 7, 9].map(Value::from)[..], &Value::from(5)));
        let subs = column(&history, |v| v["reported_by"].clone());
        assert_eq!(subs, ["sn-desk", "test", "test", "test", "sn-desk"].map(Value::from), "each version says who wrote it");
        // The last version is the record as served.
        let current = app.get_as(&sn, &record("H-1")).await.expect(200).body;
        assert_eq!(history["versions"][4], current);
        // A record never changed has one version.
        app.send_as(Some(&sn), TestRequest::put().uri(&record("H-2")).set_json(departure("SN", "H-2", 3))).await.expect(201);
        let one = app.get_as(&sn, &format!("{}/versions", record("H-2"))).await.expect(200).body;
        assert_eq!(column(&one, |v| v["version"].clone()), [Value::from(1)]);
    }
);

db_test!(
    async fn a_record_history_is_read_with_the_record_own_scope_and_country(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        app.send(TestRequest::put().uri(&record("H-1")).set_json(departure("SN", "H-1", 5))).await.expect(201);
        let versions = format!("{}/versions", record("H-1"));
        let gambia = app.token("interceptions:read", &["GM"], &[OP]);
        app.get_as(&gambia, &versions).await.expect_problem(403);
        let no_scope = app.token("tallies:read", &["SN"], &[OP]);
        app.get_as(&no_scope, &versions).await.expect_problem(403);
        let other_operation = app.token("interceptions:read", &["SN"], &["other-op"]);
        app.get_as(&other_operation, &versions).await.expect_problem(403);
        app.get(&format!("{}/versions", record("NONE"))).await.expect_problem(404);
        app.get("/v1/operations/no-such-op/interceptions/SN/H-1/versions").await.expect_problem(404);
        app.get(&format!("/v1/operations/{OP}/interceptions/ZZ/H-1/versions")).await.expect_problem(400);
    }
);
