//! Tokens: every bad token is 401, every reach beyond a token's countries, operations and
//! scopes is 403 and changes nothing, issuing cannot escalate, revocation reaches every
//! instance, and key rotation works.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::common::{TestApp, ALL_SCOPES};
use crate::db_test;

/// The app's signing key: its kid, private PEM and public PEM.
fn app_key(app: &TestApp) -> (String, String, String) {
    let dir = app.key_dir();
    let private = std::fs::read_dir(&dir)
        .expect("key dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with(".key.pem"))
        .expect("a private key");
    let name = private.file_name().and_then(|n| n.to_str()).expect("name").to_string();
    let kid = name.trim_end_matches(".key.pem").to_string();
    let public = dir.join(format!("{kid}.pub.pem"));
    (
        kid,
        std::fs::read_to_string(private).expect("read"),
        std::fs::read_to_string(public).expect("read"),
    )
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims of a good secretariat token, to spoil one member at a time.
fn good_claims() -> Value {
    json!({"iss": "opcoord", "aud": "opcoord", "sub": "tester", "iat": now(), "exp": now() + 3600,
           "jti": uuid::Uuid::new_v4().to_string(), "scope": ALL_SCOPES, "countries": ["*"], "ops": ["*"]})
}

fn sign(alg: Algorithm, kid: &str, typ: Option<&str>, claims: &Value, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_string());
    header.typ = typ.map(str::to_string);
    jsonwebtoken::encode(&header, claims, key).expect("sign")
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

db_test!(
    async fn every_bad_token_is_401(db) {
        let app = TestApp::start(db).await;
        let (kid, private, public) = app_key(&app);
        let ed = EncodingKey::from_ed_pem(private.as_bytes()).expect("key");
        let good = |claims: &Value| sign(Algorithm::EdDSA, &kid, Some("at+jwt"), claims, &ed);
        let with = |member: &str, value: Value| {
            let mut claims = good_claims();
            claims[member] = value;
            good(&claims)
        };
        let without = |member: &str| {
            let mut claims = good_claims();
            claims.as_object_mut().expect("object").remove(member);
            good(&claims)
        };
        // A good token passes, so each failure below is the one spoiled check.
        let valid = good(&good_claims());
        app.get_as(&valid, "/v1/operations").await.expect(200);

        let parts: Vec<&str> = valid.split('.').collect();
        let mut widened = good_claims();
        widened["sub"] = json!("someone-else");
        let tampered_payload = format!("{}.{}.{}", parts[0], b64(&widened), parts[2]);
        let mut signature = parts[2].to_string();
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        signature.replace_range(0..1, flipped);
        let tampered_signature = format!("{}.{}.{}", parts[0], parts[1], signature);
        let alg_none = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "at+jwt", "kid": kid})), b64(&good_claims()));
        let confusion = sign(Algorithm::HS256, &kid, Some("at+jwt"), &good_claims(), &EncodingKey::from_secret(public.as_bytes()));
        let other_key = {
            let dir = tempfile::tempdir().expect("dir");
            let other_kid = opcoord::auth::keys::generate(dir.path()).expect("generate");
            let pem = std::fs::read(dir.path().join(format!("{other_kid}.key.pem"))).expect("read");
            sign(Algorithm::EdDSA, &kid, Some("at+jwt"), &good_claims(), &EncodingKey::from_ed_pem(&pem).expect("key"))
        };
        let revoked = {
            let claims = good_claims();
            let token = good(&claims);
            let jti = claims["jti"].as_str().expect("jti");
            app.post(&format!("/v1/tokens/{jti}/revoke"), json!({})).await.expect(200);
            token
        };

        let cases: Vec<(&str, Option<String>)> = vec![
            ("alg none", Some(format!("Bearer {alg_none}"))),
            ("HS256 signed with the Ed25519 public key", Some(format!("Bearer {confusion}"))),
            ("tampered payload", Some(format!("Bearer {tampered_payload}"))),
            ("tampered signature", Some(format!("Bearer {tampered_signature}"))),
            ("signed by another key under our kid", Some(format!("Bearer {other_key}"))),
            ("unknown kid", Some(format!("Bearer {}", sign(Algorithm::EdDSA, "no-such-kid", Some("at+jwt"), &good_claims(), &ed)))),
            ("kid with a path", Some(format!("Bearer {}", sign(Algorithm::EdDSA, "../../../etc/passwd", Some("at+jwt"), &good_claims(), &ed)))),
            ("kid with a URL", Some(format!("Bearer {}", sign(Algorithm::EdDSA, "https://attacker.invalid/jwks.json", Some("at+jwt"), &good_claims(), &ed)))),
            ("expired", Some(format!("Bearer {}", with("exp", json!(now() - 3600))))),
            ("not yet valid", Some(format!("Bearer {}", with("nbf", json!(now() + 3600))))),
            ("wrong iss", Some(format!("Bearer {}", with("iss", json!("someone-else"))))),
            ("wrong aud", Some(format!("Bearer {}", with("aud", json!("another-api"))))),
            ("wrong typ", Some(format!("Bearer {}", sign(Algorithm::EdDSA, &kid, Some("JWT"), &good_claims(), &ed)))),
            ("no typ", Some(format!("Bearer {}", sign(Algorithm::EdDSA, &kid, None, &good_claims(), &ed)))),
            ("no exp", Some(format!("Bearer {}", without("exp")))),
            ("no jti", Some(format!("Bearer {}", without("jti")))),
            ("revoked", Some(format!("Bearer {revoked}"))),
            ("not a JWT", Some("Bearer hello-world".to_string())),
            ("empty bearer", Some("Bearer ".to_string())),
            ("wrong scheme", Some(format!("Basic {}", URL_SAFE_NO_PAD.encode("admin:admin")))),
            ("no Authorization header", None),
        ];
        assert!(cases.len() >= 17);
        for (name, header) in cases {
            let mut request = actix_web::test::TestRequest::get().uri("/v1/operations");
            if let Some(header) = &header {
                request = request.insert_header(("authorization", header.as_str()));
            }
            let reply = app.send_as(None, request).await;
            assert_eq!(reply.status.as_u16(), 401, "{name}: {}", reply.body);
            assert_eq!(reply.header("www-authenticate").as_deref(), Some("Bearer error=\"invalid_token\""), "{name}");
            let body = reply.body.to_string();
            if let Some(token) = header.as_deref().and_then(|h| h.split_once(' ')).map(|(_, t)| t) {
                assert!(token.len() < 8 || !body.contains(token), "{name}: the problem echoes the token");
            }
            assert!(reply.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{name}");
        }
    }
);

/// Two countries' units in one operation, and a second operation.
async fn two_countries(app: &TestApp) -> (i64, i64) {
    app.operation("liberterra-iii").await;
    app.operation("other-op").await;
    let units = "/v1/operations/liberterra-iii/units";
    let unit = |country: &str| json!({"country": country, "name": format!("{country} unit"), "kind": "field_unit", "officers_deployed": 10});
    let gb = app.post(units, unit("GB")).await.expect(201).body["id"]
        .as_i64()
        .expect("id");
    let fr = app.post(units, unit("FR")).await.expect(201).body["id"]
        .as_i64()
        .expect("id");
    (gb, fr)
}

db_test!(
    async fn a_country_token_stays_in_its_country_and_operation(db) {
        let app = TestApp::start(db).await;
        let (gb_id, fr_id) = two_countries(&app).await;
        let gb = app.token("operations:read units:write interceptions:write interceptions:read", &["GB"], &["liberterra-iii"]);
        let reader = app.token("operations:read", &["GB"], &["liberterra-iii"]);
        let units = "/v1/operations/liberterra-iii/units";
        let before_units = app.get(units).await.expect(200).body;
        let before_ops = app.get("/v1/operations").await.expect(200).body;

        let unit = |country: &str| json!({"country": country, "name": "new unit", "kind": "field_unit"});
        let attempts: Vec<(&str, actix_web::test::TestRequest, &String)> = vec![
            ("register a unit for FR", actix_web::test::TestRequest::post().uri(units).set_json(unit("FR")), &gb),
            ("register a unit in another operation", actix_web::test::TestRequest::post().uri("/v1/operations/other-op/units").set_json(unit("GB")), &gb),
            ("list FR's units", actix_web::test::TestRequest::get().uri(&format!("{units}?country=FR")), &gb),
            ("read another operation", actix_web::test::TestRequest::get().uri("/v1/operations/other-op"), &gb),
            ("list another operation's units", actix_web::test::TestRequest::get().uri("/v1/operations/other-op/units"), &gb),
            ("change the operation", actix_web::test::TestRequest::patch().uri("/v1/operations/liberterra-iii").set_json(json!({"name": "mine"})), &gb),
            ("create an operation", actix_web::test::TestRequest::post().uri("/v1/operations").set_json(json!({"id": "gb-op", "name": "x", "starts_on": "2025-09-01", "ends_on": "2025-09-02"})), &gb),
            ("register a GB unit without units:write", actix_web::test::TestRequest::post().uri(units).set_json(unit("GB")), &reader),
            ("change GB's unit without units:write", actix_web::test::TestRequest::patch().uri(&format!("{units}/{gb_id}")).set_json(json!({"officers_deployed": 1})), &reader),
            ("issue a token without tokens:issue", actix_web::test::TestRequest::post().uri("/v1/tokens").set_json(json!({"sub": "x", "scope": "operations:read", "countries": ["GB"], "ops": ["liberterra-iii"], "ttl_seconds": 600})), &gb),
        ];
        for (name, request, token) in attempts {
            let reply = app.send_as(Some(token), request).await;
            assert_eq!(reply.status.as_u16(), 403, "{name}: {}", reply.body);
        }
        // Another country's unit answers as a unit that does not exist (tests/api/reach.rs).
        app.get_as(&gb, &format!("{units}/{fr_id}")).await.expect_problem(404);
        app.patch_as(&gb, &format!("{units}/{fr_id}"), None, json!({"officers_deployed": 0})).await.expect_problem(404);
        // What a GB token may see: its own operation, its own country's units.
        let listed = app.get_as(&gb, units).await.expect(200);
        let countries: Vec<&str> = listed.body["items"].as_array().expect("items").iter().map(|u| u["country"].as_str().expect("c")).collect();
        assert_eq!(countries, vec!["GB"]);
        let ops = app.get_as(&gb, "/v1/operations").await.expect(200);
        assert_eq!(ops.body["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(ops.body["items"][0]["id"], "liberterra-iii");
        app.get_as(&gb, &format!("{units}/{gb_id}")).await.expect(200);
        // Nothing changed.
        assert_eq!(app.get(units).await.body, before_units);
        assert_eq!(app.get("/v1/operations").await.body, before_ops);
    }
);

db_test!(
    async fn issuing_cannot_escalate(db) {
        let app = TestApp::start(db).await;
        two_countries(&app).await;
        let issuer = app.token("tokens:issue operations:read interceptions:read", &["GB", "FR"], &["liberterra-iii"]);
        let request = |scope: &str, countries: Value, ops: Value, ttl: i64| {
            json!({"sub": "gb-sync", "scope": scope, "countries": countries, "ops": ops, "ttl_seconds": ttl})
        };
        let ops = json!(["liberterra-iii"]);
        for (name, body) in [
            ("a scope the issuer lacks", request("operations:read interceptions:write", json!(["GB"]), ops.clone(), 600)),
            ("tokens:issue it holds but with write", request("operations:write", json!(["GB"]), ops.clone(), 600)),
            ("another country", request("operations:read", json!(["DE"]), ops.clone(), 600)),
            ("every country", request("operations:read", json!(["*"]), ops.clone(), 600)),
            ("another operation", request("operations:read", json!(["GB"]), json!(["other-op"]), 600)),
            ("every operation", request("operations:read", json!(["GB"]), json!(["*"]), 600)),
            ("a longer life", request("operations:read", json!(["GB"]), ops.clone(), 7200)),
        ] {
            let reply = app.post_as(&issuer, "/v1/tokens", body).await;
            assert_eq!(reply.status.as_u16(), 403, "{name}: {}", reply.body);
        }
        let bad = app.post_as(&issuer, "/v1/tokens", request("operations:reed", json!(["gb", "ZZ"]), ops.clone(), 600)).await.expect_problem(422);
        let mut pointers = bad.pointers();
        pointers.sort();
        assert_eq!(pointers, vec!["/countries/1", "/scope"]);

        let issued = app.post_as(&issuer, "/v1/tokens", request("operations:read", json!(["gb"]), ops.clone(), 600)).await.expect(201);
        assert_eq!(issued.body["countries"], json!(["GB"]));
        let token = issued.body["token"].as_str().expect("token").to_string();
        app.get_as(&token, "/v1/operations/liberterra-iii").await.expect(200);
        app.get_as(&token, "/v1/operations/other-op").await.expect_problem(403);
        app.post_as(&token, "/v1/tokens", request("operations:read", json!(["GB"]), ops, 600)).await.expect_problem(403);
    }
);

db_test!(
    async fn revocation_reaches_every_instance(db) {
        let app = TestApp::start_with(db, |s| s.revocation_refresh_ms = 50).await;
        two_countries(&app).await;
        let other = app.second_instance(|_| {}).await;
        let gb_admin = app.token("tokens:issue operations:read", &["GB"], &["liberterra-iii"]);
        let issue = |countries: Value| json!({"sub": "unit", "scope": "operations:read", "countries": countries, "ops": ["liberterra-iii"], "ttl_seconds": 600});
        let fr_token = app.post("/v1/tokens", issue(json!(["FR"]))).await.expect(201).body;
        let gb_token = app.post("/v1/tokens", issue(json!(["GB"]))).await.expect(201).body;
        let (fr, fr_jti) = (fr_token["token"].as_str().expect("t"), fr_token["jti"].as_str().expect("j"));
        let (gb, gb_jti) = (gb_token["token"].as_str().expect("t"), gb_token["jti"].as_str().expect("j"));
        let url = "/v1/operations/liberterra-iii";
        assert_eq!(other.get_status(fr, url).await, 200);
        assert_eq!(other.get_status(gb, url).await, 200);

        // A GB issuer cannot revoke FR's token, nor one this service never issued: both
        // answer as a token that does not exist.
        let fr_refused = app.post_as(&gb_admin, &format!("/v1/tokens/{fr_jti}/revoke"), json!({})).await.expect_problem(404);
        let unknown = app.post_as(&gb_admin, "/v1/tokens/not-issued-here/revoke", json!({})).await.expect_problem(404);
        assert_eq!(fr_refused.body["detail"], unknown.body["detail"]);
        let revoked = app.post_as(&gb_admin, &format!("/v1/tokens/{gb_jti}/revoke"), json!({})).await.expect(200);
        assert_eq!(revoked.body["jti"], gb_jti);
        app.post_as(&gb_admin, &format!("/v1/tokens/{gb_jti}/revoke"), json!({})).await.expect(200);
        let refused = app.get_as(gb, url).await.expect_problem(401);
        assert!(refused.body["detail"].as_str().is_some_and(|d| d.contains("revoked")));
        // The other instance refuses it once its list is reloaded (every 50 ms here).
        actix_web::rt::time::sleep(std::time::Duration::from_millis(120)).await;
        assert_eq!(other.get_status(gb, url).await, 401);
        assert_eq!(other.get_status(fr, url).await, 200);
        // Any token may revoke itself.
        app.post_as(fr, &format!("/v1/tokens/{fr_jti}/revoke"), json!({})).await.expect(200);
        app.get_as(fr, url).await.expect_problem(401);
    }
);

db_test!(
    async fn rotation_old_and_new_keys_side_by_side(db) {
        let keys = tempfile::tempdir().expect("dir");
        let old = opcoord::auth::keys::generate(keys.path()).expect("old key");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let new = opcoord::auth::keys::generate(keys.path()).expect("new key");
        let path = |kid: &str, suffix: &str| keys.path().join(format!("{kid}{suffix}")).to_string_lossy().into_owned();
        let (old_key, new_key, new_pub) = (path(&old, ".key.pem"), path(&new, ".key.pem"), path(&new, ".pub.pem"));
        // During the rotation: the old key signs, the new one is listed to verify.
        let app = TestApp::start_with(db, |s| {
            s.signing_key = old_key.clone();
            s.verify_keys = vec![new_pub.clone()];
        })
        .await;
        let by_old = app.admin.clone();
        let new_pem = std::fs::read(&new_key).expect("read");
        let by_new = sign(Algorithm::EdDSA, &new, Some("at+jwt"), &good_claims(), &EncodingKey::from_ed_pem(&new_pem).expect("key"));
        app.get_as(&by_old, "/v1/operations").await.expect(200);
        app.get_as(&by_new, "/v1/operations").await.expect(200);
        let jwks = app.send_as(None, actix_web::test::TestRequest::get().uri("/.well-known/jwks.json")).await.expect(200);
        let mut kids: Vec<&str> = jwks.body["keys"].as_array().expect("keys").iter().map(|k| k["kid"].as_str().expect("kid")).collect();
        kids.sort();
        assert_eq!(kids, vec![old.as_str(), new.as_str()]);
        for key in jwks.body["keys"].as_array().expect("keys") {
            assert_eq!((key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str()), (Some("OKP"), Some("Ed25519"), Some("EdDSA")));
            assert_eq!(URL_SAFE_NO_PAD.decode(key["x"].as_str().expect("x")).expect("b64").len(), 32);
        }
        // After it: the new key signs and the old one is gone.
        let after = app
            .second_instance(|s| {
                s.signing_key = new_key.clone();
                s.verify_keys = vec![];
            })
            .await;
        assert_eq!(after.get_status(&by_new, "/v1/operations").await, 200);
        assert_eq!(after.get_status(&by_old, "/v1/operations").await, 401);
    }
);

db_test!(
    async fn shared_secret_only_where_configured(db) {
        let secret = "a-shared-secret-of-at-least-32-bytes!!";
        let app = TestApp::start_with(db, |s| s.hs256_secret = secret.to_string()).await;
        let hs = EncodingKey::from_secret(secret.as_bytes());
        let token = sign(Algorithm::HS256, "shared", Some("at+jwt"), &good_claims(), &hs);
        app.get_as(&token, "/v1/operations").await.expect(200);
        let (kid, _, _) = app_key(&app);
        let wrong_kid = sign(Algorithm::HS256, &kid, Some("at+jwt"), &good_claims(), &hs);
        app.get_as(&wrong_kid, "/v1/operations").await.expect_problem(401);
        let jwks = app.send_as(None, actix_web::test::TestRequest::get().uri("/.well-known/jwks.json")).await.expect(200);
        assert_eq!(jwks.body["keys"].as_array().map(Vec::len), Some(1), "the secret is never published");
        let off = app.second_instance(|s| s.hs256_secret.clear()).await;
        assert_eq!(off.get_status(&token, "/v1/operations").await, 401);
    }
);

/// Every operation of the spec that declares a security requirement refuses a request without
/// a token, so no endpoint is open by omission; every one declared open (`security: []`) answers
/// without one.
#[actix_web::test]
async fn no_endpoint_is_open_without_a_token() {
    let app = TestApp::start(crate::common::TestDb::Sqlite).await;
    let spec: Value = serde_json::from_str(&opcoord::openapi_json().expect("spec")).expect("json");
    let (mut checked, mut open) = (0, 0);
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let secured = operation["security"].as_array().is_some_and(|s| !s.is_empty());
            if path.starts_with("/v1/") && !path.starts_with("/v1/public/") {
                assert!(secured, "{method} {path} declares no security requirement");
            }
            assert!(
                operation["security"].is_array(),
                "{method} {path} states no security: open operations say so with `security: []`"
            );
            let uri = path
                .replace("{op}", "liberterra-iii")
                .replace("{id}", "1")
                .replace("{jti}", "x");
            let request = actix_web::test::TestRequest::default()
                .method(method.to_uppercase().parse().expect("method"))
                .uri(&uri)
                .set_json(json!({}));
            let reply = app.send_as(None, request).await;
            if secured {
                assert_eq!(reply.status.as_u16(), 401, "{method} {path}: {}", reply.body);
                checked += 1;
            } else {
                assert_ne!(
                    reply.status.as_u16(),
                    401,
                    "{method} {path} is declared open: {}",
                    reply.body
                );
                open += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} secured operations");
    assert!(open >= 4, "only {open} open operations");
}

db_test!(
    async fn cli_issues_a_token_from_the_data_folder(db) {
        let app = TestApp::start(db).await;
        app.operation("liberterra-iii").await;
        app.operation("other-op").await;
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_opcoord"))
            .args(["token", "issue", "--sub", "gb-sync", "--scope", "operations:read"])
            .args(["--countries", "gb", "--ops", "liberterra-iii", "--ttl", "1h"])
            .env("OPCOORD_DATA_DIR", &app.settings.data_dir)
            .env("DATABASE_URL", &app.settings.database_url)
            .env("RUST_LOG", "debug")
            .output()
            .expect("run opcoord");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        // The token alone on stdout, so that `TOKEN=$(opcoord token issue ...)` works; what is
        // said to people (the jti, the expiry, any log line) goes to stderr.
        let stdout = String::from_utf8(output.stdout).expect("utf-8");
        let token = stdout.strip_suffix('\n').expect("one line").to_string();
        assert!(!token.contains(char::is_whitespace), "stdout holds more than the token: {stdout:?}");
        assert_eq!(token.split('.').count(), 3, "stdout is not a JWT: {stdout:?}");
        assert!(stderr.contains("for gb-sync expires"), "{stderr}");
        app.get_as(&token, "/v1/operations/liberterra-iii").await.expect(200);
        app.get_as(&token, "/v1/operations/other-op").await.expect_problem(403);
        let bad = std::process::Command::new(env!("CARGO_BIN_EXE_opcoord"))
            .args(["token", "issue", "--sub", "x", "--scope", "operations:rule", "--countries", "GB", "--ops", "op-1"])
            .env("OPCOORD_DATA_DIR", &app.settings.data_dir)
            .env("DATABASE_URL", &app.settings.database_url)
            .output()
            .expect("run opcoord");
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("/scope"));
    }
);
