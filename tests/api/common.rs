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
use opcoord::auth::Auth;
use opcoord::config::Settings;
use opcoord::db::{self, Database};
use opcoord::AppState;
use serde_json::Value;
use std::sync::Arc;

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

/// Where a test's data lives (a temporary folder with its keys, and its SQLite file or
/// PostgreSQL schema), removed when the test ends.
struct Store {
    dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some((admin_url, schema)) = &self.postgres {
            if let Ok(mut conn) = PgConnection::establish(admin_url) {
                let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

/// Every scope, for the secretariat token the helpers send by default.
pub const ALL_SCOPES: &str = "operations:read operations:write units:write interceptions:read interceptions:write \
    tallies:read tallies:write audit:read tokens:issue releases:read releases:write reporting:write reporting:approve";

/// A response read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
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
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
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
    pub auth: Arc<Auth>,
    pub settings: Settings,
    /// A secretariat token: every scope, country and operation.
    pub admin: String,
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
        let dir = tempfile::tempdir().expect("temporary folder");
        settings.data_dir = dir.path().join("data").to_string_lossy().into_owned();
        let store = match backend {
            TestDb::Sqlite => {
                settings.database_url = dir.path().join("test.db").to_string_lossy().into_owned();
                Store { dir, postgres: None }
            }
            TestDb::Postgres => {
                let admin_url = std::env::var("TEST_DATABASE_URL")
                    .expect("the PostgreSQL tests were built in, so TEST_DATABASE_URL must be set");
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::establish(&admin_url).expect("connect to TEST_DATABASE_URL");
                admin
                    .batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .expect("create schema");
                let glue = if admin_url.contains('?') { '&' } else { '?' };
                settings.database_url = format!("{admin_url}{glue}options=-csearch_path%3D{schema}");
                Store {
                    dir,
                    postgres: Some((admin_url, schema)),
                }
            }
        };
        adjust(&mut settings);
        let db = Database::open(&settings).expect("open the test database");
        db.with_conn(db::migrate::run_pending)
            .expect("migrate the test database");
        let auth = Arc::new(Auth::from_settings(&settings, true).expect("keys"));
        let state = AppState::new(db.clone(), settings.clone(), auth.clone());
        let service = test::init_service(opcoord::app(state)).await;
        let service = boxed::service(service.map(|res| res.map_into_boxed_body()));
        let mut app = TestApp {
            service,
            db,
            auth,
            settings,
            admin: String::new(),
            store,
        };
        app.admin = app.token(ALL_SCOPES, &["*"], &["*"]);
        app
    }

    /// Runs SQL on the app's database behind the service's back (to tamper with what it stored,
    /// or to age it); panics naming `what` if the SQL fails.
    pub fn execute_sql(&self, sql: &str, what: &str) {
        let sql = sql.to_string();
        self.db
            .with_conn(move |conn| {
                opcoord::on_backend!(conn, c => diesel::connection::SimpleConnection::batch_execute(c, &sql))
                    .map_err(opcoord::error::Error::from)
            })
            .expect(what);
    }

    /// Folds the tally delta log into the cells until nothing is pending (PostgreSQL; nothing on
    /// SQLite), waiting for a fold of the app's own folder if one is running.
    pub fn fold(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            self.db
                .with_conn(|c| opcoord::db::tally_log::fold_all(c, opcoord::db::tally_log::FOLD_CELLS))
                .expect("fold the tally log");
            if self.db.with_conn(opcoord::db::tally_log::pending).expect("pending") == 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the tally log was not folded within 10 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Signs a token with the app's key: `scope` space-separated, countries and ops as in the claims.
    pub fn token(&self, scope: &str, countries: &[&str], ops: &[&str]) -> String {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let scopes = opcoord::auth::claims::Scope::set_of(scope);
        let countries = opcoord::auth::claims::Access::from_claim(&own(countries));
        let ops = opcoord::auth::claims::Access::from_claim(&own(ops));
        let claims = self.auth.claims("test", &scopes, &countries, &ops, 3600);
        self.auth.sign(&claims).expect("sign")
    }

    /// Another instance of the service on the same database, with its own keys and revocation
    /// list loaded from settings changed by `adjust`.
    #[allow(dead_code)]
    pub async fn second_instance(&self, adjust: impl FnOnce(&mut Settings)) -> Instance {
        let mut settings = self.settings.clone();
        adjust(&mut settings);
        let db = Database::open(&settings).expect("open the database again");
        let auth = Arc::new(Auth::from_settings(&settings, false).expect("keys"));
        let state = AppState::new(db, settings, auth);
        let service = test::init_service(opcoord::app(state)).await;
        Instance {
            service: boxed::service(service.map(|res| res.map_into_boxed_body())),
        }
    }

    /// The folder the app keeps its key pair in.
    #[allow(dead_code)]
    pub fn key_dir(&self) -> std::path::PathBuf {
        self.store.dir.path().join("data").join("keys")
    }

    /// The PostgreSQL schema of this test, if it runs on PostgreSQL.
    #[allow(dead_code)]
    pub fn pg_schema(&self) -> Option<(&str, &str)> {
        self.store
            .postgres
            .as_ref()
            .map(|(url, schema)| (url.as_str(), schema.as_str()))
    }

    /// Sends a request with the secretariat token and reads the whole response.
    pub async fn send(&self, request: TestRequest) -> Reply {
        self.send_as(Some(&self.admin), request).await
    }

    /// Sends a request with this `Authorization: Bearer` token (none when `None`).
    pub async fn send_as(&self, token: Option<&str>, mut request: TestRequest) -> Reply {
        if let Some(token) = token {
            request = request.insert_header(("authorization", format!("Bearer {token}")));
        }
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
        Reply { status, headers, body }
    }

    /// Sends a request with this token and reads the body as bytes.
    #[allow(dead_code)]
    pub async fn send_raw(&self, token: &str, request: TestRequest) -> (StatusCode, HeaderMap, Vec<u8>) {
        let request = request.insert_header(("authorization", format!("Bearer {token}")));
        let response = test::call_service(&self.service, request.to_request()).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = test::read_body(response).await;
        (status, headers, bytes.to_vec())
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(TestRequest::get().uri(path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(TestRequest::post().uri(path).set_json(body)).await
    }

    #[allow(dead_code)]
    pub async fn get_as(&self, token: &str, path: &str) -> Reply {
        self.send_as(Some(token), TestRequest::get().uri(path)).await
    }

    #[allow(dead_code)]
    pub async fn post_as(&self, token: &str, path: &str, body: Value) -> Reply {
        self.send_as(Some(token), TestRequest::post().uri(path).set_json(body))
            .await
    }

    pub async fn patch(&self, path: &str, if_match: Option<&str>, body: Value) -> Reply {
        let token = self.admin.clone();
        self.patch_as(&token, path, if_match, body).await
    }

    pub async fn patch_as(&self, token: &str, path: &str, if_match: Option<&str>, body: Value) -> Reply {
        let mut request = TestRequest::patch().uri(path).set_json(body);
        if let Some(tag) = if_match {
            request = request.insert_header((
                HeaderName::from_static("if-match"),
                HeaderValue::from_str(tag).expect("tag"),
            ));
        }
        self.send_as(Some(token), request).await
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
        assert!(self.store.postgres.is_none(), "not a SQLite test");
        self.store.dir.path().join("test.db").to_string_lossy().into_owned()
    }
}

/// A second instance of the service, sharing the first one's database.
#[allow(dead_code)]
pub struct Instance {
    service: BoxService<Request, ServiceResponse<BoxBody>, actix_web::Error>,
}

#[allow(dead_code)]
impl Instance {
    /// Sends a GET with this bearer token and returns the status.
    pub async fn get_status(&self, token: &str, path: &str) -> u16 {
        self.get_json(token, path).await.0
    }

    /// Sends a POST of `body` with this bearer token and returns the status and the JSON body.
    pub async fn post_json(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        let request = TestRequest::post()
            .uri(path)
            .insert_header(("authorization", format!("Bearer {token}")))
            .set_json(body);
        let response = test::call_service(&self.service, request.to_request()).await;
        let status = response.status().as_u16();
        let body = test::read_body(response).await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// Sends a GET with this bearer token and returns the status and the JSON body.
    #[allow(dead_code)]
    pub async fn get_json(&self, token: &str, path: &str) -> (u16, Value) {
        let request = TestRequest::get()
            .uri(path)
            .insert_header(("authorization", format!("Bearer {token}")));
        let response = test::call_service(&self.service, request.to_request()).await;
        let status = response.status().as_u16();
        let body = test::read_body(response).await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}
