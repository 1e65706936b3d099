//! A third-party tool's view in Rust: drive opcoord through the client progenitor generates
//! from the committed `openapi/openapi.json` while this crate compiles, with no hand-written
//! HTTP. The same scenario as `tests/system/client_scenario.py`, on an operation of its own.
//!
//! Usage: `opcoord-client-scenario BASE_URL SECRETARIAT_TOKEN`. Exits non-zero at the first
//! unexpected answer.

use std::process::ExitCode;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};

progenitor::generate_api!("../../../openapi/openapi.json");

use types::{
    BatchRequest, InterceptionInput, InterceptionKind, Metric, MigrantCount, NewOperation, NewToken, NewUnit,
    OperationStatus, Seizure, SeizureCategory, Source, UnitKind,
};

const OP: &str = "client-scenario-rust";

/// Counts the checks that held; the first that does not ends the scenario.
struct Checks(u32);

impl Checks {
    fn expect(&mut self, what: &str, holds: bool, detail: impl std::fmt::Debug) -> Result<(), String> {
        if !holds {
            return Err(format!("{what} {detail:?}"));
        }
        self.0 += 1;
        Ok(())
    }
}

/// A client of the generated API that sends this bearer token.
fn client(base_url: &str, token: &str) -> Result<Client, String> {
    let mut headers = HeaderMap::new();
    let value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| e.to_string())?;
    headers.insert(AUTHORIZATION, value);
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(Client::new_with_client(base_url, http))
}

/// An interception of Senegal's with this reference and these migrants.
fn interception(
    external_ref: &str,
    migrants: MigrantCount,
    seizures: Vec<Seizure>,
) -> Result<InterceptionInput, String> {
    Ok(InterceptionInput {
        country: Some("SN".into()),
        external_ref: Some(external_ref.into()),
        kind: InterceptionKind::SeaDeparture,
        occurred_at: "2025-09-12T05:40:00Z".parse().map_err(|e| format!("{e}"))?,
        migrants: Some(migrants),
        seizures,
        arrests: None,
        investigations_opened: None,
        location: None,
        notes: None,
        victims: None,
    })
}

async fn scenario(base_url: &str, token: &str, checks: &mut Checks) -> Result<(), String> {
    let secretariat = client(base_url, token)?;
    let date = |text: &str| text.parse().map_err(|e| format!("{e}"));
    let new_operation = NewOperation {
        id: OP.into(),
        name: "Client scenario (Rust)".into(),
        status: Some(OperationStatus::Active),
        starts_on: date("2025-09-08")?,
        ends_on: date("2025-09-14")?,
        coordinator: None,
        description: None,
        public: None,
        suppression_threshold: None,
        time_zone: None,
        report_deadline: None,
    };
    let created = secretariat.create_operation(&new_operation).await;
    checks.expect("create operation", created.is_ok(), &created)?;

    let new_unit = NewUnit {
        country: "SN".into(),
        name: "DGPN".into(),
        kind: UnitKind::NationalCentralBureau,
        officers_deployed: Some(300),
        active: None,
    };
    let unit = secretariat
        .create_unit(OP, &new_unit)
        .await
        .map_err(|e| format!("create unit: {e}"))?;
    checks.expect("create unit", unit.country == "SN", &unit)?;

    let operation = secretariat
        .get_operation(OP)
        .await
        .map_err(|e| format!("read operation: {e}"))?;
    checks.expect(
        "participation",
        operation.participating_countries == ["SN"] && operation.officers_deployed == 300,
        &operation,
    )?;

    let new_token = NewToken {
        sub: "sn-dgpn-sync".into(),
        scope: "interceptions:write interceptions:read tallies:read".into(),
        countries: vec!["SN".into()],
        ops: vec![OP.into()],
        ttl_seconds: 600,
    };
    let issued = secretariat
        .issue_token(&new_token)
        .await
        .map_err(|e| format!("issue token: {e}"))?;
    checks.expect("issue a national token", issued.countries == ["SN"], &issued.countries)?;
    let national = client(base_url, &issued.token)?;

    let items = (0..3)
        .map(|i| {
            let migrants = MigrantCount {
                total: 100 + i,
                children: Some(5),
                by_nationality: [("SN".to_string(), 80), ("GM".to_string(), 20)].into(),
                female: None,
                male: None,
            };
            let cash = Seizure {
                category: SeizureCategory::Cash,
                quantity: 6000.0,
                unit: Some("EUR".into()),
            };
            interception(&format!("CLIENT-{i}"), migrants, vec![cash])
        })
        .collect::<Result<Vec<_>, _>>()?;
    let batch = BatchRequest { items };
    let pushed = national
        .push_interceptions(OP, None, None, &batch)
        .await
        .map_err(|e| format!("push: {e}"))?;
    checks.expect(
        "push a batch",
        pushed.summary.created + pushed.summary.unchanged == 3,
        &pushed.summary,
    )?;
    let again = national
        .push_interceptions(OP, None, None, &batch)
        .await
        .map_err(|e| format!("push: {e}"))?;
    checks.expect(
        "replay is unchanged",
        again.summary.unchanged == 3 && again.summary.created == 0,
        &again.summary,
    )?;

    // More children than migrants: a 422 problem with a JSON pointer to the failing member, and
    // nothing stored (the change feed below holds only the three good records).
    let too_many_children = MigrantCount {
        total: 3,
        children: Some(5),
        by_nationality: Default::default(),
        female: None,
        male: None,
    };
    let bad = interception("CLIENT-BAD", too_many_children, Vec::new())?;
    match national
        .put_interception(OP, "SN", "CLIENT-BAD", None, None, &bad)
        .await
    {
        Err(Error::ErrorResponse(problem)) => {
            checks.expect(
                "a 422 problem",
                problem.status() == 422 && problem.status == 422,
                &*problem,
            )?;
            let pointers: Vec<_> = problem
                .errors
                .iter()
                .flatten()
                .filter_map(|e| e.pointer.as_deref())
                .collect();
            checks.expect("its pointers", pointers.contains(&"/migrants/children"), &pointers)?;
        }
        other => checks.expect("a 422 problem", false, other)?,
    }

    let report = national
        .get_tallies(OP, None, None, Some(Metric::MigrantsDetected))
        .await
        .map_err(|e| format!("tallies: {e}"))?;
    checks.expect(
        "totals",
        report.totals.first().map(|t| t.value) == Some(303),
        &report.totals,
    )?;
    let first = report.countries.first();
    checks.expect(
        "provenance",
        first.is_some_and(|c| c.source == Source::Derived && c.country == "SN"),
        first,
    )?;

    let (mut seen, mut after) = (Vec::new(), 0);
    loop {
        let page = national
            .list_changes(OP, Some(after), Some(2))
            .await
            .map_err(|e| format!("changes: {e}"))?
            .into_inner();
        seen.extend(page.changes.into_iter().map(|change| change.key));
        after = page.next;
        if !page.has_more {
            break;
        }
    }
    seen.sort();
    let mut expected = vec![
        "SN/CLIENT-0".to_string(),
        "SN/CLIENT-1".to_string(),
        "SN/CLIENT-2".to_string(),
        unit.id.to_string(),
    ];
    expected.sort();
    checks.expect("change feed: every change once", seen == expected, &seen)?;
    let quiet = national
        .list_changes(OP, Some(after), None)
        .await
        .map_err(|e| format!("changes: {e}"))?;
    checks.expect(
        "nothing new after the end",
        quiet.changes.is_empty() && quiet.next == after,
        &quiet.changes,
    )?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, base_url, token] = args.as_slice() else {
        eprintln!("usage: opcoord-client-scenario BASE_URL SECRETARIAT_TOKEN");
        return ExitCode::from(2);
    };
    let mut checks = Checks(0);
    match scenario(base_url, token, &mut checks).await {
        Ok(()) => {
            println!("rust client scenario: {} passed, 0 failed", checks.0);
            ExitCode::SUCCESS
        }
        Err(failure) => {
            println!("rust client scenario: FAILED: {failure}");
            ExitCode::FAILURE
        }
    }
}
