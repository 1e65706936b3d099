//! `HEAD` answers as `GET` would, without the body: a national system checks a record's version
//! (its `ETag`) without downloading it.

use actix_web::test::TestRequest;

use crate::common::TestApp;
use crate::db_test;
use crate::interceptions::departure;
use crate::server::{http, Server};

const OP: &str = "liberterra-iii";

db_test!(
    async fn head_of_a_record_carries_its_version(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        let uri = format!("/v1/operations/{OP}/interceptions/SN/HEAD-1");
        app.send(TestRequest::put().uri(&uri).set_json(departure("SN", "HEAD-1", 5))).await.expect(201);
        app.send(TestRequest::put().uri(&uri).set_json(departure("SN", "HEAD-1", 6))).await.expect(200);
        let get = app.get(&uri).await.expect(200);
        let head = app.send(TestRequest::default().method(actix_web::http::Method::HEAD).uri(&uri)).await.expect(200);
        assert_eq!(head.header("etag"), get.header("etag"));
        assert_eq!(head.header("etag").as_deref(), Some("\"2\""));
        // The scope and country checks are the GET's.
        let gambia = app.token("interceptions:read", &["GM"], &[OP]);
        let refused = app.send_as(Some(&gambia), TestRequest::default().method(actix_web::http::Method::HEAD).uri(&uri)).await;
        assert_eq!(refused.status, 403);
        let missing = format!("/v1/operations/{OP}/interceptions/SN/NONE");
        assert_eq!(app.send(TestRequest::default().method(actix_web::http::Method::HEAD).uri(&missing)).await.status, 404);
    }
);

#[test]
fn head_sends_the_get_head_and_no_body_over_the_wire() {
    let root = tempfile::tempdir().expect("tempdir");
    let db = root.path().join("opcoord.db");
    let data = root.path().join("data");
    let env = [
        ("DATABASE_URL", db.to_str().expect("path")),
        ("OPCOORD_DATA_DIR", data.to_str().expect("path")),
    ];
    let server = Server::start("", &env);
    let split = |answer: String| {
        let (head, body) = answer
            .split_once("\r\n\r\n")
            .map(|(h, b)| (h.to_string(), b.to_string()))
            .expect("an answer");
        let length = head
            .lines()
            .find_map(|line| {
                line.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .map(str::to_string)
            })
            .and_then(|n| n.trim().parse::<usize>().ok());
        (head.lines().next().unwrap_or_default().to_string(), length, body)
    };
    let (status, length, body) = split(http(server.port, "GET", "/openapi.json", &[], b"").expect("GET"));
    assert!(status.contains(" 200 "), "{status}");
    assert_eq!(length, Some(body.len()));
    let (status, head_length, head_body) = split(http(server.port, "HEAD", "/openapi.json", &[], b"").expect("HEAD"));
    assert!(status.contains(" 200 "), "{status}");
    assert_eq!(head_length, length, "the length of what a GET would send");
    assert!(head_body.is_empty(), "no body: {} bytes", head_body.len());
    // Without a token, a HEAD of the API is refused as its GET is.
    let (status, _, body) = split(http(server.port, "HEAD", "/v1/operations", &[], b"").expect("HEAD"));
    assert!(status.contains(" 401 "), "{status}");
    assert!(body.is_empty());
}
