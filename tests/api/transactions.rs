//! Whatever ends a transaction, the connection never carries it to the next request; dates
//! are bounded where they enter, so the date arithmetic behind a write cannot panic.

use actix_web::test::TestRequest;
use diesel::connection::SimpleConnection;
use diesel::Connection;
use serde_json::json;

use crate::common::{TestApp, TestDb};
use crate::db_test;
use crate::interceptions::departure;

const OP: &str = "liberterra-iii";

db_test!(
    async fn a_panic_inside_a_write_leaves_the_instance_working(db) {
        // One connection: the request after the panic must get the same pool's only slot.
        let app = TestApp::start_with(db, |s| {
            s.pool_size = 1;
            s.db_timeout_secs = 2;
            s.sqlite_busy_timeout_ms = 1000;
        })
        .await;
        app.operation(OP).await;
        let panicked = app
            .db
            .run(|conn| {
                conn.write(|conn| {
                    opcoord::on_backend!(conn, c => c.batch_execute("UPDATE operations SET name = 'half-written'"))
                        .map_err(opcoord::error::Error::from)?;
                    panic!("injected: a bug inside a write transaction");
                    #[allow(unreachable_code)]
                    Ok(())
                })
            })
            .await;
        assert!(matches!(panicked, Err(opcoord::error::Error::Internal(_))), "{panicked:?}");

        // The next writes and tally reads on this instance succeed, and the half-write is gone.
        let batch = json!({"items": [departure("SN", "P-1", 10), departure("SN", "P-2", 5)]});
        let url = format!("/v1/operations/{OP}/interceptions/batch");
        let pushed = app.post(&url, batch).await.expect(200);
        assert_eq!(pushed.body["summary"]["created"], 2);
        let tallies = app.get(&format!("/v1/operations/{OP}/tallies?metric=migrants_detected")).await.expect(200);
        assert!(tallies.body.to_string().contains("15"), "{}", tallies.body);
        let operation = app.get(&format!("/v1/operations/{OP}")).await.expect(200);
        assert_eq!(operation.body["name"], format!("Operation {OP}"));
        app.send(TestRequest::put().uri(&format!("/v1/operations/{OP}/interceptions/SN/P-3")).set_json(departure("SN", "P-3", 5)))
            .await
            .expect(201);

        if db == TestDb::Sqlite {
            // No write lock is left behind: another connection to the file can write at once.
            let mut other = diesel::sqlite::SqliteConnection::establish(&app.db_path()).expect("open");
            other.batch_execute("PRAGMA busy_timeout = 200; BEGIN IMMEDIATE; ROLLBACK").expect("another writer gets the lock");
        }
    }
);

db_test!(
    async fn dates_outside_a_plausible_range_are_refused_where_they_enter(db) {
        let app = TestApp::start(db).await;
        let operation = |starts_on: &str, ends_on: &str| {
            json!({"id": "far-op", "name": "Far", "status": "active", "starts_on": starts_on, "ends_on": ends_on})
        };
        for (starts_on, ends_on, pointer) in [
            ("+262142-01-01", "+262142-12-31", "/starts_on"),
            ("2025-09-01", "+262142-12-31", "/ends_on"),
            ("1969-12-31", "2025-09-01", "/starts_on"),
            ("2025-09-01", "2200-01-01", "/ends_on"),
            // Within the range but longer than an operation may last (366 days).
            ("1970-01-01", "2199-12-31", "/ends_on"),
            ("2025-01-01", "2026-01-02", "/ends_on"),
        ] {
            let refused = app.post("/v1/operations", operation(starts_on, ends_on)).await;
            assert_eq!(refused.status.as_u16(), 422, "{starts_on}..{ends_on}: {}", refused.body);
            assert!(refused.pointers().contains(&pointer.to_string()), "{starts_on}..{ends_on}: {}", refused.body);
        }
        app.operation(OP).await;
        let far = app.patch(&format!("/v1/operations/{OP}"), None, json!({"ends_on": "9999-12-31"})).await.expect_problem(422);
        assert_eq!(far.pointers(), vec!["/ends_on"]);

        let mut item = departure("SN", "FAR-1", 3);
        item["occurred_at"] = json!("9999-12-31T23:00:00Z");
        let url = format!("/v1/operations/{OP}/interceptions/SN/FAR-1");
        let refused = app.send(TestRequest::put().uri(&url).set_json(item)).await.expect_problem(422);
        assert!(refused.pointers().contains(&"/occurred_at".to_string()));

        let figure = json!({"value": 3, "as_of": "1900-01-01"});
        let url = format!("/v1/operations/{OP}/tallies/SN/arrests");
        let refused = app.send(TestRequest::put().uri(&url).set_json(figure)).await.expect_problem(422);
        assert_eq!(refused.pointers(), vec!["/as_of"]);

        for query in ["from=9999-01-01T00:00:00Z", "to=1900-01-01T00:00:00Z"] {
            let refused = app.get(&format!("/v1/operations/{OP}/interceptions?{query}")).await.expect_problem(400);
            let name = query.split('=').next().unwrap_or_default();
            assert_eq!(refused.body["errors"][0]["parameter"], name, "{query}");
        }
        // Nothing was stored; the operation still takes writes.
        assert_eq!(app.get("/v1/operations").await.body["items"].as_array().map(Vec::len), Some(1));
        let url = format!("/v1/operations/{OP}/interceptions/batch");
        app.post(&url, json!({"items": [departure("SN", "OK-1", 5)]})).await.expect(200);
    }
);
