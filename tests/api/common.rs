//! The one test-app helper: a fresh database per test (a new SQLite file, or a new PostgreSQL
//! schema when `TEST_DATABASE_URL` is set at build time), the real application in front of it,
//! and small request helpers.

use actix_http::Request;
use actix_service::boxed::{self, BoxService};
use actix_service::ServiceExt;
use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;
use opcoord::config::Settings;
use opcoord::db::{self, Database};
use opcoord::AppState;
use serde_json::Value;

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestDb {
    Sqlite,
    #[allow(dead_code)]
    Postgres,
}

/// Generates `name::sqlite` and, when PostgreSQL tests are built in, `name::postgres`.
#[macro_export]
macro_rules! db_test {
    (async fn $name:ident($db:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn scenario($db: $crate::common::TestDb) $body

            #[actix_web::test]
            async fn sqlite() {
                scenario($crate::common::TestDb::Sqlite).await
            }

            #[cfg(pg_tests)]
            #[actix_web::test]
            async fn postgres() {
                scenario($crate::common::TestDb::Postgres).await
            }
        }
    };
}

/// Where a test's data lives, removed when the test ends.
enum Store {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Store::Postgres { admin_url, schema } = self {
            if let Ok(mut conn) = PgConnection::establish(admin_url) {
                let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

/// A response read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// The JSON pointers of a problem's `errors`.
    pub fn pointers(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["pointer"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Reply {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }

    /// Asserts an RFC 9457 problem with this status.
    #[track_caller]
    pub fn expect_problem(self, status: u16) -> Reply {
        let reply = self.expect(status);
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        assert_eq!(reply.body["status"], status, "problem status member");
        assert!(reply.body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:opcoord:problem:")));
        assert!(reply.body["title"].is_string() && reply.body["detail"].is_string());
        reply
    }
}

/// The application over a fresh database of its own.
pub struct TestApp {
    service: BoxService<Request, ServiceResponse<BoxBody>, actix_web::Error>,
    pub db: Database,
    store: Store,
}

impl TestApp {
    /// Starts the app on a fresh database with the default settings.
    pub async fn start(backend: TestDb) -> TestApp {
        TestApp::start_with(backend, |_| {}).await
    }

    /// Starts the app on a fresh database, with settings changed by `adjust`.
    pub async fn start_with(backend: TestDb, adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = Settings::defaults().expect("default settings");
        let store = match backend {
            TestDb::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary folder");
                settings.database_url = dir.path().join("test.db").to_string_lossy().into_owned();
                Store::Sqlite(dir)
            }
            TestDb::Postgres => {
                let admin_url = std::env::var("TEST_DATABASE_URL")
                    .expect("the PostgreSQL tests were built in, so TEST_DATABASE_URL must be set");
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let mut admin =
                    PgConnection::establish(&admin_url).expect("connect to TEST_DATABASE_URL");
                admin
                    .batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .expect("create schema");
                let glue = if admin_url.contains('?') { '&' } else { '?' };
                settings.database_url =
                    format!("{admin_url}{glue}options=-csearch_path%3D{schema}");
                Store::Postgres { admin_url, schema }
            }
        };
        adjust(&mut settings);
        let db = Database::open(&settings).expect("open the test database");
        db.with_conn(db::migrate::run_pending)
            .expect("migrate the test database");
        let state = AppState {
            db: db.clone(),
            settings,
        };
        let service = test::init_service(opcoord::app(state)).await;
        let service = boxed::service(service.map(|res| res.map_into_boxed_body()));
        TestApp { service, db, store }
    }

    /// The PostgreSQL schema of this test, if it runs on PostgreSQL.
    #[allow(dead_code)]
    pub fn pg_schema(&self) -> Option<(&str, &str)> {
        match &self.store {
            Store::Postgres { admin_url, schema } => Some((admin_url, schema)),
            Store::Sqlite(_) => None,
        }
    }

    /// Sends a request and reads the whole response.
    pub async fn send(&self, request: TestRequest) -> Reply {
        let response = test::call_service(&self.service, request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = test::read_body(response).await;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(TestRequest::get().uri(path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(TestRequest::post().uri(path).set_json(body))
            .await
    }

    pub async fn patch(&self, path: &str, if_match: Option<&str>, body: Value) -> Reply {
        let mut request = TestRequest::patch().uri(path).set_json(body);
        if let Some(tag) = if_match {
            request = request.insert_header((
                HeaderName::from_static("if-match"),
                HeaderValue::from_str(tag).expect("tag"),
            ));
        }
        self.send(request).await
    }

    /// Creates an active operation with this id, running through September 2025.
    pub async fn operation(&self, id: &str) -> Value {
        self.post(
            "/v1/operations",
            serde_json::json!({"id": id, "name": format!("Operation {id}"), "status": "active",
                               "starts_on": "2025-09-01", "ends_on": "2025-09-30"}),
        )
        .await
        .expect(201)
        .body
    }
}

impl TestApp {
    /// The SQLite file of this test.
    #[allow(dead_code)]
    pub fn db_path(&self) -> String {
        match &self.store {
            Store::Sqlite(dir) => dir.path().join("test.db").to_string_lossy().into_owned(),
            Store::Postgres { .. } => panic!("not a SQLite test"),
        }
    }
}
