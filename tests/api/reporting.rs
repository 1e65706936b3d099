//! The reporting cycle: day states and nil returns, finality (declare final, approve, reopen)
//! and the 409s it brings, deadlines across time zones, a final declared while batches are in
//! flight, scoping, CSV and reminders.

use actix_web::test::TestRequest;
use chrono::{Duration, NaiveDate, Utc};
use serde_json::{json, Value};

use crate::common::{Reply, TestApp};
use crate::db_test;

const OP: &str = "reporting-op";

/// A token with its own `sub`, so separation of duties can be seen.
fn token_for(app: &TestApp, sub: &str, scope: &str, countries: &[&str]) -> String {
    let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let scopes = opcoord::auth::claims::Scope::set_of(scope);
    let countries = opcoord::auth::claims::Access::from_claim(&own(countries));
    let ops = opcoord::auth::claims::Access::from_claim(&own(&["*"]));
    let claims = app.auth.claims(sub, &scopes, &countries, &ops, 3600);
    app.auth.sign(&claims).expect("sign")
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// An operation from `starts_on` to `ends_on` with DE, FR and SN taking part.
async fn operation(app: &TestApp, starts_on: NaiveDate, ends_on: NaiveDate, zone: &str) {
    app.post(
        "/v1/operations",
        json!({"id": OP, "name": "Reporting", "status": "active", "starts_on": starts_on, "ends_on": ends_on,
               "time_zone": zone, "report_deadline": "09:00"}),
    )
    .await
    .expect(201);
    for country in ["DE", "FR", "SN"] {
        let unit =
            json!({"country": country, "name": "NCB", "kind": "national_central_bureau", "officers_deployed": 10});
        app.post(&format!("/v1/operations/{OP}/units"), unit).await.expect(201);
    }
}

fn record(country: &str, external_ref: &str, occurred_at: &str) -> Value {
    json!({"country": country, "external_ref": external_ref, "kind": "land_border", "occurred_at": occurred_at,
           "migrants": {"total": 4}, "arrests": 0, "investigations_opened": 0, "seizures": []})
}

async fn push_as(app: &TestApp, token: &str, items: Vec<Value>) -> Reply {
    app.post_as(
        token,
        &format!("/v1/operations/{OP}/interceptions/batch"),
        json!({"items": items}),
    )
    .await
}

async fn nil(app: &TestApp, token: &str, country: &str, day: NaiveDate, delete: bool) -> Reply {
    let uri = format!("/v1/operations/{OP}/reporting/{country}/nil-returns/{day}");
    let request = if delete {
        TestRequest::delete().uri(&uri)
    } else {
        TestRequest::put().uri(&uri)
    };
    app.send_as(Some(token), request).await
}

async fn board(app: &TestApp, token: &str, query: &str) -> Value {
    app.get_as(token, &format!("/v1/operations/{OP}/reporting{query}"))
        .await
        .expect(200)
        .body
}

fn row<'a>(board: &'a Value, country: &str, day: NaiveDate) -> &'a Value {
    board["days"]
        .as_array()
        .expect("days")
        .iter()
        .find(|r| r["country"] == country && r["day"] == day.to_string())
        .unwrap_or_else(|| panic!("no row {country} {day} in {board}"))
}

async fn act(app: &TestApp, token: &str, country: &str, step: &str, body: Option<Value>) -> Reply {
    let uri = format!("/v1/operations/{OP}/reporting/{country}/{step}");
    let request = match body {
        Some(body) => TestRequest::post().uri(&uri).set_json(body),
        None => TestRequest::post().uri(&uri),
    };
    app.send_as(Some(token), request).await
}

fn is_country_final(reply: Reply) {
    let reply = reply.expect_problem(409);
    assert_eq!(
        reply.body["type"], "urn:opcoord:problem:country-final",
        "{}",
        reply.body
    );
}

db_test!(
    async fn nil_returns_and_the_state_of_each_day(db) {
        let app = TestApp::start(db).await;
        let t = today();
        let (first, last) = (t - Duration::days(6), t + Duration::days(3));
        operation(&app, first, last, "UTC").await;
        let desk = token_for(&app, "desk", "reporting:write interceptions:write", &["*"]);
        let at = |day: NaiveDate| format!("{day}T12:00:00Z");

        // DE sends a record for the first day (late: it is days past its deadline).
        push_as(&app, &desk, vec![record("DE", "DE-1", &at(first))]).await.expect(200);
        // FR says "nothing to report" for the first day, then sends a record for it after all.
        let filed = nil(&app, &desk, "FR", first, false).await.expect(201);
        assert_eq!((filed.body["result"].as_str(), filed.body["filed"].as_bool()), (Some("created"), Some(true)));
        assert_eq!(filed.header("etag").as_deref(), Some("\"1\""));
        let b = board(&app, &app.admin, &format!("?day={first}")).await;
        assert_eq!(row(&b, "FR", first)["state"], "received_nil");
        push_as(&app, &desk, vec![record("FR", "FR-1", &at(first))]).await.expect(200);
        // SN files a nil return ahead of a day not yet due: on time.
        let future = t + Duration::days(2);
        nil(&app, &desk, "SN", future, false).await.expect(201);
        let again = nil(&app, &desk, "SN", future, false).await.expect(200);
        assert_eq!(again.body["result"], "unchanged");

        let b = board(&app, &app.admin, "").await;
        assert_eq!(b["time_zone"], "UTC");
        assert_eq!(b["report_deadline"], "09:00");
        let de = row(&b, "DE", first);
        assert_eq!((de["state"].as_str(), de["records"].as_i64(), de["on_time"].as_bool()), (Some("received"), Some(1), Some(false)));
        assert_eq!(de["deadline"], format!("{}T09:00:00Z", first + Duration::days(1)));
        let fr = row(&b, "FR", first);
        assert_eq!((fr["state"].as_str(), fr["nil_return"].as_bool(), fr["nil_return_superseded"].as_bool()), (Some("received"), Some(true), Some(true)));
        assert_eq!(row(&b, "SN", first)["state"], "late");
        assert_eq!(row(&b, "DE", first + Duration::days(1))["state"], "late");
        let sn = row(&b, "SN", future);
        assert_eq!((sn["state"].as_str(), sn["on_time"].as_bool()), (Some("received_nil"), Some(true)));
        // Listed: every day up to the first one not yet due (today, or yesterday before its
        // deadline), and later days only where something came for them.
        let due = b["summary"]["latest_due_day"].as_str().and_then(|d| d.parse::<NaiveDate>().ok()).expect("due");
        assert_eq!(row(&b, "DE", due + Duration::days(1))["state"], "not_due");
        let listed = |c: &str| b["days"].as_array().expect("days").iter().filter(|r| r["country"] == c).count() as i64;
        let until = (due + Duration::days(1) - first).num_days() + 1;
        assert_eq!((listed("DE"), listed("SN")), (until, until + 1));

        // The first day alone: 3 expected, 2 received, 1 late; none on time.
        let day = board(&app, &app.admin, &format!("?day={first}")).await;
        let s = &day["summary"];
        assert_eq!((s["expected"].as_i64(), s["received"].as_i64(), s["received_nil"].as_i64(), s["late"].as_i64()), (Some(3), Some(2), Some(0), Some(1)));
        assert_eq!((s["completeness_pct"].as_f64(), s["timeliness_pct"].as_f64()), (Some(66.7), Some(0.0)));
        assert_eq!(s["countries_not_final"], json!(["DE", "FR", "SN"]));
        // A country late for the latest due day is named.
        assert!(b["summary"]["countries_late_today"].as_array().expect("late").contains(&json!("SN")));
        assert_eq!(b["late"], b["summary"]["countries_late_today"]);

        // Filters: state and country; a bad state or day is 400.
        let late = board(&app, &app.admin, "?state=late&country=sn").await;
        let rows = late["days"].as_array().expect("days");
        assert!(!rows.is_empty() && rows.iter().all(|r| r["state"] == "late" && r["country"] == "SN"), "{late}");
        app.get(&format!("/v1/operations/{OP}/reporting?state=tardy")).await.expect_problem(400);
        app.get(&format!("/v1/operations/{OP}/reporting?day=yesterday")).await.expect_problem(400);
        app.get(&format!("/v1/operations/{OP}/reporting?colour=red")).await.expect_problem(400);

        // A nil return for a day with records is refused; outside the operation's days: 404.
        nil(&app, &desk, "DE", first, false).await.expect_problem(409);
        nil(&app, &desk, "DE", last + Duration::days(1), false).await.expect_problem(404);
        nil(&app, &desk, "DE", first, true).await.expect_problem(404);

        // Retracting: once updated, again unchanged; the day is not due again.
        let gone = nil(&app, &desk, "SN", future, true).await.expect(200);
        assert_eq!((gone.body["result"].as_str(), gone.body["filed"].as_bool(), gone.body["version"].as_i64()), (Some("updated"), Some(false), Some(2)));
        assert_eq!(nil(&app, &desk, "SN", future, true).await.expect(200).body["result"], "unchanged");
        assert_eq!(row(&board(&app, &app.admin, "").await, "SN", future)["state"], "not_due");

        // The feed shows nil returns, a retracted one as a delete.
        let feed = app.get(&format!("/v1/operations/{OP}/changes")).await.expect(200).body;
        let nils: Vec<(String, String, i64)> = feed["changes"].as_array().expect("changes").iter()
            .filter(|c| c["entity"] == "nil_return")
            .map(|c| (c["key"].as_str().unwrap_or("").to_string(), c["action"].as_str().unwrap_or("").to_string(), c["version"].as_i64().unwrap_or(0)))
            .collect();
        assert_eq!(nils, vec![(format!("FR/{first}"), "upsert".into(), 1), (format!("SN/{future}"), "delete".into(), 2)]);

        // CSV: a header and one line per row.
        let csv = app
            .send(TestRequest::get().uri(&format!("/v1/operations/{OP}/reporting?country=DE&day={first}")).insert_header(("accept", "text/csv")))
            .await
            .expect(200);
        assert!(csv.header("content-type").is_some_and(|t| t.starts_with("text/csv")));
        let text = csv.body.as_str().expect("text").to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "country,day,state,records,stated_figures,nil_return,first_report_at,last_report_at,deadline,on_time,status");
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[1].starts_with(&format!("DE,{first},received,1,0,false,")) && lines[1].ends_with(",false,provisional"), "{text}");

        // A country token sees its own rows only, and may not ask for another country.
        let de_reader = app.token("tallies:read", &["DE"], &[OP]);
        let own = board(&app, &de_reader, "").await;
        assert!(own["days"].as_array().expect("days").iter().all(|r| r["country"] == "DE"));
        assert_eq!(own["countries"].as_array().map(Vec::len), Some(1));
        assert_eq!(own["summary"]["expected"].as_i64(), b["summary"]["expected"].as_i64().map(|n| n / 3));
        app.get_as(&de_reader, &format!("/v1/operations/{OP}/reporting?country=FR")).await.expect_problem(403);
        // Writing needs reporting:write for the country.
        let de_desk = app.token("reporting:write", &["DE"], &[OP]);
        nil(&app, &de_desk, "FR", future, false).await.expect_problem(403);
        let no_scope = app.token("interceptions:write tallies:write", &["*"], &[OP]);
        nil(&app, &no_scope, "FR", future, false).await.expect_problem(403);
        // A day is written exactly YYYY-MM-DD, in a path (404: no such day) and in the board's
        // query (400), whatever chrono's parser would let through.
        let written = future.to_string();
        for odd in [format!("%20{written}"), format!("-{written}"), format!("%2B{written}"), format!("{written}%20")] {
            let uri = format!("/v1/operations/{OP}/reporting/FR/nil-returns/{odd}");
            app.send(TestRequest::put().uri(&uri)).await.expect_problem(404);
            let refused = app.get(&format!("/v1/operations/{OP}/reporting?day={odd}")).await.expect_problem(400);
            assert_eq!(refused.body["errors"][0]["parameter"], "day", "{odd}");
        }
    }
);

db_test!(
    async fn finality_moves_and_refuses_writes_with_a_problem_of_its_own(db) {
        let app = TestApp::start(db).await;
        let t = today();
        operation(&app, t - Duration::days(5), t + Duration::days(1), "Europe/Paris").await;
        let day = t - Duration::days(3);
        let occurred = format!("{day}T12:00:00Z");
        let de = token_for(&app, "desk-de", "reporting:write interceptions:write tallies:write tallies:read", &["DE"]);
        let secretariat = token_for(&app, "secretariat", "reporting:approve tallies:read audit:read", &["*"]);
        push_as(&app, &de, vec![record("DE", "DE-1", &occurred)]).await.expect(200);
        push_as(&app, &app.admin, vec![record("FR", "FR-1", &occurred)]).await.expect(200);

        // Provisional → final; declaring again changes nothing.
        let fin = act(&app, &de, "DE", "final", None).await.expect(200);
        assert_eq!((fin.body["status"].as_str(), fin.body["version"].as_i64(), fin.body["result"].as_str()), (Some("final"), Some(1), Some("updated")));
        assert_eq!(act(&app, &de, "DE", "final", None).await.expect(200).body["result"], "unchanged");

        // Every write of DE is now refused with 409 country-final, the other countries' are not.
        is_country_final(push_as(&app, &de, vec![record("DE", "DE-2", &occurred)]).await);
        let put = TestRequest::put().uri(&format!("/v1/operations/{OP}/interceptions/DE/DE-1")).set_json(record("DE", "DE-1", &format!("{day}T13:00:00Z")));
        is_country_final(app.send_as(Some(&de), put).await);
        is_country_final(app.send_as(Some(&de), TestRequest::delete().uri(&format!("/v1/operations/{OP}/interceptions/DE/DE-1"))).await);
        let figure = TestRequest::put().uri(&format!("/v1/operations/{OP}/tallies/DE/victims_safeguarded")).set_json(json!({"value": 3, "as_of": day}));
        is_country_final(app.send_as(Some(&de), figure).await);
        is_country_final(nil(&app, &de, "DE", t - Duration::days(4), false).await);
        // A spreadsheet import goes through the same push: refused alike, nothing stored.
        let file = format!("external_ref,kind,occurred_at,migrants_total\nDE-9,land_border,{day} 12:00,4\n");
        let import = TestRequest::post()
            .uri(&format!("/v1/operations/{OP}/imports?country=DE"))
            .insert_header(("content-type", "text/csv"))
            .set_payload(file);
        is_country_final(app.send_as(Some(&de), import).await);
        app.get_as(&app.admin, &format!("/v1/operations/{OP}/interceptions/DE/DE-9")).await.expect_problem(404);
        // Units hold a figure of the country (officers deployed): frozen too.
        let unit = json!({"country": "DE", "name": "Border police", "kind": "field_unit", "officers_deployed": 7});
        is_country_final(app.post_as(&app.admin, &format!("/v1/operations/{OP}/units"), unit).await);
        let units = app.get(&format!("/v1/operations/{OP}/units?country=DE")).await.expect(200).body;
        let de_unit = units["items"][0]["id"].as_i64().expect("DE's unit");
        let patch = TestRequest::patch().uri(&format!("/v1/operations/{OP}/units/{de_unit}")).set_json(json!({"officers_deployed": 7777}));
        is_country_final(app.send_as(Some(&app.admin), patch).await);
        // A mixed batch is refused whole (even with the secretariat's token).
        is_country_final(push_as(&app, &app.admin, vec![record("FR", "FR-2", &occurred), record("DE", "DE-3", &occurred)]).await);
        push_as(&app, &app.admin, vec![record("FR", "FR-2", &occurred)]).await.expect(200);

        // Separation of duties: the country cannot approve, with or without the scope.
        act(&app, &de, "DE", "approve", None).await.expect_problem(403);
        let de_approver = token_for(&app, "desk-de-2", "reporting:approve", &["DE"]);
        act(&app, &de_approver, "DE", "approve", None).await.expect_problem(403);
        // Nor may the principal that declared final approve, even given every country.
        let same_sub = token_for(&app, "desk-de", "reporting:approve", &["*"]);
        act(&app, &same_sub, "DE", "approve", None).await.expect_problem(403);
        // ... nor through a token it issued for the purpose (its sub is `desk-de/approver`).
        let child = token_for(&app, "desk-de/approver", "reporting:approve", &["*"]);
        act(&app, &child, "DE", "approve", None).await.expect_problem(403);
        // Only final figures can be approved; a country cannot reopen its own.
        act(&app, &secretariat, "FR", "approve", None).await.expect_problem(409);
        act(&app, &de, "DE", "reopen", Some(json!({"reason": "mine"}))).await.expect_problem(403);

        // Final → approved (again: unchanged); approved figures cannot be declared final again.
        let approved = act(&app, &secretariat, "DE", "approve", None).await.expect(200);
        assert_eq!((approved.body["status"].as_str(), approved.body["version"].as_i64()), (Some("approved"), Some(2)));
        assert_eq!(act(&app, &secretariat, "DE", "approve", None).await.expect(200).body["result"], "unchanged");
        act(&app, &de, "DE", "final", None).await.expect_problem(409);
        is_country_final(push_as(&app, &de, vec![record("DE", "DE-2", &occurred)]).await);

        // Tallies show each country's status and how much of the totals is final or approved.
        let tallies = app.get_as(&secretariat, &format!("/v1/operations/{OP}/tallies?metric=migrants_detected")).await.expect(200).body;
        let status_of = |c: &str| tallies["countries"].as_array().expect("rows").iter().find(|r| r["country"] == c).map(|r| r["status"].clone());
        assert_eq!((status_of("DE"), status_of("FR")), (Some(json!("approved")), Some(json!("provisional"))));
        let total = &tallies["totals"][0];
        assert_eq!((total["value"].as_i64(), total["final_value"].as_i64(), total["approved_value"].as_i64()), (Some(12), Some(4), Some(4)));

        // Reopening needs a reason; then DE may write again and declare final again.
        act(&app, &secretariat, "DE", "reopen", Some(json!({}))).await.expect_problem(422);
        act(&app, &secretariat, "DE", "reopen", Some(json!({"reason": "   "}))).await.expect_problem(422);
        // Control characters are not a reason, and the NUL character is refused on both databases
        // alike (PostgreSQL cannot store it: this was a 500 there).
        for reason in ["\u{7}\u{1b}", "duplicate record \u{0}"] {
            let refused = act(&app, &secretariat, "DE", "reopen", Some(json!({"reason": reason}))).await.expect_problem(422);
            assert_eq!(refused.pointers(), vec!["/reason"], "{reason:?}");
        }
        act(&app, &secretariat, "FR", "reopen", Some(json!({"reason": "x"}))).await.expect_problem(409);
        let reason = "DE-1 was entered twice; DE will send the corrected figure";
        let reopened = act(&app, &secretariat, "DE", "reopen", Some(json!({"reason": reason}))).await.expect(200);
        assert_eq!((reopened.body["status"].as_str(), reopened.body["reason"].as_str()), (Some("reopened"), Some(reason)));
        push_as(&app, &de, vec![record("DE", "DE-2", &occurred)]).await.expect(200);
        let b = board(&app, &secretariat, "").await;
        let country = b["countries"].as_array().expect("countries").iter().find(|c| c["country"] == "DE").expect("DE").clone();
        assert_eq!((country["status"].as_str(), country["reopen_reason"].as_str()), (Some("reopened"), Some(reason)));
        assert!(b["summary"]["countries_not_final"].as_array().expect("not final").contains(&json!("DE")));
        assert_eq!(act(&app, &de, "DE", "final", None).await.expect(200).body["version"], 4);
        let b = board(&app, &secretariat, "").await;
        assert_eq!(b["summary"]["countries_final"], json!(["DE"]));
        assert_eq!(b["summary"]["countries_not_final"], json!(["FR", "SN"]));

        // Every transition is audited and in the feed (once, at its latest version).
        let audit = app.get_as(&secretariat, &format!("/v1/operations/{OP}/audit")).await.expect(200).body;
        let steps: Vec<String> = audit["entries"].as_array().expect("entries").iter()
            .filter(|e| e["entity"] == "reporting_status")
            .map(|e| format!("{}:{}", e["action"].as_str().unwrap_or(""), e["version"]))
            .collect();
        assert_eq!(steps, vec!["declare_final:1", "approve:2", "reopen:3", "declare_final:4"]);
        let feed = app.get(&format!("/v1/operations/{OP}/changes")).await.expect(200).body;
        let statuses: Vec<&Value> = feed["changes"].as_array().expect("changes").iter().filter(|c| c["entity"] == "reporting_status").collect();
        assert_eq!(statuses.len(), 1);
        assert_eq!((statuses[0]["key"].as_str(), statuses[0]["version"].as_i64(), statuses[0]["data"]["status"].as_str()), (Some("DE"), Some(4), Some("final")));
        // The chain still verifies.
        let verified = app.db.with_conn(opcoord::db::audit::verify).expect("verify");
        assert!(verified.is_ok(), "{verified:?}");
    }
);

db_test!(
    async fn days_and_deadlines_follow_the_operation_time_zone(db) {
        let app = TestApp::start(db).await;
        // Auckland: summer time starts on 28 September 2025 (UTC+12 → UTC+13).
        let (first, last) = (NaiveDate::from_ymd_opt(2025, 9, 1).expect("date"), NaiveDate::from_ymd_opt(2025, 9, 30).expect("date"));
        operation(&app, first, last, "Pacific/Auckland").await;
        let b = board(&app, &app.admin, "?country=DE").await;
        assert_eq!(row(&b, "DE", first)["deadline"], "2025-09-01T21:00:00Z");
        assert_eq!(row(&b, "DE", NaiveDate::from_ymd_opt(2025, 9, 28).expect("date"))["deadline"], "2025-09-28T20:00:00Z");

        // Paris, and a country reporting at 23:30 its local time (UTC−5) on the last day: in Paris it
        // is already the next day, after the operation; the record counts for the last day.
        app.patch(&format!("/v1/operations/{OP}"), None, json!({"time_zone": "Europe/Paris"})).await.expect(200);
        push_as(&app, &app.admin, vec![
            record("DE", "DE-LAST", "2025-09-30T23:30:00-05:00"),
            record("FR", "FR-FIRST", "2025-09-01T00:30:00+02:00"),
            record("SN", "SN-EVE", "2025-09-01T23:30:00Z"),
        ]).await.expect(200);
        let b = board(&app, &app.admin, "").await;
        assert_eq!(row(&b, "DE", last)["records"], 1);
        assert_eq!(row(&b, "DE", last)["deadline"], "2025-10-01T07:00:00Z");
        assert_eq!(row(&b, "FR", first)["state"], "received");
        // 23:30 UTC on 1 September is 01:30 on the 2nd in Paris.
        assert_eq!(row(&b, "SN", first)["state"], "late");
        assert_eq!(row(&b, "SN", NaiveDate::from_ymd_opt(2025, 9, 2).expect("date"))["records"], 1);

        // Moving the record to another day moves its count; retracting it takes it away.
        let put = TestRequest::put().uri(&format!("/v1/operations/{OP}/interceptions/SN/SN-EVE")).set_json(record("SN", "SN-EVE", "2025-09-01T20:00:00Z"));
        app.send(put).await.expect(200);
        let b = board(&app, &app.admin, "?country=SN").await;
        assert_eq!((row(&b, "SN", first)["records"].as_i64(), row(&b, "SN", first + Duration::days(1))["records"].as_i64()), (Some(1), Some(0)));
        app.send(TestRequest::delete().uri(&format!("/v1/operations/{OP}/interceptions/SN/SN-EVE"))).await.expect(200);
        assert_eq!(row(&board(&app, &app.admin, "?country=SN").await, "SN", first)["state"], "late");
        // A stated figure counts for its as_of day, and moves with it.
        let figure = |as_of: &str| TestRequest::put().uri(&format!("/v1/operations/{OP}/tallies/SN/victims_safeguarded")).set_json(json!({"value": 3, "as_of": as_of}));
        app.send(figure("2025-09-05")).await.expect(201);
        app.send(figure("2025-09-06")).await.expect(200);
        let b = board(&app, &app.admin, "?country=SN").await;
        let five = NaiveDate::from_ymd_opt(2025, 9, 5).expect("date");
        assert_eq!((row(&b, "SN", five)["state"].as_str(), row(&b, "SN", five + Duration::days(1))["stated_figures"].as_i64()), (Some("late"), Some(1)));
        assert_eq!(b["summary"]["completeness_pct"], 3.3);

        // Once something is reported the time zone is fixed (the days would move); the deadline is not.
        app.patch(&format!("/v1/operations/{OP}"), None, json!({"time_zone": "UTC"})).await.expect_problem(409);
        let moved = app.patch(&format!("/v1/operations/{OP}"), None, json!({"report_deadline": "12:30"})).await.expect(200);
        assert_eq!(moved.body["report_deadline"], "12:30");
        let bad = app.patch(&format!("/v1/operations/{OP}"), None, json!({"time_zone": "Europe/Lyon", "report_deadline": "9h"})).await.expect_problem(422);
        let mut pointers = bad.pointers();
        pointers.sort();
        assert_eq!(pointers, vec!["/report_deadline", "/time_zone"]);
        // The maintained days equal their recomputation from the records and figures.
        let differences = app.db.with_conn(|conn| opcoord::db::reporting::verify_days(conn, OP)).expect("verify");
        assert!(differences.is_empty(), "{differences:?}");
    }
);

db_test!(
    async fn a_final_declared_while_batches_are_in_flight_is_wholly_after_each(db) {
        let app = TestApp::start(db).await;
        let t = today();
        operation(&app, t - Duration::days(5), t, "UTC").await;
        let occurred = format!("{}T12:00:00Z", t - Duration::days(2));
        let de = token_for(&app, "desk-de", "reporting:write interceptions:write", &["DE"]);
        let batches: u64 = 12;
        let per_batch = 40;
        // Batches set off 10 ms apart; the declaration in the middle of them.
        let pushes = (0..batches).map(|b| {
            let items: Vec<Value> = (0..per_batch).map(|i| record("DE", &format!("B{b}-{i}"), &occurred)).collect();
            let (app, de) = (&app, &de);
            async move {
                actix_web::rt::time::sleep(std::time::Duration::from_millis(10 * b)).await;
                push_as(app, de, items).await
            }
        });
        let declare = async {
            actix_web::rt::time::sleep(std::time::Duration::from_millis(55)).await;
            act(&app, &de, "DE", "final", None).await
        };
        let (replies, declared) = futures_util::future::join(futures_util::future::join_all(pushes), declare).await;
        declared.expect(200);
        let mut stored = 0;
        for reply in replies {
            match reply.status.as_u16() {
                200 => {
                    assert_eq!(reply.body["summary"]["created"], per_batch, "a batch is stored whole: {}", reply.body);
                    stored += per_batch as i64;
                }
                409 => assert_eq!(reply.body["type"], "urn:opcoord:problem:country-final"),
                other => panic!("unexpected {other}: {}", reply.body),
            }
        }
        eprintln!("{} of {batches} batches stored before the declaration", stored / per_batch as i64);
        // Every stored record committed before the declaration, and nothing else was stored.
        let feed = app.get(&format!("/v1/operations/{OP}/changes?limit=1000")).await.expect(200).body;
        let changes = feed["changes"].as_array().expect("changes");
        let final_seq = changes.iter().find(|c| c["entity"] == "reporting_status").and_then(|c| c["seq"].as_i64()).expect("final");
        let records: Vec<i64> = changes.iter().filter(|c| c["entity"] == "interception").filter_map(|c| c["seq"].as_i64()).collect();
        assert_eq!(records.len() as i64, stored);
        assert!(records.iter().all(|seq| *seq < final_seq));
        let b = board(&app, &app.admin, &format!("?country=DE&day={}", t - Duration::days(2))).await;
        assert_eq!(b["days"][0]["records"].as_i64(), Some(stored));
    }
);

db_test!(
    async fn reminders_name_the_late_countries_and_their_units(db) {
        let app = TestApp::start(db).await;
        let t = today();
        operation(&app, t - Duration::days(4), t - Duration::days(2), "UTC").await;
        let desk = token_for(&app, "desk", "reporting:write interceptions:write", &["*"]);
        for (i, day) in (0..3).map(|i| (i, t - Duration::days(4 - i))) {
            push_as(&app, &desk, vec![record("DE", &format!("DE-{i}"), &format!("{day}T12:00:00Z"))]).await.expect(200);
            nil(&app, &desk, "FR", day, false).await.expect(201);
        }
        // A name cannot carry a line of its own into a reminder meant for mail.
        for name in ["SN desk\n-----\nTo: Secretariat", "x\r\nBcc: spy@example.org", "a\u{2028}b"] {
            let unit = json!({"country": "SN", "name": name, "kind": "field_unit", "officers_deployed": 1});
            let refused = app.post(&format!("/v1/operations/{OP}/units"), unit).await.expect_problem(422);
            assert_eq!(refused.pointers(), vec!["/name"], "{name:?}");
            let renamed = app.patch(&format!("/v1/operations/{OP}"), Some("*"), json!({"name": name})).await;
            assert_eq!(renamed.expect_problem(422).pointers(), vec!["/name"], "{name:?}");
        }
        let book = app.get(&format!("/v1/operations/{OP}/reporting/reminders")).await.expect(200).body;
        let reminders = book["reminders"].as_array().expect("reminders");
        assert_eq!(reminders.len(), 1, "{book}");
        assert_eq!(reminders[0]["country"], "SN");
        assert_eq!(reminders[0]["days_late"].as_array().map(Vec::len), Some(3));
        assert_eq!(reminders[0]["addressees"][0]["name"], "NCB");
        let text = app
            .send(TestRequest::get().uri(&format!("/v1/operations/{OP}/reporting/reminders")).insert_header(("accept", "text/plain")))
            .await
            .expect(200);
        let text = text.body.as_str().expect("text").to_string();
        assert!(text.starts_with("To: NCB (SN)") && text.contains("nil return"), "{text}");
        // The secretariat's read: a country token, or one without the scope, is refused.
        let reader = app.token("tallies:read reporting:approve", &["SN"], &[OP]);
        app.get_as(&reader, &format!("/v1/operations/{OP}/reporting/reminders")).await.expect_problem(403);
        let reader = app.token("tallies:read reporting:write", &["*"], &[OP]);
        app.get_as(&reader, &format!("/v1/operations/{OP}/reporting/reminders")).await.expect_problem(403);
    }
);

db_test!(
    async fn the_migration_counts_the_days_of_what_was_reported_before(db) {
        let app = TestApp::start(db).await;
        let t = today();
        operation(&app, t - Duration::days(5), t, "UTC").await;
        let day = |n: i64| t - Duration::days(n);
        push_as(&app, &app.admin, vec![
            record("DE", "DE-1", &format!("{}T01:00:00Z", day(5))),
            record("DE", "DE-2", &format!("{}T23:00:00Z", day(5))),
            record("FR", "FR-1", &format!("{}T12:00:00Z", day(3))),
            record("FR", "FR-2", &format!("{}T12:00:00Z", day(2))),
        ]).await.expect(200);
        app.send(TestRequest::delete().uri(&format!("/v1/operations/{OP}/interceptions/FR/FR-2"))).await.expect(200);
        let figure = TestRequest::put().uri(&format!("/v1/operations/{OP}/tallies/SN/victims_safeguarded")).set_json(json!({"value": 2, "as_of": day(4)}));
        app.send(figure).await.expect(201);
        let before = board(&app, &app.admin, "").await;

        // The reporting tables as the migration finds them: gone, then made from the records.
        app.db.with_conn(opcoord::db::migrate::revert_last).expect("revert");
        assert_eq!(app.db.with_conn(opcoord::db::migrate::run_pending).expect("migrate"), 1);
        let differences = app.db.with_conn(|conn| opcoord::db::reporting::verify_days(conn, OP)).expect("verify");
        assert!(differences.is_empty(), "{differences:?}");
        let after = board(&app, &app.admin, "").await;
        let states = |b: &Value| -> Vec<(String, String, i64, i64)> {
            b["days"].as_array().expect("days").iter()
                .map(|r| (r["country"].to_string(), r["state"].to_string(), r["records"].as_i64().unwrap_or(-1), r["stated_figures"].as_i64().unwrap_or(-1)))
                .collect()
        };
        assert_eq!(states(&after), states(&before));
        assert_eq!(row(&after, "DE", day(5))["records"], 2);
        assert_eq!(row(&after, "SN", day(4))["state"], "received");
    }
);

#[test]
fn the_remind_command_prints_the_reminders_of_the_demo() {
    let dir = tempfile::tempdir().expect("dir");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_opcoord"))
            .args(args)
            .current_dir(dir.path())
            .env("DATABASE_URL", dir.path().join("demo.db"))
            .env("OPCOORD_DATA_DIR", dir.path().join("data"))
            .output()
            .expect("run opcoord")
    };
    assert!(run(&["demo"]).status.success());
    let text = run(&["reporting", "remind", opcoord::demo::OPERATION]);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.starts_with("To: DEMO NCB AO (AO)\nSubject: [DEMO] Operation Liberterra III: report due for 3 day(s)"),
        "{text}"
    );
    assert_eq!(text.matches("To: ").count(), 7, "{text}");
    let json = run(&["reporting", "remind", opcoord::demo::OPERATION, "--json"]);
    let book: Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(book["reminders"][0]["addressees"][0]["kind"], "national_central_bureau");
    assert!(!run(&["reporting", "remind", "no-such-operation"]).status.success());
}
