//! The tally delta log (issue 12): on PostgreSQL a write appends its cell differences and a fold
//! adds them to the cells later; every read adds what is pending, so a fold changes no answer.
//! On SQLite nothing is ever pending and the same answers come from the cells alone.

use serde_json::{json, Value};

use crate::common::{TestApp, TestDb};
use crate::db_test;
use crate::interceptions::departure;
use opcoord::db::tallies::{self, Range};
use opcoord::db::{tally_log, Backend};
use opcoord::domain::tally::{Cells, TOTAL};

const OP: &str = "liberterra-iii";

fn pending(app: &TestApp) -> i64 {
    app.db.with_conn(tally_log::pending).expect("pending")
}

fn verify(app: &TestApp) -> Vec<opcoord::db::tallies::Difference> {
    app.db
        .with_conn(|conn| opcoord::db::tallies::verify(conn, OP))
        .expect("verify")
}

/// An app with the operation, whose own folder waits a minute and whose answers are not cached:
/// what is read is the cells and the log as they stand.
async fn quiet(db: TestDb) -> TestApp {
    let app = TestApp::start_with(db, |s| {
        s.tally_fold_ms = 60_000;
        s.tally_cache_ms = 0;
    })
    .await;
    app.operation(OP).await;
    app
}

/// Every answer the tallies give for these queries.
async fn answers(app: &TestApp) -> Vec<Value> {
    let mut all = Vec::new();
    for query in [
        "",
        "?group_by=nationality",
        "?group_by=kind",
        "?country=SN&group_by=sex",
        "?metric=seizures",
    ] {
        let mut body = app
            .get(&format!("/v1/operations/{OP}/tallies{query}"))
            .await
            .expect(200)
            .body;
        body.as_object_mut().expect("object").remove("generated_at");
        all.push(body);
    }
    all
}

db_test!(
    async fn pending_differences_are_read_with_the_cells_and_folding_changes_no_answer(db) {
        let app = quiet(db).await;
        let batch = format!("/v1/operations/{OP}/interceptions/batch");
        let first: Vec<Value> = ["SN", "GM", "ML"].iter().flat_map(|c| (0..5).map(move |i| departure(c, &format!("R-{i}"), 10 + i))).collect();
        app.post(&batch, json!({"items": first})).await.expect(200);
        app.fold();
        // Changes on top of folded cells: updates, a new record, a deletion.
        let second = json!({"items": [departure("SN", "R-0", 40), departure("GM", "R-9", 7), departure("ML", "R-1", 5)]});
        app.post(&batch, second).await.expect(200);
        app.send(actix_web::test::TestRequest::delete().uri(&format!("/v1/operations/{OP}/interceptions/GM/R-2"))).await.expect(200);
        let postgres = app.db.backend() == Backend::Postgres;
        assert_eq!(pending(&app) > 0, postgres, "only PostgreSQL leaves differences pending");
        let before = answers(&app).await;
        assert!(verify(&app).is_empty(), "cells and pending differences equal a recount");
        let sn = &before[3]["countries"];
        assert!(sn.as_array().is_some_and(|rows| !rows.is_empty()), "{sn}");
        app.fold();
        assert_eq!(pending(&app), 0);
        assert_eq!(answers(&app).await, before, "a fold moves differences, it changes no answer");
        assert!(verify(&app).is_empty());
        // Fifteen records, one more, one deleted.
        assert_eq!(before[0]["totals"].as_array().expect("totals").iter().find(|t| t["metric"] == "interceptions").expect("interceptions")["value"], 15);
    }
);

db_test!(
    async fn a_write_whose_cells_cannot_be_bounded_reads_them_and_stays_exact(db) {
        let app = quiet(db).await;
        let batch = format!("/v1/operations/{OP}/interceptions/batch");
        // Ten million euros in thousandths is past what a write may add unread (2^32): the
        // write goes round again reading the cells, and lands whole.
        let mut large = departure("SN", "CASH-1", 10);
        large["seizures"] = json!([{"category": "cash", "quantity": 1e7, "unit": "EUR"}]);
        let reply = app.post(&batch, json!({"items": [large, departure("GM", "SMALL-1", 4)]})).await.expect(200);
        assert_eq!(reply.body["summary"]["created"], 2, "{}", reply.body);
        app.fold();
        app.post(&batch, json!({"items": [departure("GM", "SMALL-2", 6)]})).await.expect(200);
        let report = app.get(&format!("/v1/operations/{OP}/tallies?metric=migrants_detected&country=GM")).await.expect(200).body;
        assert_eq!(report["totals"][0]["value"], 10, "{report}");
        let seizures = app.get(&format!("/v1/operations/{OP}/tallies?metric=seizures&country=SN")).await.expect(200).body;
        assert_eq!(seizures["totals"][0]["quantities"]["cash:EUR"].as_f64(), Some(1e7), "{seizures}");
        assert!(verify(&app).is_empty());
    }
);

/// Differences for Senegal: one interception, and `thousandths` of euros seized.
fn senegal(thousandths: i64) -> Cells {
    let mut cells = Cells::new();
    cells.insert(("SN".into(), "interceptions", TOTAL, TOTAL.into()), 1);
    cells.insert(("SN".into(), "seizures", "category", "cash:EUR".into()), thousandths);
    cells
}

db_test!(
    async fn the_bound_counts_every_pending_row_even_when_a_fold_splits_a_write(db) {
        let app = quiet(db).await;
        let postgres = app.db.backend() == Backend::Postgres;
        let add = |cells: Cells, range: Range| app.db.with_conn(|c| tallies::add(c, OP, &cells, range)).expect("add");
        // Within the step: added unread on both backends. Past it: PostgreSQL asks for the cells
        // to be read; SQLite adds exactly and finds the sum in range.
        assert!(add(senegal(1_000), Range::Unread));
        assert_eq!(add(senegal((1 << 32) + 1), Range::Unread), !postgres);
        // A write that read the cells adds 2^52 thousandths: a totals row and a category row in
        // the log, behind the two writes above. A fold with the smallest budget takes the oldest
        // write, whole; the huge one stays pending, whole, and counts in the bound.
        assert!(add(senegal(1 << 52), Range::Checked));
        if postgres {
            assert_eq!(pending(&app), 4);
            app.db.with_conn(|c| tally_log::fold(c, 1)).expect("fold one write");
            assert_eq!(pending(&app), 2, "the fold took one write, all of its rows");
        }
        assert_eq!(add(senegal(1), Range::Unread), !postgres, "a small write near the range reads the cells");
        // Folded: the peak is the largest cell now, 2^52 and more; still bounded.
        app.fold();
        assert_eq!(add(senegal(1), Range::Unread), !postgres);
        // The huge figure corrected: at the next fold the peak falls, and small writes go
        // unread again.
        assert!(add(senegal(-(1 << 52)), Range::Checked));
        app.fold();
        assert!(add(senegal(1), Range::Unread));
        if postgres {
            // However many huge peaks are pending, their sum is capped, not an error (500).
            for _ in 0..3 {
                assert!(add(senegal(1 << 62), Range::Checked));
            }
            assert!(!add(senegal(1), Range::Unread));
        }
    }
);
