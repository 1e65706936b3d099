//! Sums never wrap (issue 10, item 3): a write that would take a tally cell out of range is
//! refused with a 422 naming the item and member, and `tallies verify` catches a maintained
//! cell that is wrong or out of range.

use serde_json::{json, Value};

use crate::common::TestApp;
use crate::db_test;
use crate::interceptions::departure;

const OP: &str = "liberterra-iii";

/// A checkpoint where `quantity` euros were seized.
fn cash(external_ref: &str, quantity: f64) -> Value {
    let mut item = departure("SN", external_ref, 245);
    item["seizures"] = json!([{"category": "cash", "quantity": quantity, "unit": "EUR"}]);
    item
}

db_test!(
    async fn seizures_that_would_sum_past_the_range_are_refused_by_item(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        // Each seizure is within its own limit (10^12); nine of them fit in a cell (2^53 - 1
        // thousandths), the tenth would not.
        let items: Vec<Value> = (0..12).map(|i| cash(&format!("CASH-{i}"), 1e12)).collect();
        let reply = app.post(&format!("/v1/operations/{OP}/interceptions/batch"), json!({"items": items})).await.expect(200);
        assert_eq!(reply.body["summary"]["created"], 9, "{}", reply.body);
        assert_eq!(reply.body["summary"]["rejected"], 3);
        let refused = &reply.body["results"][9];
        assert_eq!(refused["result"], "rejected");
        assert_eq!(refused["problem"]["status"], 422);
        assert_eq!(refused["problem"]["errors"][0]["pointer"], "/items/9/seizures");
        assert!(refused["problem"]["errors"][0]["message"].as_str().is_some_and(|m| m.contains("cash:EUR")));
        // One item alone past the range: a hundred such seizures in one interception.
        let mut huge = cash("CASH-HUGE", 1e12);
        huge["seizures"] = json!(vec![json!({"category": "cash", "quantity": 1e12, "unit": "EUR"}); 100]);
        let url = format!("/v1/operations/{OP}/interceptions/SN/CASH-HUGE");
        let put = app.send(actix_web::test::TestRequest::put().uri(&url).set_json(&huge)).await.expect_problem(422);
        assert_eq!(put.pointers(), vec!["/seizures"]);
        // An atomic batch with one such item stores nothing.
        let atomic = json!({"items": [cash("CASH-A", 1.0), cash("CASH-B", 1e12)]});
        app.post(&format!("/v1/operations/{OP}/interceptions/batch?atomic=true"), atomic).await.expect_problem(422);
        app.get(&format!("/v1/operations/{OP}/interceptions/SN/CASH-A")).await.expect_problem(404);
        // The totals stayed exact and positive, and the verifier agrees.
        let tallies = app.get(&format!("/v1/operations/{OP}/tallies?metric=seizures")).await.expect(200);
        let quantity = tallies.body["totals"][0]["quantities"]["cash:EUR"].as_f64().expect("quantity");
        assert_eq!(quantity, 9e12);
        let differences = app.db.with_conn(|conn| opcoord::db::tallies::verify(conn, OP)).expect("verify");
        assert!(differences.is_empty(), "{differences:?}");
    }
);

db_test!(
    async fn verify_names_a_cell_that_is_wrong_or_out_of_range(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        app.post(&format!("/v1/operations/{OP}/interceptions/batch"), json!({"items": [cash("C-1", 5.0)]})).await.expect(200);
        app.fold();
        app.execute_sql("UPDATE tally_cells SET value = value + 1 WHERE metric = 'arrests' AND dimension = ''", "tamper");
        app.execute_sql("UPDATE tally_cells SET value = -4 WHERE metric = 'interceptions' AND dimension = ''", "tamper");
        let mut found: Vec<(String, opcoord::db::tallies::CellProblem)> = app
            .db
            .with_conn(|conn| opcoord::db::tallies::verify(conn, OP))
            .expect("verify")
            .into_iter()
            .map(|d| (d.cell.1, d.problem))
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        use opcoord::db::tallies::CellProblem::{Differs, OutOfRange};
        assert_eq!(found, vec![("arrests".to_string(), Differs), ("interceptions".to_string(), OutOfRange)]);
        // The command line fails and says which.
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_opcoord"))
            .args(["tallies", "verify"])
            .env("DATABASE_URL", &app.settings.database_url)
            .output()
            .expect("run opcoord");
        assert!(!output.status.success());
        let said = String::from_utf8_lossy(&output.stdout);
        assert!(said.contains("OUT OF RANGE") && said.contains("interceptions"), "{said}");
    }
);
