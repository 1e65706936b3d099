//! Migrations run down and up again on both backends, and readiness follows them.

use opcoord::db;
use serde_json::json;

use crate::common::TestApp;
use crate::db_test;

db_test!(
    async fn down_and_up_again(db) {
        let app = TestApp::start(db).await;
        app.get("/readyz").await.expect(200);
        let total = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite")).expect("dir").count();
        let pg_total = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres")).expect("dir").count();
        assert!(total > 0);
        assert_eq!(total, pg_total, "both backends have the same migrations");
        let reverted = app.db.with_conn(db::migrate::revert_all).expect("revert");
        assert_eq!(reverted, total);
        let not_ready = app.get("/readyz").await.expect_problem(503);
        assert_eq!(not_ready.header("retry-after").as_deref(), Some("2"));
        let applied = app.db.with_conn(db::migrate::run_pending).expect("migrate");
        assert_eq!(applied, total);
        assert_eq!(app.db.with_conn(db::migrate::pending).expect("pending"), 0);
        app.get("/readyz").await.expect(200);
        app.operation("op-after-migrations").await;
        assert_eq!(app.get("/v1/operations").await.body["items"][0]["id"], json!("op-after-migrations"));
    }
);
