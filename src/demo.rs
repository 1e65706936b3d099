//! `opcoord demo`: a demo operation built from the public facts of INTERPOL's Operation
//! Liberterra III (../shared/DEMO-FACTS.md), so a newcomer sees real-looking totals at once.
//!
//! Everything it loads is marked as demo data: the operation's id starts with `demo-`, its name
//! with `[DEMO]`, every reference with `DEMO-`, every note says so, and the writer is
//! `demo-loader`. The named incidents carry the published figures; synthetic records spread
//! over the 119 countries bring the totals to the published headline figures (12,992 migrants
//! detected, 4,414 victims safeguarded, 721 investigations). Loading twice changes nothing.

use serde_json::{json, Value};

use crate::auth::claims::{Access, Scope};
use crate::auth::Auth;
use crate::db::{self, Database, DbConn, Writer};
use crate::domain::operation::NewOperation;
use crate::domain::unit::{NewUnit, UnitKind};
use crate::domain::version::IfMatch;
use crate::error::{Error, Result};
use crate::service;
use crate::service::interceptions::{self, Item};

/// The demo operation's id.
pub const OPERATION: &str = "demo-liberterra-iii";

/// 119 countries taking part; the first four host special coordination units.
const COUNTRIES: [&str; 119] = [
    "DZ", "SV", "LA", "GB", "AL", "AO", "AR", "AM", "AT", "AZ", "BD", "BE", "BJ", "BO", "BA", "BW", "BR", "BG", "BF",
    "BI", "KH", "CM", "CA", "CF", "TD", "CL", "CO", "CG", "CR", "CI", "HR", "CY", "CZ", "DK", "DO", "EC", "EG", "EE",
    "ET", "FI", "FR", "GA", "GM", "GE", "DE", "GH", "GR", "GT", "GN", "GW", "HN", "HU", "IN", "ID", "IE", "IT", "JM",
    "JO", "KZ", "KE", "KG", "LV", "LB", "LR", "LT", "MG", "MW", "MY", "ML", "MT", "MR", "MX", "MD", "MN", "ME", "MA",
    "MZ", "NA", "NP", "NL", "NI", "NE", "NG", "MK", "NO", "PK", "PA", "PY", "PE", "PH", "PL", "PT", "RO", "RW", "SN",
    "RS", "SL", "SK", "SI", "ZA", "ES", "LK", "SE", "CH", "TJ", "TZ", "TH", "TG", "TN", "TR", "UG", "UA", "UY", "UZ",
    "VN", "ZM", "ZW", "BZ", "PS",
];

/// Published headline figures the demo totals are brought to.
const MIGRANTS: i64 = 12_992;
const VICTIMS: i64 = 4_414;
const INVESTIGATIONS: i64 = 721;
/// Officers deployed across every unit (published: more than 14,000).
const OFFICERS: i64 = 14_000;

/// A small deterministic generator (xorshift64), so the demo is the same every time; the tests
/// use it too, so a failing random sequence can be replayed from its seed.
pub struct Seeded(pub u64);

impl Seeded {
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number from 0 to `n - 1`.
    pub fn below(&mut self, n: u64) -> i64 {
        (self.next_u64() % n.max(1)) as i64
    }
}

fn incident(country: &str, key: &str, kind: &str, day: u32, body: Value) -> Value {
    let mut item = json!({
        "country": country,
        "external_ref": format!("DEMO-{key}"),
        "kind": kind,
        "occurred_at": format!("2025-09-{day:02}T10:00:00Z"),
    });
    if let (Some(item), Some(extra)) = (item.as_object_mut(), body.as_object()) {
        for (k, v) in extra {
            item.insert(k.clone(), v.clone());
        }
        let note = extra.get("notes").and_then(Value::as_str).unwrap_or("");
        item.insert("notes".into(), json!(format!("DEMO DATA. {note}").trim().to_string()));
    }
    item
}

/// The incidents of the published facts, with their figures.
fn named_incidents() -> Vec<Value> {
    vec![
        incident("SN", "SN-001", "sea_departure", 9, json!({"location": {"place": "Senegalese coast"},
            "migrants": {"total": 245}, "notes": "sea departure of 245 migrants stopped"})),
        incident("DZ", "DZ-001", "sea_departure", 10, json!({"migrants": {"total": 71, "children": 7},
            "seizures": [{"category": "vessels", "quantity": 1}], "notes": "inflatable boat intercepted, people of various nationalities"})),
        incident("ES", "ES-001", "premises", 11, json!({"location": {"place": "Barcelona and Marbella"},
            "victims": {"total": 21, "female": 21, "by_nationality": {"CO": 18}, "by_exploitation": {"sexual_exploitation": 21}},
            "investigations_opened": 1, "notes": "network using beauty salons and massage parlours; debts of 6,000 euros imposed"})),
        incident("ML", "ML-001", "premises", 12, json!({"victims": {"total": 47, "female": 47, "by_nationality": {"NG": 47},
            "by_exploitation": {"sexual_exploitation": 47}}, "investigations_opened": 1, "notes": "Nigerian women trafficked for sexual exploitation identified"})),
        incident("RO", "RO-001", "land_border", 13, json!({"location": {"place": "border with Moldova"}, "arrests": 1,
            "seizures": [{"category": "weapons", "quantity": 2}, {"category": "ammunition", "quantity": 1}, {"category": "military_equipment", "quantity": 1}],
            "notes": "truck declared as metal parts: rocket and grenade launchers, ammunition, combat-drone components (quantities illustrative)"})),
        incident("MD", "MD-001", "land_border", 13, json!({"location": {"place": "border with Romania"}, "arrests": 2, "notes": "two people detained after the truck seizure"})),
        incident("MZ", "MZ-001", "other", 10, json!({"victims": {"total": 1, "children": 1, "male": 1, "by_exploitation": {"organ_removal": 1}},
            "investigations_opened": 1, "notes": "boy kidnapped for organ removal found"})),
        incident("GB", "GB-001", "premises", 11, json!({"location": {"place": "Dundee"}, "victims": {"total": 1, "female": 1,
            "by_nationality": {"RO": 1}, "by_exploitation": {"sexual_exploitation": 1}}, "investigations_opened": 1,
            "seizures": [{"category": "documents", "quantity": 1}], "notes": "woman trafficked by ferry; identity documents withheld"})),
        incident("CR", "CR-001", "online", 12, json!({"arrests": 2, "investigations_opened": 1, "notes": "pressure on under-age students to record videos; two arrests"})),
        incident("KZ", "KZ-001", "premises", 12, json!({"arrests": 1, "investigations_opened": 1,
            "seizures": [{"category": "cash", "quantity": 1, "unit": "KZT"}, {"category": "weapons", "quantity": 1},
                {"category": "bank_cards", "quantity": 1}, {"category": "vehicles", "quantity": 3}],
            "notes": "bogus taxi service forcing victims into prostitution in saunas; money laundering into real estate (quantities illustrative)"})),
        incident("BZ", "BZ-001", "premises", 11, json!({"victims": {"total": 5, "children": 5, "by_exploitation": {"child_labour": 5}},
            "notes": "child labourers in a glass factory (count illustrative)"})),
        incident("SV", "SV-001", "other", 12, json!({"victims": {"total": 1, "children": 1, "female": 1, "by_exploitation": {"forced_marriage": 1}},
            "arrests": 1, "notes": "young girl sold to a 73-year-old man"})),
        incident("GW", "GW-001", "sea_departure", 10, json!({"migrants": {"total": 60}, "notes": "departure off Guinea-Bissau stopped (count illustrative)"})),
        incident("MA", "MA-001", "sea_departure", 11, json!({"migrants": {"total": 80}, "notes": "departure off Morocco stopped (count illustrative)"})),
    ]
    .into_iter()
    .chain(["BJ", "BF", "CG", "CI", "GH", "SN", "SL"].iter().enumerate().map(|(i, country)| {
        incident(country, &format!("{country}-WA-{i}"), "premises", 10 + i as u32 % 4, json!({
            "victims": {"total": 30, "by_exploitation": {"forced_labour": 30}}, "investigations_opened": 1,
            "notes": "people lured by false job offers and recruitment fees, made to recruit friends and family (West Africa, over 200 rescued)"}))
    }))
    .collect()
}

fn sum(items: &[Value], path: &[&str]) -> i64 {
    items
        .iter()
        .map(|item| path.iter().fold(item, |v, k| &v[k]).as_i64().unwrap_or(0))
        .sum()
}

/// Synthetic records bringing the totals to the published figures, spread over every country.
fn synthetic(named: &[Value]) -> Vec<Value> {
    let mut rng = Seeded(0x11be_77a3);
    let records = COUNTRIES.len() * 4;
    let split = |total: i64, rng: &mut Seeded| -> Vec<i64> {
        let weights: Vec<i64> = (0..records).map(|_| 1 + rng.below(9)).collect();
        let all: i64 = weights.iter().sum();
        let mut shares: Vec<i64> = weights.iter().map(|w| total * w / all).collect();
        let given: i64 = shares.iter().sum();
        if let Some(last) = shares.last_mut() {
            *last += total - given;
        }
        shares
    };
    let migrants = split(MIGRANTS - sum(named, &["migrants", "total"]), &mut rng);
    let victims = split(VICTIMS - sum(named, &["victims", "total"]), &mut rng);
    let investigations = split(INVESTIGATIONS - sum(named, &["investigations_opened"]), &mut rng);
    let kinds = [
        "land_border",
        "air_border",
        "checkpoint",
        "premises",
        "sea_departure",
        "online",
    ];
    let nationalities = [
        "NG", "SY", "AF", "ER", "SD", "GN", "ML", "CO", "VE", "VN", "BD", "PK", "UA", "SN", "MA",
    ];
    let forms = [
        "sexual_exploitation",
        "forced_labour",
        "forced_criminality",
        "forced_begging",
        "child_labour",
    ];
    (0..records)
        .map(|i| {
            let country = COUNTRIES[i % COUNTRIES.len()];
            let (m, v) = (migrants[i], victims[i]);
            let n1 = nationalities[rng.below(15) as usize];
            let form = forms[rng.below(5) as usize];
            let mut body = json!({"arrests": rng.below(4), "investigations_opened": investigations[i], "notes": "synthetic record"});
            if m > 0 {
                let children = m * rng.below(20) / 100;
                let female = m * (20 + rng.below(30)) / 100;
                body["migrants"] = json!({"total": m, "children": children, "female": female, "male": m - female,
                    "by_nationality": {n1: m / 2}});
            }
            if v > 0 {
                let female = v * (50 + rng.below(40)) / 100;
                body["victims"] = json!({"total": v, "female": female, "male": v - female, "children": v * rng.below(30) / 100,
                    "by_nationality": {n1: v / 2}, "by_exploitation": {form: v}});
            }
            // Each country's four records fall on four different days of the week.
            let day = 8 + ((i % 7 + i / COUNTRIES.len()) % 7) as u32;
            incident(country, &format!("SYN-{i:04}"), kinds[i % kinds.len()], day, body)
        })
        .collect()
}

/// Loads (or reloads, changing nothing) the demo operation, its units and its interceptions.
pub fn load(conn: &mut DbConn) -> Result<()> {
    let writer = Writer {
        sub: "demo-loader".into(),
        jti: "demo".into(),
    };
    let new = NewOperation {
        id: OPERATION.into(),
        name: "[DEMO] Operation Liberterra III".into(),
        description: "DEMO DATA built from press reporting on INTERPOL's Operation Liberterra III against human \
            trafficking and migrant smuggling. Named incidents carry published figures; synthetic records bring the \
            totals to the published headline figures. Not real case data."
            .into(),
        coordinator: "INTERPOL (demo)".into(),
        status: Some(crate::domain::operation::OperationStatus::Active),
        starts_on: chrono::NaiveDate::from_ymd_opt(2025, 9, 8).ok_or_else(|| Error::internal("date"))?,
        ends_on: chrono::NaiveDate::from_ymd_opt(2025, 9, 14).ok_or_else(|| Error::internal("date"))?,
        public: true,
        suppression_threshold: Some(5),
        // INTERPOL's General Secretariat is in Lyon: the days and the 09:00 deadline are French time.
        time_zone: Some("Europe/Paris".into()),
        report_deadline: Some("09:00".into()),
    };
    service::operations::create(conn, &new, &writer)?;
    for (i, country) in COUNTRIES.iter().enumerate() {
        let coordination = i < 4;
        let officers = if coordination {
            900
        } else {
            (OFFICERS - 3600) / 115 + i64::from(i == 4) * ((OFFICERS - 3600) % 115)
        };
        let unit = NewUnit {
            country: (*country).into(),
            name: if coordination {
                format!("DEMO special coordination unit {country}")
            } else {
                format!("DEMO NCB {country}")
            },
            kind: if coordination {
                UnitKind::CoordinationUnit
            } else {
                UnitKind::NationalCentralBureau
            },
            officers_deployed: officers,
            active: true,
        };
        service::units::create(conn, OPERATION, &unit, &writer)?;
    }
    let named = named_incidents();
    let items: Vec<Value> = synthetic(&named).into_iter().chain(named).collect();
    // On a second load the countries whose figures are final refuse writes: theirs are loaded.
    let closed: std::collections::BTreeSet<String> = db::reporting::closed_countries(conn, OPERATION, &COUNTRIES)?
        .into_iter()
        .map(|(country, _)| country)
        .collect();
    let open: Vec<Value> = items
        .iter()
        .filter(|item| !item["country"].as_str().is_some_and(|c| closed.contains(c)))
        .cloned()
        .collect();
    for chunk in open.chunks(500) {
        let items = chunk
            .iter()
            .enumerate()
            .map(|(index, value)| Item {
                index,
                key: None,
                input: serde_json::from_value(value.clone())
                    .map_err(|e| Error::internal(format!("demo record {index}: {e}"))),
                external_ref: None,
                if_match: IfMatch::Absent,
            })
            .collect();
        let report = interceptions::push(conn, OPERATION, items, true, &writer, &|_| Ok(()))?;
        if let Some(refused) = report.items.into_iter().find_map(|item| item.outcome.err()) {
            return Err(Error::internal(format!("a demo record was refused: {refused}")));
        }
    }
    reporting(conn, &items, &writer)?;
    // One published release, so the public page has something to show; loading again adds none.
    if db::releases::latest_published(conn, OPERATION)?.is_none() {
        // The demo's figures are the operation's published results: its release is the final one.
        let last = crate::domain::disclosure::release::NewRelease {
            kind: crate::domain::disclosure::release::ReleaseKind::Final,
        };
        let (release, _) = crate::service::releases::make(conn, OPERATION, &last, &writer)?;
        crate::service::releases::publish(conn, OPERATION, release.number, &writer)?;
    }
    Ok(())
}

/// Countries that stay silent on the days they have no record for (late on the board).
fn is_silent(index: usize) -> bool {
    index % 17 == 5
}

/// The reporting cycle of the demo week, as a coordination unit would see it the Monday after:
/// every country reported on the days of its records and, but for a few silent ones, filed a nil
/// return for the others; a third declared their figures final, half of those were approved by
/// the secretariat, and Spain's were approved then reopened with a reason. Report times are set
/// as if the reports had arrived during the week (most before the 09:00 deadline, some after),
/// not at the moment of loading. Countries whose status has moved are left as they are, so
/// loading again changes nothing.
fn reporting(conn: &mut DbConn, items: &[Value], loader: &Writer) -> Result<()> {
    use crate::domain::reporting::Transition;
    use chrono::{Duration, NaiveDate};
    let secretariat = Writer {
        sub: "demo-secretariat".into(),
        jti: "demo".into(),
    };
    let operation = db::operations::get_bare(conn, OPERATION)?;
    let schedule = operation.schedule()?;
    let mut reported: std::collections::BTreeSet<(String, NaiveDate)> = std::collections::BTreeSet::new();
    for item in items {
        let country = item["country"].as_str().unwrap_or_default();
        let at = item["occurred_at"].as_str().unwrap_or_default();
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(at) {
            reported.insert((country.to_string(), schedule.day_of(at.to_utc())));
        }
    }
    let days: Vec<NaiveDate> = operation
        .starts_on
        .iter_days()
        .take_while(|d| *d <= operation.ends_on)
        .collect();
    for (i, country) in COUNTRIES.iter().enumerate() {
        if db::reporting::status(conn, OPERATION, country)?.version > 0 {
            continue;
        }
        for (d, day) in days.iter().enumerate() {
            let has_records = reported.contains(&(country.to_string(), *day));
            if !has_records && !is_silent(i) {
                service::reporting::file_nil(conn, OPERATION, country, *day, loader)?;
            }
            if has_records || !is_silent(i) {
                // Most arrive in the evening of the day; one in eight the morning after the deadline.
                let deadline = schedule.deadline_of(*day);
                let first = match (i + d) % 8 {
                    0 => deadline + Duration::hours(3),
                    _ => deadline - Duration::hours(12 + ((i + d) % 5) as i64),
                };
                db::reporting::set_report_times(conn, OPERATION, country, *day, first)?;
            }
        }
        let spain = *country == "ES";
        if (i % 3 == 0 && !is_silent(i)) || spain {
            service::reporting::transition(conn, OPERATION, country, Transition::DeclareFinal, None, loader)?;
            if i % 6 == 0 || spain {
                service::reporting::transition(conn, OPERATION, country, Transition::Approve, None, &secretariat)?;
            }
        }
        if spain {
            let reason = "DEMO DATA. The Barcelona salon network (ES-001) was also entered by a regional desk as a \
                separate record; Spain will retract the duplicate and declare its figures final again.";
            service::reporting::transition(
                conn,
                OPERATION,
                country,
                Transition::Reopen,
                Some(reason.into()),
                &secretariat,
            )?;
        }
    }
    Ok(())
}

/// Tokens for trying the demo, recorded as issued: a national unit (Senegal) and a
/// coordination unit (every country, read only).
pub fn tokens(conn: &mut DbConn, auth: &Auth) -> Result<(String, String)> {
    let ops = Access::Only([OPERATION.to_string()].into());
    let national = [
        Scope::OperationsRead,
        Scope::InterceptionsWrite,
        Scope::InterceptionsRead,
        Scope::TalliesWrite,
        Scope::TalliesRead,
        Scope::ReportingWrite,
    ];
    let coordination = [
        Scope::OperationsRead,
        Scope::InterceptionsRead,
        Scope::TalliesRead,
        Scope::AuditRead,
    ];
    let sign = |sub: &str, scopes: &[Scope], countries: Access| {
        let claims = auth.claims(sub, &scopes.iter().copied().collect(), &countries, &ops, 30 * 86_400);
        auth.sign(&claims).map(|token| (token, claims))
    };
    let (national, national_claims) = sign("demo-sn-dgpn", &national, Access::Only(["SN".to_string()].into()))?;
    let (coordination, coordination_claims) = sign("demo-coordination", &coordination, Access::All)?;
    let issuer = Writer {
        sub: "demo-loader".into(),
        jti: "demo".into(),
    };
    crate::service::tokens::record_issued(conn, &national_claims, &issuer)?;
    crate::service::tokens::record_issued(conn, &coordination_claims, &issuer)?;
    Ok((national, coordination))
}

/// Loads the demo into the configured database and returns the two tokens.
pub fn run(database: &Database, auth: &Auth) -> Result<(String, String)> {
    database.with_conn(|conn| {
        load(conn)?;
        tokens(conn, auth)
    })
}
