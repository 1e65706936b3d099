//! `/console/`: the page and every asset it loads are served from the binary, with the strict
//! Content-Security-Policy, cache validators, immutable assets and compression.

use actix_web::test::TestRequest;

use crate::common::TestApp;
use crate::db_test;

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'";

/// The paths an HTML page or a JavaScript module names: `href`/`src` attributes and
/// relative `import ... from "./x.js"` specifiers, resolved against `base`.
fn references(base: &str, text: &str) -> Vec<String> {
    let dir = &base[..=base.rfind('/').expect("a path")];
    let mut found = Vec::new();
    for marker in ["href=\"", "src=\"", "from \""] {
        for (at, _) in text.match_indices(marker) {
            let rest = &text[at + marker.len()..];
            let target = &rest[..rest.find('"').expect("a closing quote")];
            if target.starts_with("/console/") {
                found.push(target.to_string());
            } else if target.starts_with("./") || target.starts_with("../") {
                let mut parts: Vec<&str> = dir.trim_end_matches('/').split('/').collect();
                for segment in target.split('/') {
                    match segment {
                        "." => {}
                        ".." => {
                            parts.pop();
                        }
                        s => parts.push(s),
                    }
                }
                found.push(parts.join("/"));
            }
        }
    }
    found
}

db_test!(
    async fn console_is_served_with_its_csp_and_every_asset(db) {
        let app = TestApp::start(db).await;
        let anonymous = |path: &str| TestRequest::get().uri(path);

        let page = app.send_as(None, anonymous("/console/")).await.expect(200);
        assert_eq!(page.header("content-security-policy").as_deref(), Some(CSP));
        assert_eq!(page.header("x-frame-options").as_deref(), Some("DENY"));
        assert_eq!(page.header("x-content-type-options").as_deref(), Some("nosniff"));
        assert_eq!(page.header("referrer-policy").as_deref(), Some("no-referrer"));
        assert_eq!(page.header("cache-control").as_deref(), Some("no-cache"));
        assert!(page.header("content-type").unwrap_or_default().starts_with("text/html"));
        let html = page.body.as_str().expect("an HTML page").to_string();
        assert!(!html.contains("style=\""), "no inline style attribute");
        assert!(!html.contains("<script>"), "no inline script");

        // The page revalidates with its ETag.
        let etag = page.header("etag").expect("an ETag");
        let again = app.send_as(None, anonymous("/console/").insert_header(("if-none-match", etag.as_str()))).await;
        again.expect(304);

        // Every asset the page names, and every module those import, is served from the binary.
        let mut queue = references("/console/", &html);
        assert!(queue.iter().any(|p| p.ends_with("/js/main.js")), "{queue:?}");
        let mut seen = std::collections::BTreeSet::new();
        while let Some(path) = queue.pop() {
            if !seen.insert(path.clone()) {
                continue;
            }
            let asset = app.send_as(None, anonymous(&path)).await.expect(200);
            assert_eq!(asset.header("content-security-policy").as_deref(), Some(CSP), "{path}");
            assert_eq!(
                asset.header("cache-control").as_deref(),
                Some("public, max-age=31536000, immutable"),
                "{path}"
            );
            assert!(asset.header("etag").is_some(), "{path}");
            let kind = asset.header("content-type").unwrap_or_default();
            if path.ends_with(".js") {
                assert!(kind.starts_with("text/javascript"), "{path}: {kind}");
                queue.extend(references(&path, asset.body.as_str().unwrap_or_default()));
            } else if path.ends_with(".css") {
                assert!(kind.starts_with("text/css"), "{path}: {kind}");
            }
        }
        for module in ["main.js", "screens/overview.js", "world.js", "countries.js"] {
            assert!(seen.iter().any(|p| p.ends_with(&format!("/js/{module}"))), "{module} not reached: {seen:?}");
        }

        // Compressed for a client that accepts it.
        let main = seen.iter().find(|p| p.ends_with("/js/main.js")).expect("main.js").clone();
        let gzipped = app
            .send_as(None, anonymous(&main).insert_header(("accept-encoding", "gzip")))
            .await;
        assert_eq!(gzipped.header("content-encoding").as_deref(), Some("gzip"));

        // An asset of another bundle (a page from before an upgrade) is not found, and says so.
        let bundle = main.split('/').nth(3).expect("the bundle");
        let other = main.replacen(bundle, "0123456789abcdef", 1);
        let missing = app.send_as(None, anonymous(&other)).await.expect_problem(404);
        assert_eq!(missing.header("content-security-policy").as_deref(), Some(CSP));
        app.send_as(None, anonymous("/console/assets/x/js/nothing.js")).await.expect_problem(404);

        // `/console` leads to the page.
        let redirect = app.send_as(None, anonymous("/console")).await.expect(308);
        assert_eq!(redirect.header("location").as_deref(), Some("/console/"));
    }
);
