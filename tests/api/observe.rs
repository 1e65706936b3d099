//! Request ids, metrics, and a clean stop on SIGTERM.

use std::io::Read;
use std::time::{Duration, Instant};

use actix_web::test::TestRequest;
use serde_json::json;

use crate::common::TestApp;
use crate::db_test;
use crate::interceptions::departure;
use crate::server::{free_port, http_get};

db_test!(
    async fn request_ids_and_metrics(db) {
        let app = TestApp::start(db).await;
        app.operation("liberterra-iii").await;
        let sent = app.send(TestRequest::get().uri("/v1/operations/liberterra-iii").insert_header(("x-request-id", "abc-123"))).await.expect(200);
        assert_eq!(sent.header("x-request-id").as_deref(), Some("abc-123"));
        let made = app.get("/v1/operations/no-such-op").await.expect_problem(404);
        let id = made.header("x-request-id").expect("a request id is made when none is sent");
        assert_eq!(made.body["request_id"], id.as_str(), "the problem names its request");
        let odd = app.send(TestRequest::get().uri("/healthz").insert_header(("x-request-id", "bad id with spaces"))).await.expect(200);
        assert_ne!(odd.header("x-request-id").as_deref(), Some("bad id with spaces"));

        let items = json!({"items": [departure("SN", "M-1", 5), departure("SN", "M-2", 5)]});
        app.post("/v1/operations/liberterra-iii/interceptions/batch", items).await.expect(200);
        let metrics = app.send_as(None, TestRequest::get().uri("/metrics")).await.expect(200);
        let text = metrics.body.as_str().expect("text").to_string();
        assert!(text.contains(r#"opcoord_http_requests_total{method="GET",route="/v1/operations/{op}",status="200"}"#), "{text}");
        assert!(text.contains("opcoord_http_request_duration_seconds_bucket"), "{text}");
        assert!(text.contains(r#"opcoord_db_pool_connections{state="idle"}"#), "{text}");
        assert!(text.contains(r#"opcoord_items_ingested_total{result="created"}"#), "{text}");
        assert!(!text.contains("eyJ"), "no token in metrics");
    }
);

db_test!(
    async fn sigterm_stops_cleanly(db) {
        let app = TestApp::start(db).await;
        let port = free_port();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_opcoord"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", &app.settings.database_url)
            .env("OPCOORD_DATA_DIR", &app.settings.data_dir)
            .env("OPCOORD_SHUTDOWN_GRACE_SECS", "5")
            .env("RUST_LOG", "info")
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start opcoord");
        let started = Instant::now();
        while http_get(port, "/readyz").is_none_or(|r| !r.starts_with("HTTP/1.0 200") && !r.starts_with("HTTP/1.1 200")) {
            assert!(started.elapsed() < Duration::from_secs(20), "the server did not become ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        let status = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
        assert!(status.success());
        let stopping = Instant::now();
        let exit = loop {
            if let Some(exit) = child.try_wait().expect("wait") {
                break exit;
            }
            assert!(stopping.elapsed() < Duration::from_secs(10), "the server did not stop");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(exit.success(), "exit status {exit:?}");
        let mut log = String::new();
        child.stderr.take().expect("stderr").read_to_string(&mut log).expect("log");
        assert!(log.contains("stopped: requests in flight finished"), "{log}");
        assert!(log.contains("GET /readyz 200"), "one line per request: {log}");
    }
);
