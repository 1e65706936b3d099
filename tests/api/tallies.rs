//! Tallies: maintained cells always equal their recomputation, breakdowns sum to their
//! figures, stated figures stand in the totals, CSV, reporting status, and the verifier.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::db_test;
use crate::interceptions::departure;
use opcoord::demo::Seeded;

const OP: &str = "liberterra-iii";

/// A random but valid interception.
fn random_item(rng: &mut Seeded, country: &str, external_ref: &str) -> Value {
    let kinds = ["sea_departure", "land_border", "premises", "checkpoint", "online"];
    let total = rng.below(60);
    let children = rng.below(total as u64 + 1);
    let female = rng.below(total as u64 + 1);
    let male = rng.below((total - female) as u64 + 1);
    let ng = rng.below(total as u64 + 1);
    let victims = rng.below(20);
    let forced = rng.below(victims as u64 + 1);
    let mut item = json!({
        "country": country, "external_ref": external_ref, "kind": kinds[rng.below(5) as usize],
        "occurred_at": format!("2025-09-{:02}T{:02}:15:00Z", 8 + rng.below(7), rng.below(24)),
        "migrants": {"total": total, "children": children, "female": female, "male": male, "by_nationality": {"NG": ng}},
        "victims": {"total": victims, "by_exploitation": {"forced_labour": forced}},
        "arrests": rng.below(5), "investigations_opened": rng.below(3),
        "seizures": [{"category": "cash", "quantity": rng.below(10_000) as f64 / 4.0, "unit": "EUR"}]
    });
    if rng.below(3) == 0 {
        item["migrants"].as_object_mut().expect("object").remove("children");
    }
    item
}

fn verify(app: &TestApp) -> Vec<opcoord::db::tallies::Difference> {
    app.db
        .with_conn(|conn| opcoord::db::tallies::verify(conn, OP))
        .expect("verify")
}

async fn tallies(app: &TestApp, token: &str, query: &str) -> Value {
    app.get_as(token, &format!("/v1/operations/{OP}/tallies{query}"))
        .await
        .expect(200)
        .body
}

db_test!(
    async fn maintained_cells_equal_recomputed_after_a_random_history(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        let countries = ["SN", "DZ", "ES", "ML"];
        let mut rng = Seeded(0x5eed_2025);
        let unit_ids: Vec<i64> = {
            let mut ids = Vec::new();
            for country in countries {
                let unit = json!({"country": country, "name": "NCB", "kind": "national_central_bureau", "officers_deployed": 100});
                ids.push(app.post(&format!("/v1/operations/{OP}/units"), unit).await.expect(201).body["id"].as_i64().expect("id"));
            }
            ids
        };
        for step in 0..120 {
            let country = countries[rng.below(4) as usize];
            let external_ref = format!("R-{}", rng.below(25));
            let url = format!("/v1/operations/{OP}/interceptions/{country}/{external_ref}");
            match rng.below(10) {
                0..=4 => {
                    let item = random_item(&mut rng, country, &external_ref);
                    let reply = app.send(TestRequest::put().uri(&url).set_json(item)).await;
                    assert!(reply.status.is_success(), "step {step}: {}", reply.body);
                }
                5..=6 => {
                    let reply = app.send(TestRequest::delete().uri(&url)).await;
                    assert!(reply.status.is_success() || reply.status.as_u16() == 404, "step {step}: {}", reply.body);
                }
                7..=8 => {
                    let items: Vec<Value> = (0..5)
                        .map(|i| {
                            let c = countries[(i + step) % 4];
                            random_item(&mut rng, c, &format!("R-{}", (i * 7 + step) % 25))
                        })
                        .collect();
                    app.post(&format!("/v1/operations/{OP}/interceptions/batch"), json!({"items": items})).await.expect(200);
                }
                _ => {
                    let id = unit_ids[rng.below(4) as usize];
                    let patch = json!({"officers_deployed": rng.below(500), "active": rng.below(4) != 0});
                    app.patch(&format!("/v1/operations/{OP}/units/{id}"), None, patch).await.expect(200);
                }
            }
        }
        let differences = verify(&app);
        assert!(differences.is_empty(), "{differences:?}");

        // Every breakdown of every figure sums to the figure, per country and in the totals.
        for group_by in ["nationality", "age_group", "sex", "kind", "day", "exploitation"] {
            let report = tallies(&app, &app.admin, &format!("?group_by={group_by}")).await;
            for row in report["countries"].as_array().expect("rows").iter().chain(report["totals"].as_array().expect("totals")) {
                let Some(breakdown) = row["breakdown"].as_object() else { continue };
                let sum: i64 = breakdown.values().map(|v| v.as_i64().expect("int")).sum();
                assert_eq!(sum, row["value"].as_i64().expect("value"), "{group_by}: {row}");
            }
        }
        // The totals are the sums of the countries' figures.
        let report = tallies(&app, &app.admin, "?metric=migrants_detected").await;
        let sum: i64 = report["countries"].as_array().expect("rows").iter().map(|r| r["value"].as_i64().expect("v")).sum();
        assert_eq!(report["totals"][0]["value"], sum);
        assert!(report["as_of_seq"].as_i64().expect("seq") > 0);

        // Tampering with a cell is caught, by the library and by the CLI (the cells folded first,
        // so that the row exists on PostgreSQL).
        app.fold();
        let sql = format!("UPDATE tally_cells SET value = value + 1 WHERE operation_id = '{OP}' AND country = 'SN' AND metric = 'interceptions' AND dimension = ''");
        app.execute_sql(&sql, "tamper");
        let differences = verify(&app);
        assert_eq!(differences.len(), 1);
        assert_eq!(differences[0].cell, ("SN".into(), "interceptions".into(), String::new(), String::new()));
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_opcoord"))
            .args(["tallies", "verify"])
            .env("DATABASE_URL", &app.settings.database_url)
            .output()
            .expect("run opcoord");
        assert!(!output.status.success());
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("DIFFERS liberterra-iii SN interceptions total"), "{stdout}");
    }
);

db_test!(
    async fn a_stated_figure_stands_and_both_are_shown(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        let ml = app.token("interceptions:write tallies:write tallies:read", &["ML"], &[OP]);
        let mut item = departure("ML", "ML-1", 10);
        item["victims"] = json!({"total": 12, "by_nationality": {"NG": 12}, "by_exploitation": {"sexual_exploitation": 12}});
        app.post_as(&ml, &format!("/v1/operations/{OP}/interceptions/batch"), json!({"items": [item]})).await.expect(200);
        let derived = tallies(&app, &ml, "?metric=victims_safeguarded").await;
        assert_eq!(derived["countries"][0]["value"], 12);
        assert_eq!(derived["countries"][0]["source"], "derived");

        let url = format!("/v1/operations/{OP}/tallies/ML/victims_safeguarded");
        let figure = json!({"value": 47, "breakdown": {"nationality": {"ng": 47}, "exploitation": {"sexual_exploitation": 40}}, "as_of": "2025-09-14"});
        let stated = app.send_as(Some(&ml), TestRequest::put().uri(&url).set_json(figure.clone())).await.expect(201);
        assert_eq!((stated.body["version"].as_i64(), stated.body["result"].as_str()), (Some(1), Some("created")));
        let again = app.send_as(Some(&ml), TestRequest::put().uri(&url).set_json(figure)).await.expect(200);
        assert_eq!((again.body["version"].as_i64(), again.body["result"].as_str()), (Some(1), Some("unchanged")));

        let report = tallies(&app, &ml, "?metric=victims_safeguarded&group_by=exploitation").await;
        let row = &report["countries"][0];
        assert_eq!((row["value"].as_i64(), row["source"].as_str()), (Some(47), Some("reported")));
        assert_eq!((row["derived"].as_i64(), row["reported"].as_i64()), (Some(12), Some(47)));
        assert_eq!(row["breakdown"], json!({"sexual_exploitation": 40, "unknown": 7}));
        assert_eq!(report["totals"][0]["value"], 47);
        assert_eq!(report["totals"][0]["derived"], 12);

        let corrected = json!({"value": 48, "as_of": "2025-09-15"});
        let v2 = app.send_as(Some(&ml), TestRequest::put().uri(&url).set_json(corrected).insert_header(("if-match", "\"1\""))).await.expect(200);
        assert_eq!(v2.body["version"], 2);
        let history = app.get_as(&ml, &url).await.expect(200);
        assert_eq!(history.body["history"].as_array().map(Vec::len), Some(2));
        assert_eq!(history.body["current"]["value"], 48);

        // Rules: sums within the figure, dimensions of the metric, no seizures, own country only.
        let bad = json!({"value": 5, "breakdown": {"nationality": {"NG": 6}, "category": {"cash": 1}}, "as_of": "2025-09-14"});
        let refused = app.send_as(Some(&ml), TestRequest::put().uri(&url).set_json(bad)).await.expect_problem(422);
        let mut pointers = refused.pointers();
        pointers.sort();
        assert_eq!(pointers, vec!["/breakdown/category", "/breakdown/nationality"]);
        let seizures = format!("/v1/operations/{OP}/tallies/ML/seizures");
        app.send_as(Some(&ml), TestRequest::put().uri(&seizures).set_json(json!({"value": 1, "as_of": "2025-09-14"}))).await.expect_problem(400);
        let gb = format!("/v1/operations/{OP}/tallies/GB/victims_safeguarded");
        app.send_as(Some(&ml), TestRequest::put().uri(&gb).set_json(json!({"value": 1, "as_of": "2025-09-14"}))).await.expect_problem(403);
        let feed = app.get(&format!("/v1/operations/{OP}/changes")).await.expect(200);
        let tally_changes: Vec<i64> = feed.body["changes"].as_array().expect("changes").iter().filter(|c| c["entity"] == "tally").map(|c| c["version"].as_i64().expect("version")).collect();
        assert_eq!(tally_changes, vec![2], "the figure once, at its latest version");
    }
);

db_test!(
    async fn csv_visibility_and_reporting(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        for (country, officers) in [("SN", 300), ("DZ", 120)] {
            let unit = json!({"country": country, "name": "NCB", "kind": "national_central_bureau", "officers_deployed": officers});
            app.post(&format!("/v1/operations/{OP}/units"), unit).await.expect(201);
        }
        let items = json!({"items": [departure("SN", "S-1", 245), departure("ES", "E-1", 21)]});
        app.post(&format!("/v1/operations/{OP}/interceptions/batch"), items).await.expect(200);

        let csv = app
            .send(TestRequest::get().uri(&format!("/v1/operations/{OP}/tallies?metric=migrants_detected&group_by=nationality")).insert_header(("accept", "text/csv")))
            .await
            .expect(200);
        assert!(csv.header("content-type").is_some_and(|t| t.starts_with("text/csv")));
        let text = csv.body.as_str().expect("text").to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "country,metric,dimension,bucket,value,source,derived,reported,status");
        assert!(lines.contains(&"*,migrants_detected,,,266,total,266,,"), "{text}");
        assert!(lines.contains(&"*,migrants_detected,,,0,total_final,,,"), "{text}");
        assert!(lines.contains(&"SN,migrants_detected,,,245,derived,245,,provisional"), "{text}");
        assert!(lines.contains(&"SN,migrants_detected,nationality,SN,244,derived,,,provisional"), "{text}");

        let officers = tallies(&app, &app.admin, "?metric=officers_deployed").await;
        assert_eq!(officers["totals"][0]["value"], 420);
        let seizures = tallies(&app, &app.admin, "?metric=seizures&country=SN").await;
        assert_eq!(seizures["countries"][0]["value"], 2);
        assert_eq!(seizures["countries"][0]["quantities"], json!({"cash:EUR": 6000.0, "vehicles": 1.0}));

        // A token sees only its countries' rows.
        let sn = app.token("tallies:read", &["SN"], &[OP]);
        let own = tallies(&app, &sn, "").await;
        assert!(own["countries"].as_array().expect("rows").iter().all(|r| r["country"] == "SN"));
        assert_eq!(own["totals"].as_array().expect("totals").iter().find(|t| t["metric"] == "migrants_detected").expect("m")["value"], 245);
        app.get_as(&sn, &format!("/v1/operations/{OP}/tallies?country=ES")).await.expect_problem(403);

        // The operation is over: late means nothing received for its last day (30 September);
        // SN reported for the 12th only. ES has no unit: it is shown, never expected.
        let reporting = app.get(&format!("/v1/operations/{OP}/reporting")).await.expect(200);
        assert_eq!(reporting.body["late"], json!(["DZ", "SN"]));
        let rows = reporting.body["countries"].as_array().expect("rows");
        let es = rows.iter().find(|r| r["country"] == "ES").expect("ES");
        assert_eq!((es["participating"].as_bool(), es["late"].as_bool()), (Some(false), Some(false)));
        assert_eq!(es["last_reported"], "interceptions");
        let sn = rows.iter().find(|r| r["country"] == "SN").expect("SN");
        assert_eq!(sn["days_late"], 29);
        let summary = &reporting.body["summary"];
        assert_eq!((summary["expected"].as_i64(), summary["received"].as_i64()), (Some(60), Some(1)));
    }
);

db_test!(
    async fn cached_answers_see_own_writes_at_once_and_others_within_the_cache_time(db) {
        let app = TestApp::start_with(db, |s| s.tally_cache_ms = 500).await;
        app.operation(OP).await;
        let other = app.second_instance(|_| {}).await;
        let path = format!("/v1/operations/{OP}/tallies?metric=interceptions");
        let count = |body: &Value| body["totals"][0]["value"].as_i64().unwrap_or(0);
        let batch_path = format!("/v1/operations/{OP}/interceptions/batch");
        let batch = |n: usize| {
            let items: Vec<Value> = (0..n).map(|i| departure("SN", &format!("C-{n}-{i}"), 5)).collect();
            json!({"items": items})
        };
        assert_eq!(count(&app.get(&path).await.expect(200).body), 0);
        app.post(&batch_path, batch(1)).await.expect(200);
        let own = app.get(&path).await.expect(200).body;
        assert_eq!(count(&own), 1, "a write through this instance is seen at once");
        let (status, before) = other.get_json(&app.admin, &path).await;
        assert_eq!((status, count(&before)), (200, 1));
        app.post(&batch_path, batch(2)).await.expect(200);
        assert_eq!(count(&app.get(&path).await.expect(200).body), 3);
        let (_, stale) = other.get_json(&app.admin, &path).await;
        assert_eq!(stale, before, "the other instance may answer from its cache, with its as_of_seq");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(600)).await;
        let (_, fresh) = other.get_json(&app.admin, &path).await;
        assert_eq!(count(&fresh), 3, "within tally_cache_ms the other instance sees the write");
        assert!(fresh["as_of_seq"].as_i64() > before["as_of_seq"].as_i64());
    }
);
