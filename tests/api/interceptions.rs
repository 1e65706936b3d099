//! Interceptions: push, replay, correct, retract, revive, batches, idempotency keys, and the
//! change feed under concurrent writers.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::db_test;

const OP: &str = "liberterra-iii";

/// A sea departure like the one stopped in Senegal, under `external_ref`.
pub fn departure(country: &str, external_ref: &str, total: i64) -> Value {
    json!({
        "country": country, "external_ref": external_ref, "kind": "sea_departure",
        "occurred_at": "2025-09-12T05:40:00Z", "location": {"place": "Mbour", "lat": 14.42, "lon": -16.96},
        "migrants": {"total": total, "children": 2, "female": 3, "male": total - 3, "by_nationality": {"SN": total - 1, "GM": 1}},
        "victims": {"total": 0}, "arrests": 3, "investigations_opened": 1,
        "seizures": [{"category": "vehicles", "quantity": 1}, {"category": "cash", "quantity": 6000, "unit": "EUR"}],
        "notes": "pirogue intercepted at departure"
    })
}

fn url(country: &str, external_ref: &str) -> String {
    format!("/v1/operations/{OP}/interceptions/{country}/{external_ref}")
}

async fn put(app: &TestApp, token: &str, body: Value, if_match: Option<&str>) -> crate::common::Reply {
    let (country, external_ref) = (
        body["country"].as_str().unwrap_or("SN"),
        body["external_ref"].as_str().unwrap_or("x"),
    );
    let mut request = TestRequest::put()
        .uri(&url(country, external_ref))
        .set_json(body.clone());
    if let Some(tag) = if_match {
        request = request.insert_header(("if-match", tag));
    }
    app.send_as(Some(token), request).await
}

async fn changes(app: &TestApp, after: i64) -> Value {
    app.get(&format!("/v1/operations/{OP}/changes?after={after}&limit=1000"))
        .await
        .expect(200)
        .body
}

db_test!(
    async fn push_replay_correct_retract_revive(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        let sn = app.token("interceptions:write interceptions:read", &["SN"], &[OP]);
        let first = put(&app, &sn, departure("SN", "DGPN-0912-01", 245), None).await.expect(201);
        assert_eq!(first.body["result"], "created");
        assert_eq!(first.body["version"], 1);
        assert_eq!(first.body["reported_by"], "test");
        assert_eq!(first.header("etag").as_deref(), Some("\"1\""));
        assert_eq!(first.body["migrants"]["by_nationality"], json!({"GM": 1, "SN": 244}));

        let again = put(&app, &sn, departure("SN", "DGPN-0912-01", 245), None).await.expect(200);
        assert_eq!(again.body["result"], "unchanged");
        assert_eq!(again.body["version"], 1);

        let corrected = put(&app, &sn, departure("SN", "DGPN-0912-01", 246), Some("\"1\"")).await.expect(200);
        assert_eq!((corrected.body["result"].as_str(), corrected.body["version"].as_i64()), (Some("updated"), Some(2)));
        put(&app, &sn, departure("SN", "DGPN-0912-01", 247), Some("\"1\"")).await.expect_problem(412);
        let read = app.get_as(&sn, &url("SN", "DGPN-0912-01")).await.expect(200);
        assert_eq!(read.body["migrants"]["total"], 246);
        assert_eq!(read.header("etag").as_deref(), Some("\"2\""));

        let retracted = app.send_as(Some(&sn), TestRequest::delete().uri(&url("SN", "DGPN-0912-01"))).await.expect(200);
        assert_eq!((retracted.body["deleted"].as_bool(), retracted.body["version"].as_i64()), (Some(true), Some(3)));
        let twice = app.send_as(Some(&sn), TestRequest::delete().uri(&url("SN", "DGPN-0912-01"))).await.expect(200);
        assert_eq!(twice.body["result"], "unchanged");
        let list = format!("/v1/operations/{OP}/interceptions");
        assert_eq!(app.get_as(&sn, &list).await.expect(200).body["items"], json!([]));
        let with_tombstones = app.get_as(&sn, &format!("{list}?include_deleted=true")).await.expect(200);
        assert_eq!(with_tombstones.body["items"][0]["deleted"], true);
        let revived = put(&app, &sn, departure("SN", "DGPN-0912-01", 246), None).await.expect(200);
        assert_eq!((revived.body["result"].as_str(), revived.body["version"].as_i64()), (Some("updated"), Some(4)));
        assert_eq!(revived.body["deleted"], false);
        app.send_as(Some(&sn), TestRequest::delete().uri(&url("SN", "NEVER-SENT"))).await.expect_problem(404);

        // The feed holds the record once, at its latest version (as CouchDB's feed does).
        let feed = changes(&app, 0).await;
        let versions: Vec<(String, i64)> = feed["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .filter(|c| c["entity"] == "interception")
            .map(|c| (c["action"].as_str().expect("action").to_string(), c["version"].as_i64().expect("v")))
            .collect();
        assert_eq!(versions, vec![("upsert".to_string(), 4)]);
        assert_eq!(feed["changes"][0]["key"], "SN/DGPN-0912-01");
        assert_eq!(feed["changes"][0]["data"]["migrants"]["total"], 246);

        // Another country's token cannot write or read SN's interception.
        let gb = app.token("interceptions:write interceptions:read", &["GB"], &[OP]);
        put(&app, &gb, departure("SN", "DGPN-0912-01", 1), None).await.expect_problem(403);
        app.get_as(&gb, &url("SN", "DGPN-0912-01")).await.expect_problem(403);
        app.send_as(Some(&gb), TestRequest::delete().uri(&url("SN", "DGPN-0912-01"))).await.expect_problem(403);
        assert_eq!(app.get_as(&sn, &url("SN", "DGPN-0912-01")).await.body["version"], 4);
    }
);

db_test!(
    async fn a_batch_replayed_three_times_is_stored_once(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        let items: Vec<Value> = (0..50).map(|i| departure(if i % 2 == 0 { "SN" } else { "DZ" }, &format!("REF-{i:03}"), 10 + i)).collect();
        let batch = json!({"items": items});
        let batch_url = format!("/v1/operations/{OP}/interceptions/batch");
        let first = app.post(&batch_url, batch.clone()).await.expect(200);
        assert_eq!(first.body["summary"], json!({"created": 50, "updated": 0, "unchanged": 0, "rejected": 0}));
        for round in 0..2 {
            let replay = app.post(&batch_url, batch.clone()).await.expect(200);
            assert_eq!(replay.body["summary"], json!({"created": 0, "updated": 0, "unchanged": 50, "rejected": 0}), "replay {round}");
        }
        let results = first.body["results"].as_array().expect("results");
        assert_eq!(results.len(), 50);
        for (i, result) in results.iter().enumerate() {
            assert_eq!(result["index"], i);
            assert_eq!(result["external_ref"], format!("REF-{i:03}"));
            assert_eq!(result["version"], 1);
        }
        let feed = changes(&app, 0).await;
        assert_eq!(feed["changes"].as_array().map(Vec::len), Some(50));
        let digest = app.get(&format!("/v1/operations/{OP}/sync/digest?country=SN")).await.expect(200);
        assert_eq!(digest.body["count"], 25);
        // The digest is the documented hash, so a national system can compute it too.
        let mut lines: Vec<String> = (0..50).filter(|i| i % 2 == 0).map(|i| format!("REF-{i:03}\t1\n")).collect();
        lines.sort();
        use sha2::Digest;
        let expected = hex::encode(sha2::Sha256::digest(lines.concat().as_bytes()));
        assert_eq!(digest.body["digest"], expected);

        // One item changed: only it gets a new version.
        let mut changed = batch.clone();
        changed["items"][7]["arrests"] = json!(9);
        let second = app.post(&batch_url, changed).await.expect(200);
        assert_eq!(second.body["summary"], json!({"created": 0, "updated": 1, "unchanged": 49, "rejected": 0}));
        assert_eq!(second.body["results"][7]["version"], 2);
    }
);

db_test!(
    async fn bad_items_are_reported_and_the_rest_stored(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        let sn = app.token("interceptions:write interceptions:read", &["SN", "DZ"], &[OP]);
        let mut items = vec![departure("SN", "OK-1", 20)];
        let mut too_many_children = departure("SN", "BAD-1", 20);
        too_many_children["migrants"]["children"] = json!(21);
        items.push(too_many_children);
        let mut nationality = departure("SN", "BAD-2", 20);
        nationality["migrants"]["by_nationality"] = json!({"XX": 1});
        items.push(nationality);
        let mut outside = departure("SN", "BAD-3", 20);
        outside["occurred_at"] = json!("2025-10-15T00:00:00Z");
        items.push(outside);
        let mut typo = departure("SN", "BAD-4", 20);
        typo["migrants"]["chidren"] = json!(1);
        items.push(typo);
        items.push(departure("GB", "BAD-5", 20));
        let mut currency = departure("DZ", "BAD-6", 20);
        currency["seizures"] = json!([{"category": "cash", "quantity": 10, "unit": "EUX"}]);
        items.push(currency);
        let mut victims = departure("DZ", "BAD-7", 20);
        victims["victims"] = json!({"total": 2, "by_exploitation": {"forced_labour": 3}});
        items.push(victims);
        items.push(departure("DZ", "OK-2", 71));
        let reply = app.post_as(&sn, &format!("/v1/operations/{OP}/interceptions/batch"), json!({"items": items})).await.expect(200);
        assert_eq!(reply.body["summary"], json!({"created": 2, "updated": 0, "unchanged": 0, "rejected": 7}));
        let pointer = |i: usize| reply.body["results"][i]["problem"]["errors"][0]["pointer"].as_str().unwrap_or_default().to_string();
        assert_eq!(pointer(1), "/items/1/migrants/children");
        assert_eq!(pointer(2), "/items/2/migrants/by_nationality/XX");
        assert_eq!(pointer(3), "/items/3/occurred_at");
        assert_eq!(pointer(4), "/items/4/migrants/chidren");
        assert_eq!(reply.body["results"][5]["problem"]["status"], 403);
        assert_eq!(pointer(6), "/items/6/seizures/0/unit");
        assert_eq!(pointer(7), "/items/7/victims/by_exploitation");
        assert_eq!(reply.body["results"][8]["result"], "created");
        let stored = app.get_as(&sn, &format!("/v1/operations/{OP}/interceptions")).await.expect(200);
        let mut refs: Vec<&str> = stored.body["items"].as_array().expect("items").iter().map(|i| i["external_ref"].as_str().expect("ref")).collect();
        refs.sort_unstable();
        assert_eq!(refs, vec!["OK-1", "OK-2"]);
    }
);

db_test!(
    async fn atomic_batches_are_all_or_nothing(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        let batch_url = format!("/v1/operations/{OP}/interceptions/batch?atomic=true");
        let mut bad = departure("SN", "A-2", 5);
        bad["arrests"] = json!(-1);
        let items = json!({"items": [departure("SN", "A-1", 5), bad, departure("SN", "A-3", 5)]});
        let refused = app.post(&batch_url, items).await.expect_problem(422);
        assert_eq!(refused.pointers(), vec!["/items/1/arrests"]);
        assert_eq!(app.get(&format!("/v1/operations/{OP}/interceptions")).await.body["items"], json!([]));
        assert_eq!(changes(&app, 0).await["changes"], json!([]));
        let good = json!({"items": [departure("SN", "A-1", 5), departure("SN", "A-3", 5)]});
        let stored = app.post(&batch_url, good).await.expect(200);
        assert_eq!(stored.body["summary"]["created"], 2);

        // More than 1,000 items, or none, is refused whole.
        let many: Vec<Value> = (0..1001).map(|i| departure("SN", &format!("M-{i}"), 5)).collect();
        let refused = app.post(&format!("/v1/operations/{OP}/interceptions/batch"), json!({"items": many})).await.expect_problem(422);
        assert_eq!(refused.pointers(), vec!["/items"]);
        app.post(&format!("/v1/operations/{OP}/interceptions/batch"), json!({"items": []})).await.expect_problem(422);
        assert_eq!(app.get(&format!("/v1/operations/{OP}/interceptions")).await.body["items"].as_array().map(Vec::len), Some(2));
    }
);

db_test!(
    async fn idempotency_keys(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        let batch_url = format!("/v1/operations/{OP}/interceptions/batch");
        let send = |key: &str, body: Value| TestRequest::post().uri(&batch_url).insert_header(("idempotency-key", key)).set_json(body);
        let body = json!({"items": [departure("SN", "K-1", 5)]});
        let first = app.send(send("key-1", body.clone())).await.expect(200);
        assert!(first.header("idempotent-replayed").is_none());
        // Change the stored item behind the key's back: the replay still answers as the first time.
        put(&app, &app.admin, departure("SN", "K-1", 6), None).await.expect(200);
        let replay = app.send(send("key-1", body.clone())).await.expect(200);
        assert_eq!(replay.header("idempotent-replayed").as_deref(), Some("true"));
        assert_eq!(replay.body, first.body);
        let other = app.send(send("key-1", json!({"items": [departure("SN", "K-2", 5)]}))).await.expect_problem(422);
        assert_eq!(other.body["errors"][0]["parameter"], "Idempotency-Key");
        app.get(&url("SN", "K-2")).await.expect_problem(404);
        // A repeat while the first is still running is 409.
        let fingerprint = {
            use sha2::Digest;
            let mut h = sha2::Sha256::new();
            h.update(format!("POST {batch_url}?\n").as_bytes());
            h.update(body.to_string().as_bytes());
            hex::encode(h.finalize())
        };
        let owner = opcoord::auth::Caller::from(app.auth.verify(&app.admin).expect("claims")).principal();
        app.db.with_conn(|conn| opcoord::db::idempotency::claim(conn, &owner, "key-2", &fingerprint)).expect("claim");
        let running = app.send(send("key-2", body.clone())).await.expect_problem(409);
        assert_eq!(running.body["type"], "urn:opcoord:problem:in-progress");
        assert_eq!(running.header("retry-after").as_deref(), Some("1"));
        // A failed write gives its key back: the retry runs.
        app.patch(&format!("/v1/operations/{OP}"), None, json!({"status": "closed"})).await.expect(200);
        app.send(send("key-3", body.clone())).await.expect_problem(409);
        app.patch(&format!("/v1/operations/{OP}"), None, json!({"status": "active"})).await.expect(200);
        let retried = app.send(send("key-3", body)).await.expect(200);
        assert!(retried.header("idempotent-replayed").is_none());
    }
);

db_test!(
    async fn writes_only_while_active(db) {
        let app = TestApp::start(db).await;
        app.post(
            "/v1/operations",
            json!({"id": OP, "name": "L3", "starts_on": "2025-09-01", "ends_on": "2025-09-30"}),
        )
        .await
        .expect(201);
        put(&app, &app.admin, departure("SN", "P-1", 5), None).await.expect_problem(409);
        app.post(&format!("/v1/operations/{OP}/interceptions/batch"), json!({"items": [departure("SN", "P-1", 5)]}))
            .await
            .expect_problem(409);
        app.patch(&format!("/v1/operations/{OP}"), None, json!({"status": "active"})).await.expect(201 - 1);
        put(&app, &app.admin, departure("SN", "P-1", 5), None).await.expect(201);
        let mut body = departure("SN", "P-1", 5);
        body["country"] = json!("DZ");
        let mismatch = app.send(TestRequest::put().uri(&url("SN", "P-1")).set_json(body)).await.expect_problem(422);
        assert_eq!(mismatch.pointers(), vec!["/country"]);
        app.send(TestRequest::put().uri(&url("ZZ", "P-1")).set_json(departure("SN", "P-1", 5))).await.expect_problem(400);
    }
);

db_test!(
    async fn the_feed_misses_nothing_and_repeats_nothing_under_concurrent_writers(db) {
        let app = TestApp::start_with(db, |s| s.pool_size = 8).await;
        app.operation(OP).await;
        const WRITERS: usize = 4;
        const BATCHES: usize = 8;
        const ITEMS: usize = 25;
        let writers = (0..WRITERS).map(|w| {
            let app = &app;
            async move {
                let mut acknowledged = Vec::new();
                for b in 0..BATCHES {
                    let items: Vec<Value> = (0..ITEMS).map(|i| departure("SN", &format!("W{w}-B{b}-{i}"), 5)).collect();
                    let reply = app.post(&format!("/v1/operations/{OP}/interceptions/batch"), json!({"items": items})).await.expect(200);
                    assert_eq!(reply.body["summary"]["created"], ITEMS);
                    acknowledged.extend((0..ITEMS).map(|i| format!("SN/W{w}-B{b}-{i}")));
                }
                acknowledged
            }
        });
        let done = std::cell::Cell::new(false);
        let reader = async {
            let (mut after, mut seen, mut last_seq) = (0_i64, Vec::new(), 0_i64);
            loop {
                let finished = done.get();
                let page = changes(&app, after).await;
                for change in page["changes"].as_array().expect("changes") {
                    let seq = change["seq"].as_i64().expect("seq");
                    assert!(seq > last_seq, "seq {seq} after {last_seq}");
                    last_seq = seq;
                    seen.push(change["key"].as_str().expect("key").to_string());
                }
                after = page["next"].as_i64().expect("next");
                if finished && !page["has_more"].as_bool().unwrap_or(true) {
                    return seen;
                }
                actix_web::rt::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        };
        let writing = async {
            let all = futures_util::future::join_all(writers).await;
            done.set(true);
            all
        };
        let (acknowledged, seen) = futures_util::join!(writing, reader);
        let mut acknowledged: Vec<String> = acknowledged.into_iter().flatten().collect();
        let mut seen_sorted = seen.clone();
        acknowledged.sort();
        seen_sorted.sort();
        let unique = { let mut u = seen_sorted.clone(); u.dedup(); u.len() };
        assert_eq!(unique, seen.len(), "a change was delivered twice");
        assert_eq!(seen_sorted, acknowledged, "the reader's set differs from the committed changes");
        // The audit chain stayed whole under the same concurrent writers.
        let chain = app.db.with_conn(opcoord::db::audit::verify).expect("verify");
        // One entry per batch (each batch holds one country's items), listing its items.
        assert_eq!(chain, Ok(1 + (WRITERS * BATCHES) as i64));
    }
);

db_test!(
    async fn idempotency_keys_expire_after_48_hours(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        let send = |key: &str| {
            TestRequest::post()
                .uri(&format!("/v1/operations/{OP}/interceptions/batch"))
                .insert_header(("idempotency-key", key))
                .set_json(json!({"items": [departure("SN", "E-1", 5)]}))
        };
        app.send(send("old-key")).await.expect(200);
        let sql = "UPDATE idempotency_keys SET created_at = created_at - INTERVAL_PLACEHOLDER";
        let shift = match app.pg_schema() {
            Some(_) => sql.replace("INTERVAL_PLACEHOLDER", "INTERVAL '49 hours'"),
            None => "UPDATE idempotency_keys SET created_at = datetime(created_at, '-49 hours')".to_string(),
        };
        app.execute_sql(&shift, "age the key");
        let purged = app.db.with_conn(opcoord::db::idempotency::purge).expect("purge");
        assert_eq!(purged, 1);
        // The key is free again: the same key now runs the request (unchanged content).
        let again = app.send(send("old-key")).await.expect(200);
        assert!(again.header("idempotent-replayed").is_none());
        assert_eq!(again.body["summary"]["unchanged"], 1);
    }
);

db_test!(
    async fn concurrent_writers_of_the_same_new_records_count_them_once(db) {
        let app = TestApp::start_with(db, |s| s.pool_size = 8).await;
        app.operation(OP).await;
        // Four national systems' retries race: the same 40 records, new to the hub, at once.
        let items: Vec<Value> = (0..40).map(|i| departure("SN", &format!("RACE-{i}"), 5 + i)).collect();
        let batch = json!({"items": items});
        let url = format!("/v1/operations/{OP}/interceptions/batch");
        let pushes = (0..4).map(|_| app.post(&url, batch.clone()));
        let replies = futures_util::future::join_all(pushes).await;
        let created: i64 = replies
            .into_iter()
            .map(|r| r.expect(200).body["summary"]["created"].as_i64().unwrap_or(-1))
            .sum();
        assert_eq!(created, 40, "each record is created by exactly one of the racing batches");
        let tallies = app.get(&format!("/v1/operations/{OP}/tallies?metric=interceptions")).await.expect(200);
        assert_eq!(tallies.body["totals"][0]["value"], 40);
        let feed = changes(&app, 0).await;
        let versions: Vec<i64> = feed["changes"].as_array().expect("changes").iter().filter(|c| c["entity"] == "interception").map(|c| c["version"].as_i64().unwrap_or(0)).collect();
        assert_eq!(versions, vec![1; 40], "one change per record");
        let differences = app.db.with_conn(|conn| opcoord::db::tallies::verify(conn, OP)).expect("verify");
        assert!(differences.is_empty(), "{differences:?}");
    }
);

db_test!(
    async fn concurrent_writers_changing_the_same_records_of_several_countries_lose_no_update(db) {
        let app = TestApp::start_with(db, |s| s.pool_size = 8).await;
        app.operation(OP).await;
        let countries = ["SN", "GM", "ML"];
        let keys: Vec<(&str, String)> = countries.iter().flat_map(|c| (0..10).map(move |i| (*c, format!("SHARED-{i}")))).collect();
        let batch = format!("/v1/operations/{OP}/interceptions/batch");
        let seed: Vec<Value> = keys.iter().map(|(c, r)| departure(c, r, 5)).collect();
        app.post(&batch, json!({"items": seed})).await.expect(200);
        // Four writers at once, each changing all thirty records (figures of its own, so every
        // change is an update) and creating records of its own, countries mixed in each batch;
        // the tally log is folded all the while (PostgreSQL).
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let folder = {
            let (db, stop) = (app.db.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    // One write per fold, so that folds fall between the racing writes.
                    db.with_conn(|c| opcoord::db::tally_log::fold(c, 1)).expect("fold while writing");
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
            })
        };
        const WRITERS: i64 = 4;
        let pushes = (0..WRITERS).map(|w| {
            let mut items: Vec<Value> = keys.iter().map(|(c, r)| departure(c, r, 10 + w)).collect();
            items.extend(countries.iter().map(|c| departure(c, &format!("OWN-{w}"), 7)));
            app.post(&batch, json!({"items": items}))
        });
        for reply in futures_util::future::join_all(pushes).await {
            let reply = reply.expect(200);
            assert_eq!(reply.body["summary"]["updated"], 30, "{}", reply.body);
            assert_eq!(reply.body["summary"]["created"], 3, "{}", reply.body);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        folder.join().expect("the folding thread");
        // Every update applied once, in some order: version 1 + 4 for each shared record.
        for (c, r) in &keys {
            let record = app.get(&url(c, r)).await.expect(200);
            assert_eq!(record.body["version"], 1 + WRITERS, "{c}/{r}");
        }
        // A write done again after meeting a concurrent change kept no version twice.
        let history = app.get(&format!("{}/versions", url("GM", "SHARED-3"))).await.expect(200).body;
        let numbers: Vec<i64> = history["versions"].as_array().expect("versions").iter().map(|v| v["version"].as_i64().unwrap_or(0)).collect();
        assert_eq!(numbers, (1..=1 + WRITERS).collect::<Vec<_>>());
        let differences = app.db.with_conn(|conn| opcoord::db::tallies::verify(conn, OP)).expect("verify");
        assert!(differences.is_empty(), "the tallies differ from a recount: {differences:?}");
        app.fold();
        let differences = app.db.with_conn(|conn| opcoord::db::tallies::verify(conn, OP)).expect("verify");
        assert!(differences.is_empty(), "the folded cells differ from a recount: {differences:?}");
        let chain = app.db.with_conn(opcoord::db::audit::verify).expect("verify");
        assert!(chain.is_ok(), "{chain:?}");
        let feed = changes(&app, 0).await;
        let interceptions = feed["changes"].as_array().expect("changes").iter().filter(|c| c["entity"] == "interception").count();
        assert_eq!(interceptions, 30 + 3 * WRITERS as usize, "one change per record, its latest version");
    }
);

db_test!(
    async fn a_record_changed_by_another_writer_mid_write_is_decided_again(db) {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        let app = TestApp::start_with(db, |s| {
            if s.database_url.starts_with("postgres") {
                let schema = s.database_url.rsplit("%3D").next().unwrap_or_default().to_string();
                s.database_url.push_str(&format!("&application_name={schema}"));
            }
        })
        .await;
        app.operation(OP).await;
        app.send(TestRequest::put().uri(&url("SN", "MID-1")).set_json(departure("SN", "MID-1", 5))).await.expect(201);
        let retried = || opcoord::observe::METRICS.write_retries("contended");
        let before = retried();
        // Another writer has changed the record (a new version, same content) and not yet
        // committed when the push arrives.
        let bump = "BEGIN; UPDATE interceptions SET version = version + 1 WHERE external_ref = 'MID-1'";
        let mut other: Box<dyn SimpleConnection> = match app.pg_schema() {
            Some((admin_url, schema)) => {
                let mut c = diesel::pg::PgConnection::establish(admin_url).expect("connect");
                c.batch_execute(&format!("SET search_path TO {schema}; {bump}")).expect("bump");
                Box::new(c)
            }
            None => {
                let mut c = diesel::sqlite::SqliteConnection::establish(&app.db_path()).expect("open");
                c.batch_execute(&bump.replace("BEGIN", "BEGIN IMMEDIATE")).expect("bump");
                Box::new(c)
            }
        };
        let items = json!({"items": [departure("SN", "MID-1", 9), departure("GM", "MID-2", 4)]});
        let batch = format!("/v1/operations/{OP}/interceptions/batch");
        let push = app.post(&batch, items);
        let release = async {
            match app.pg_schema() {
                // On PostgreSQL, once the push waits for the record's row: it read version 1,
                // decided, and is storing; it must find out that version 1 is gone.
                Some((admin_url, schema)) => {
                    let mut watch = diesel::pg::PgConnection::establish(admin_url).expect("connect");
                    let waiting = format!(
                        "SELECT 1 FROM pg_stat_activity WHERE application_name = '{schema}' \
                         AND wait_event_type = 'Lock' AND query LIKE '%UPDATE interceptions AS i%'"
                    );
                    let mut seen = false;
                    for _ in 0..500 {
                        seen = diesel::RunQueryDsl::execute(diesel::sql_query(&waiting), &mut watch).expect("watch") > 0;
                        if seen {
                            break;
                        }
                        actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                    assert!(seen, "the push never waited for the changed record");
                }
                // On SQLite the push waits for the file lock (one writer at a time).
                None => actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await,
            }
            other.batch_execute("COMMIT").expect("commit");
        };
        let (reply, ()) = futures_util::join!(push, release);
        let reply = reply.expect(200);
        assert_eq!(reply.body["summary"]["updated"], 1, "{}", reply.body);
        assert_eq!(reply.body["summary"]["created"], 1, "{}", reply.body);
        let record = app.get(&url("SN", "MID-1")).await.expect(200).body;
        assert_eq!(record["version"], 3, "the other writer's version 2, then the push's");
        assert_eq!(record["migrants"]["total"], 9);
        let differences = app.db.with_conn(|conn| opcoord::db::tallies::verify(conn, OP)).expect("verify");
        assert!(differences.is_empty(), "{differences:?}");
        if app.pg_schema().is_some() {
            assert!(retried() > before, "the push was done again under the exclusive locks");
        }
    }
);

db_test!(
    async fn a_taken_over_idempotency_claim_cannot_finish_or_release_the_new_one(db) {
        use diesel::prelude::*;
        use opcoord::db::idempotency::{self, Claim, Stored};
        use opcoord::db::schema::idempotency_keys;
        let app = TestApp::start(db).await;
        let claim = |app: &TestApp| app.db.with_conn(|conn| idempotency::claim(conn, "sub", "k", "fp"));
        let Ok(Claim::Run(first)) = claim(&app) else { panic!("a new key runs") };
        // The first run stalls past the hold: a retry takes the key over.
        let past = first - chrono::Duration::seconds(idempotency::STALE_SECS + 5);
        app.db
            .with_conn(|conn| {
                let aged = diesel::update(idempotency_keys::table).set(idempotency_keys::created_at.eq(past));
                Ok(opcoord::on_backend!(conn, c => aged.execute(c))?)
            })
            .expect("age the claim");
        let Ok(Claim::Run(second)) = claim(&app) else { panic!("a stale claim is taken over") };
        let stored = |status: u16| Stored { status, body: "{}".into(), etag: None };
        // The superseded run can neither release nor finish the new claim...
        app.db.with_conn(|conn| idempotency::release(conn, "sub", "k", past)).expect("release");
        app.db.with_conn(|conn| idempotency::finish(conn, "sub", "k", past, &stored(201))).expect("finish");
        assert!(matches!(claim(&app), Err(opcoord::error::Error::InProgress)), "still the second run's");
        // ...while the run that holds it can.
        app.db.with_conn(|conn| idempotency::finish(conn, "sub", "k", second, &stored(200))).expect("finish");
        assert!(matches!(claim(&app), Ok(Claim::Replay(s)) if s.status == 200));
    }
);
