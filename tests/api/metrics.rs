//! `/metrics` keeps a fixed set of series whatever clients send: methods, paths and statuses
//! become labels only through bounded sets.

use actix_web::http::Method;
use actix_web::test::TestRequest;

use crate::common::{TestApp, TestDb};

#[actix_web::test]
async fn junk_methods_and_paths_add_no_series() {
    let app = TestApp::start(TestDb::Sqlite).await;
    let mut junk = Vec::new();
    for i in 0..300 {
        let word = format!("JUNK{i}X{}", uuid::Uuid::new_v4().simple());
        let method = Method::from_bytes(word.as_bytes()).expect("a valid method token");
        let path = match i % 3 {
            0 => format!("/{}", word.to_lowercase()),
            1 => "/v1/operations".to_string(),
            _ => format!("/v1/operations/{}/units", word.to_lowercase()),
        };
        let reply = app
            .send_as(None, TestRequest::default().method(method).uri(&path))
            .await;
        assert!(reply.status.is_client_error(), "{word} {path}: {}", reply.status);
        junk.push(word);
    }
    let text = app
        .send_as(None, TestRequest::get().uri("/metrics"))
        .await
        .expect(200)
        .body;
    let text = text.as_str().expect("text");
    for word in &junk {
        assert!(
            !text.contains(word.as_str()) && !text.contains(&word.to_lowercase()),
            "{word} became a label"
        );
    }
    assert!(text.contains(r#"method="other",route="unmatched""#), "{text}");
    assert!(text.contains(r#"method="other",route="/v1/operations""#), "{text}");
    let other_series = text
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(r#"method="other""#))
        .count();
    assert!(other_series < 60, "{other_series} series for junk methods");
}
