//! The audit trail: every write leaves an attributable entry in a hash chain, and editing,
//! deleting or reordering an entry in the database is caught.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::common::TestApp;
use crate::db_test;
use crate::interceptions::departure;
use opcoord::domain::audit::Break;

const OP: &str = "liberterra-iii";

/// Writes one of everything: operation, unit, batch, correction, retraction, stated figure,
/// token issue and revoke.
async fn history(app: &TestApp) {
    app.operation(OP).await;
    let unit = json!({"country": "SN", "name": "DGPN", "kind": "national_central_bureau", "officers_deployed": 300});
    app.post(&format!("/v1/operations/{OP}/units"), unit).await.expect(201);
    let items = json!({"items": [departure("SN", "A-1", 245), departure("DZ", "A-2", 71)]});
    app.post(&format!("/v1/operations/{OP}/interceptions/batch"), items)
        .await
        .expect(200);
    let url = format!("/v1/operations/{OP}/interceptions/SN/A-1");
    app.send(TestRequest::put().uri(&url).set_json(departure("SN", "A-1", 246)))
        .await
        .expect(200);
    app.send(TestRequest::delete().uri(&format!("/v1/operations/{OP}/interceptions/DZ/A-2")))
        .await
        .expect(200);
    let figure = json!({"value": 47, "as_of": "2025-09-14"});
    app.send(
        TestRequest::put()
            .uri(&format!("/v1/operations/{OP}/tallies/ML/victims_safeguarded"))
            .set_json(figure),
    )
    .await
    .expect(201);
    let issued = app
        .post(
            "/v1/tokens",
            json!({"sub": "ml-sync", "scope": "tallies:read", "countries": ["ML"], "ops": [OP], "ttl_seconds": 600}),
        )
        .await
        .expect(201);
    let jti = issued.body["jti"].as_str().expect("jti").to_string();
    app.post(&format!("/v1/tokens/{jti}/revoke"), json!({}))
        .await
        .expect(200);
}

fn verify(app: &TestApp) -> Result<i64, Break> {
    app.db.with_conn(opcoord::db::audit::verify).expect("verify")
}

db_test!(
    async fn every_write_is_an_attributable_link_of_the_chain(db) {
        let app = TestApp::start(db).await;
        history(&app).await;
        assert_eq!(verify(&app), Ok(9));
        let page = app.get(&format!("/v1/operations/{OP}/audit?limit=1000")).await.expect(200);
        let entries = page.body["entries"].as_array().expect("entries");
        let actions: Vec<(String, String)> = entries
            .iter()
            .map(|e| (e["entity"].as_str().expect("e").to_string(), e["action"].as_str().expect("a").to_string()))
            .collect();
        // A batch leaves one entry per country, listing its items; so does a one-record write.
        let expected: Vec<(String, String)> = [
            ("operation", "create"),
            ("unit", "create"),
            ("interception", "push"),
            ("interception", "push"),
            ("interception", "push"),
            ("interception", "push"),
            ("tally", "create"),
        ]
        .iter()
        .map(|(e, a)| (e.to_string(), a.to_string()))
        .collect();
        assert_eq!(actions, expected, "token entries belong to no operation");
        for pair in entries.windows(2) {
            assert_eq!(pair[1]["prev_hash"], pair[0]["hash"]);
        }
        assert_eq!(entries[0]["sub"], "test");
        assert!(entries[0]["jti"].as_str().is_some_and(|j| !j.is_empty()));
        assert_eq!(entries[2]["payload_sha256"].as_str().map(str::len), Some(64));
        let items = |i: usize| -> Vec<(String, String, i64)> {
            entries[i]["items"].as_array().expect("items").iter().map(|item| {
                (item["action"].as_str().expect("action").to_string(), item["key"].as_str().expect("key").to_string(), item["version"].as_i64().expect("version"))
            }).collect()
        };
        assert_eq!((entries[2]["country"].as_str(), items(2)), (Some("DZ"), vec![("create".into(), "DZ/A-2".into(), 1)]));
        assert_eq!((entries[3]["country"].as_str(), items(3)), (Some("SN"), vec![("create".into(), "SN/A-1".into(), 1)]));
        assert_eq!(items(4), vec![("update".to_string(), "SN/A-1".to_string(), 2)]);
        assert_eq!(items(5), vec![("retract".to_string(), "DZ/A-2".to_string(), 2)]);
        assert!(entries[6].get("items").is_none(), "a single object's entry lists no items");
        // Replays leave no trace: the same content again writes nothing.
        app.post(&format!("/v1/operations/{OP}/interceptions/batch"), json!({"items": [departure("SN", "A-1", 246)]})).await.expect(200);
        assert_eq!(verify(&app), Ok(9));
        // A country's token sees its own entries and those of the operation itself.
        let ml = app.token("audit:read", &["ML"], &[OP]);
        let own = app.get_as(&ml, &format!("/v1/operations/{OP}/audit")).await.expect(200);
        let countries: Vec<&str> = own.body["entries"].as_array().expect("e").iter().map(|e| e["country"].as_str().expect("c")).collect();
        assert_eq!(countries, vec!["", "ML"]);
        app.get_as(&app.token("tallies:read", &["ML"], &[OP]), &format!("/v1/operations/{OP}/audit")).await.expect_problem(403);
    }
);

db_test!(
    async fn editing_deleting_or_reordering_an_entry_is_caught(db) {
        let edited = TestApp::start(db).await;
        history(&edited).await;
        edited.execute_sql("UPDATE audit_log SET country = 'XX' WHERE seq = 3", "tamper");
        assert_eq!(verify(&edited), Err(Break::Edited(3)));

        let deleted = TestApp::start(db).await;
        history(&deleted).await;
        deleted.execute_sql("DELETE FROM audit_log WHERE seq = 3", "tamper");
        assert_eq!(verify(&deleted), Err(Break::Deleted(3)));

        let reordered = TestApp::start(db).await;
        history(&reordered).await;
        reordered.execute_sql("UPDATE audit_log SET seq = -4 WHERE seq = 4; UPDATE audit_log SET seq = 4 WHERE seq = 3; UPDATE audit_log SET seq = 3 WHERE seq = -4", "tamper");
        assert_eq!(verify(&reordered), Err(Break::Reordered(3)));

        let truncated = TestApp::start(db).await;
        history(&truncated).await;
        truncated.execute_sql("DELETE FROM audit_log WHERE seq = 9", "tamper");
        assert_eq!(verify(&truncated), Err(Break::Truncated(8)));

        // The command line says the same and fails.
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_opcoord"))
            .args(["audit", "verify"])
            .env("DATABASE_URL", &reordered.settings.database_url)
            .output()
            .expect("run opcoord");
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).contains("entry 3 was reordered"));
        let intact = TestApp::start(db).await;
        history(&intact).await;
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_opcoord"))
            .args(["audit", "verify"])
            .env("DATABASE_URL", &intact.settings.database_url)
            .output()
            .expect("run opcoord");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
);

/// Rewrites the stored item lines of entry `seq` with `change`.
fn tamper_items(app: &TestApp, seq: i64, change: impl FnOnce(&mut Vec<String>)) {
    use diesel::prelude::*;
    use opcoord::db::schema::audit_log;
    let text: String = app
        .db
        .with_conn(|conn| {
            Ok(opcoord::on_backend!(conn, c => audit_log::table.find(seq).select(audit_log::items).first::<String>(c))?)
        })
        .expect("items");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    change(&mut lines);
    let text = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    app.db
        .with_conn(|conn| Ok(opcoord::on_backend!(conn, c => diesel::update(audit_log::table.find(seq)).set(audit_log::items.eq(&text)).execute(c))?))
        .expect("tamper items");
}

db_test!(
    async fn an_item_of_a_batch_entry_altered_removed_or_moved_is_named(db) {
        let fresh = || async {
            let app = TestApp::start(db).await;
            app.operation(OP).await;
            let items: Vec<serde_json::Value> = (0..4).map(|i| departure("SN", &format!("B-{i}"), 10 + i)).collect();
            app.post(&format!("/v1/operations/{OP}/interceptions/batch"), json!({"items": items})).await.expect(200);
            assert_eq!(verify(&app), Ok(2));
            app
        };
        let edited = fresh().await;
        tamper_items(&edited, 2, |lines| lines[2] = lines[2].replacen("\t1\t", "\t7\t", 1));
        assert_eq!(verify(&edited), Err(Break::ItemEdited { seq: 2, index: 2 }));

        let removed = fresh().await;
        tamper_items(&removed, 2, |lines| {
            lines.remove(1);
        });
        assert_eq!(verify(&removed), Err(Break::ItemRemoved { seq: 2, index: 1 }));

        let moved = fresh().await;
        tamper_items(&moved, 2, |lines| lines.swap(0, 3));
        assert_eq!(verify(&moved), Err(Break::ItemReordered { seq: 2, index: 0 }));

        let dropped_last = fresh().await;
        tamper_items(&dropped_last, 2, |lines| {
            lines.pop();
        });
        assert_eq!(verify(&dropped_last), Err(Break::ItemsChanged(2)));
    }
);
