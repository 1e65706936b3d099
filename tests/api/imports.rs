//! Spreadsheet imports: the template written, filled in and read back; CSV, XLSX, ODS and
//! multipart uploads stored through the batch use case (idempotent, corrected rows only);
//! every kind of row problem at once; dry runs; the history and its files; scoping; limits and
//! hostile files.

use std::io::Write;

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::common::{Reply, TestApp};
use crate::db_test;
use opcoord::domain::import::template::{self, TemplateOperation};

const OP: &str = "liberterra-iii";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The header of the files these tests send (a subset of the template's, in another order).
const HEADER: &str = "external_ref,kind,occurred_at,place,lat,lon,migrants_total,migrants_children,migrants_female,\
    migrants_male,migrants_nationality,victims_total,arrests,investigations_opened,seizures_cash,seizures_vehicles,notes";

/// The row of `departure`, as a desk types it.
fn departure_row(external_ref: &str, total: i64) -> String {
    format!(
        "{external_ref},sea_departure,2025-09-12 05:40,Mbour,14.42,-16.96,{total},2,3,{},\"SN:{}; GM:1\",0,3,1,6000 EUR,1,pirogue intercepted at departure",
        total - 3,
        total - 1
    )
}

/// The same record as a national system pushes it in JSON.
fn departure(external_ref: &str, total: i64) -> Value {
    json!({
        "country": "SN", "external_ref": external_ref, "kind": "sea_departure",
        "occurred_at": "2025-09-12T05:40:00Z", "location": {"place": "Mbour", "lat": 14.42, "lon": -16.96},
        "migrants": {"total": total, "children": 2, "female": 3, "male": total - 3, "by_nationality": {"SN": total - 1, "GM": 1}},
        "victims": {"total": 0}, "arrests": 3, "investigations_opened": 1,
        "seizures": [{"category": "cash", "quantity": 6000, "unit": "EUR"}, {"category": "vehicles", "quantity": 1}],
        "notes": "pirogue intercepted at departure"
    })
}

fn csv_of(rows: &[String]) -> Vec<u8> {
    let mut text = String::from(HEADER);
    for row in rows {
        text.push('\n');
        text.push_str(row);
    }
    text.push('\n');
    text.into_bytes()
}

async fn upload(app: &TestApp, token: &str, query: &str, content_type: &str, bytes: Vec<u8>) -> Reply {
    let request = TestRequest::post()
        .uri(&format!("/v1/operations/{OP}/imports?{query}"))
        .insert_header(("content-type", content_type))
        .set_payload(bytes);
    app.send_as(Some(token), request).await
}

fn desk(app: &TestApp, country: &str) -> String {
    app.token("interceptions:write interceptions:read", &[country], &[OP])
}

fn about() -> TemplateOperation {
    TemplateOperation {
        id: OP.into(),
        name: "Liberterra III".into(),
        starts_on: chrono::NaiveDate::from_ymd_opt(2025, 9, 1).expect("date"),
        ends_on: chrono::NaiveDate::from_ymd_opt(2025, 9, 30).expect("date"),
    }
}

db_test!(
    async fn a_csv_lands_as_a_json_push_would(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        let sn = desk(&app, "SN");
        let file = csv_of(&[departure_row("DGPN-0001", 245), departure_row("DGPN-0002", 71)]);
        let first = upload(&app, &sn, "country=SN", "text/csv", file.clone()).await.expect(201);
        assert_eq!(first.body["summary"], json!({"created": 2, "updated": 0, "unchanged": 0, "rejected": 0}));
        assert_eq!(first.body["stored"], true);
        assert_eq!(first.body["rows"], 2);
        let id = first.body["id"].as_i64().expect("id");
        assert_eq!(first.header("location"), Some(format!("/v1/operations/{OP}/imports/{id}")));
        // The JSON push of the same record finds it unchanged: the hub holds exactly that.
        let put = TestRequest::put()
            .uri(&format!("/v1/operations/{OP}/interceptions/SN/DGPN-0001"))
            .set_json(departure("DGPN-0001", 245));
        let same = app.send_as(Some(&sn), put).await.expect(200);
        assert_eq!(same.body["result"], "unchanged", "{}", same.body);
        // In the tallies and the feed like any push.
        let tallies = app.get(&format!("/v1/operations/{OP}/tallies?metric=migrants_detected")).await.expect(200);
        assert!(tallies.body.to_string().contains("316"), "{}", tallies.body);
        let feed = app.get(&format!("/v1/operations/{OP}/changes?after=0&limit=100")).await.expect(200);
        assert_eq!(feed.body["changes"].as_array().map(Vec::len), Some(2));
        // Who reported: the import counts as SN's report, as a push does.
        let reporting = app.get(&format!("/v1/operations/{OP}/reporting")).await.expect(200);
        let sn_report = reporting.body["countries"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["country"] == "SN"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(sn_report["last_reported_by"], "test", "{}", reporting.body);
        // The same file again changes nothing; a corrected file updates only the corrected row.
        let again = upload(&app, &sn, "country=SN", "text/csv", file).await.expect(201);
        assert_eq!(again.body["summary"], json!({"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}));
        let corrected = csv_of(&[departure_row("DGPN-0001", 245), departure_row("DGPN-0002", 72)]);
        let fixed = upload(&app, &sn, "country=SN&file_name=day12.csv", "text/csv", corrected).await.expect(201);
        assert_eq!(fixed.body["summary"], json!({"created": 0, "updated": 1, "unchanged": 1, "rejected": 0}));
        assert_eq!(fixed.body["file_name"], "day12.csv");
        let record = app.get(&format!("/v1/operations/{OP}/interceptions/SN/DGPN-0002")).await.expect(200);
        assert_eq!(record.body["version"], 2);
        assert_eq!(record.body["migrants"]["total"], 72);
        // Audited: every write has its entry.
        let audit = app.get(&format!("/v1/operations/{OP}/audit?after=0")).await.expect(200);
        assert!(audit.body.to_string().contains("SN/DGPN-0002"), "{}", audit.body);
    }
);

db_test!(
    async fn the_template_filled_in_as_xlsx_reads_back(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        let sn = desk(&app, "SN");
        let (status, headers, bytes) = app
            .send_raw(&sn, TestRequest::get().uri(&format!("/v1/operations/{OP}/imports/template?format=xlsx")))
            .await;
        assert_eq!(status.as_u16(), 200);
        assert_eq!(headers.get("content-type").and_then(|v| v.to_str().ok()), Some(XLSX));
        assert!(bytes.starts_with(b"PK"));
        // The served template alone holds only the example row: nothing to import.
        let empty = upload(&app, &sn, "country=SN", XLSX, bytes).await.expect_problem(422);
        assert!(empty.body["detail"].as_str().unwrap_or_default().contains("example"), "{}", empty.body);

        // The same template, filled in by a desk: a date cell, a formula with its cached value,
        // a reference with leading zeros typed as text.
        let mut workbook = template::workbook(&about()).expect("template");
        let sheet = workbook.worksheet_from_name("interceptions").expect("sheet");
        let column = |name: &str| {
            template::header().iter().position(|h| h == name).expect("column") as u16
        };
        let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm");
        let when = rust_xlsxwriter::ExcelDateTime::parse_from_str("2025-09-13 22:15:00").expect("date");
        sheet.write_string(2, column("external_ref"), "000123").expect("write");
        sheet.write_string(2, column("kind"), "premises").expect("write");
        sheet.write_datetime_with_format(2, column("occurred_at"), &when, &date).expect("write");
        sheet.write_number(2, column("victims_total"), 21).expect("write");
        sheet.write_number(2, column("victims_sexual_exploitation"), 21).expect("write");
        sheet.write_string(2, column("victims_nationality"), "CO:17; VE:4").expect("write");
        sheet
            .write_formula(2, column("arrests"), rust_xlsxwriter::Formula::new("=1+1").set_result("2"))
            .expect("write");
        sheet.write_string(2, column("seizures_drugs"), "1.5 kg").expect("write");
        sheet.write_string(3, column("external_ref"), "000124").expect("write");
        sheet.write_string(3, column("kind"), "checkpoint").expect("write");
        sheet.write_string(3, column("occurred_at"), "2025-09-14T08:00:00+02:00").expect("write");
        sheet.write_number(3, column("seizures_weapons"), 4).expect("write");
        let filled = workbook.save_to_buffer().expect("save");
        let report = upload(&app, &sn, "country=SN&file_name=day13.xlsx", XLSX, filled.clone()).await.expect(201);
        assert_eq!(report.body["summary"]["created"], 2, "{}", report.body);
        assert_eq!(report.body["skipped_rows"], json!([2]), "the example row is left out");
        assert_eq!(report.body["format"], "xlsx");
        let first = app.get(&format!("/v1/operations/{OP}/interceptions/SN/000123")).await.expect(200);
        assert_eq!(first.body["occurred_at"], "2025-09-13T22:15:00Z");
        assert_eq!(first.body["arrests"], 2, "the formula's cached value, not evaluated");
        assert_eq!(first.body["victims"]["by_exploitation"], json!({"sexual_exploitation": 21}));
        assert_eq!(first.body["seizures"], json!([{"category": "drugs", "quantity": 1.5, "unit": "kg"}]));
        let second = app.get(&format!("/v1/operations/{OP}/interceptions/SN/000124")).await.expect(200);
        assert_eq!(second.body["occurred_at"], "2025-09-14T06:00:00Z");
        // The history keeps the file as sent.
        let id = report.body["id"].as_i64().expect("id");
        let (status, headers, kept) = app
            .send_raw(&sn, TestRequest::get().uri(&format!("/v1/operations/{OP}/imports/{id}/file")))
            .await;
        assert_eq!(status.as_u16(), 200);
        assert_eq!(kept, filled);
        assert!(headers
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("day13.xlsx")));
        // The CSV template reads back as an empty import too (only its example row).
        let (_, _, csv) = app
            .send_raw(&sn, TestRequest::get().uri(&format!("/v1/operations/{OP}/imports/template?format=csv")))
            .await;
        assert!(String::from_utf8_lossy(&csv).contains("external_ref,kind,occurred_at"));
        upload(&app, &sn, "country=SN", "text/csv", csv).await.expect_problem(422);
    }
);

db_test!(
    async fn every_problem_of_every_row_at_once(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        let sn = desk(&app, "SN");
        let rows = vec![
            departure_row("GOOD-1", 10),
            // unknown kind, ambiguous date, a count that is not a number
            "BAD-2,boat,12/09/2025,Mbour,14.42,-16.96,=1+2,,,,,,,,,,".to_string(),
            // parts over the total, an unknown nationality, a currency that does not exist
            "BAD-3,premises,2025-09-12,,,,5,9,,,\"SN:3; XX:9\",,,,10 EUR; 5 ZZZ,,".to_string(),
            // outside the operation's days, a bad reference, latitude out of range
            "BAD 4,premises,2025-10-12,,95,,,,,,,,,,,,".to_string(),
            // the same reference twice
            departure_row("GOOD-1", 11),
        ];
        let file = csv_of(&rows);
        let refused = upload(&app, &sn, "country=SN", "text/csv", file.clone()).await.expect_problem(422);
        let pointers = refused.pointers();
        for expected in [
            "/rows/3/kind",
            "/rows/3/occurred_at",
            "/rows/3/migrants_total",
            "/rows/4/migrants_children",
            "/rows/4/migrants_nationality",
            "/rows/4/seizures_cash",
            "/rows/5/external_ref",
            "/rows/5/occurred_at",
            "/rows/5/lat",
            "/rows/6/external_ref",
        ] {
            assert!(pointers.iter().any(|p| p == expected), "{expected} missing from {pointers:?}");
        }
        assert!(refused.body["errors"][0]["message"].as_str().unwrap_or_default().contains("nothing was stored"));
        let none = app.get(&format!("/v1/operations/{OP}/interceptions")).await.expect(200);
        assert_eq!(none.body["items"], json!([]), "an atomic import with a bad row stores nothing");
        // The refused import is in the history with its problems, by row, column and value.
        let history = app.get(&format!("/v1/operations/{OP}/imports")).await.expect(200);
        let id = history.body["items"][0]["id"].as_i64().expect("id");
        assert_eq!(history.body["items"][0]["stored"], false);
        let record = app.get(&format!("/v1/operations/{OP}/imports/{id}")).await.expect(200);
        let errors = record.body["errors"].as_array().cloned().unwrap_or_default();
        assert!(errors.iter().any(|e| e["row"] == 3 && e["column"] == "kind" && e["value"] == "boat"));
        assert!(errors.iter().any(|e| e["row"] == 4 && e["column"] == "seizures_cash" && e["value"] == "10 EUR; 5 ZZZ"));
        // The same problems as CSV, formula-like values neutralised.
        let sheet = app
            .send(TestRequest::get().uri(&format!("/v1/operations/{OP}/imports/{id}")).insert_header(("accept", "text/csv")))
            .await
            .expect(200);
        let text = sheet.body.as_str().unwrap_or_default().to_string();
        assert!(text.contains("row,column,value,message"), "{text}");
        assert!(text.contains("3,kind,boat,"), "{text}");
        assert!(text.contains("'=1+2"), "a formula-like value is neutralised: {text}");
        // A dry run says the same and what would happen, and stores nothing, not even history.
        let dry = upload(&app, &sn, "country=SN&dry_run=true", "text/csv", file.clone()).await.expect(200);
        assert_eq!(dry.body["summary"]["created"], 1);
        assert_eq!(dry.body["summary"]["rejected"], 4);
        assert_eq!(dry.body["id"], Value::Null);
        assert_eq!(dry.body["error_count"], errors.len());
        // atomic=false stores the good row and reports the others.
        let partial = upload(&app, &sn, "country=SN&atomic=false", "text/csv", file).await.expect(201);
        assert_eq!(partial.body["summary"], json!({"created": 1, "updated": 0, "unchanged": 0, "rejected": 4}));
        let list = app.get(&format!("/v1/operations/{OP}/imports")).await.expect(200);
        assert_eq!(list.body["items"].as_array().map(Vec::len), Some(2));
    }
);

db_test!(
    async fn a_desk_imports_for_its_own_country_only(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        let sn = desk(&app, "SN");
        let gm = desk(&app, "GM");
        let file = csv_of(&[departure_row("DGPN-0001", 245)]);
        upload(&app, &sn, "country=GM", "text/csv", file.clone()).await.expect_problem(403);
        let other_op = app.token("interceptions:write", &["SN"], &["other-op"]);
        upload(&app, &other_op, "country=SN", "text/csv", file.clone()).await.expect_problem(403);
        let reader = app.token("interceptions:read", &["SN"], &[OP]);
        upload(&app, &reader, "country=SN", "text/csv", file.clone()).await.expect_problem(403);
        // A country column naming another country is that row's problem.
        let mixed = format!("country,{HEADER}\nGM,{}\n", departure_row("X-1", 3));
        let refused = upload(&app, &sn, "", "text/csv", mixed.into_bytes()).await.expect_problem(422);
        assert!(refused.pointers().contains(&"/rows/2/country".to_string()), "{}", refused.body);
        // A one-country token may leave country out.
        let stored = upload(&app, &sn, "", "text/csv", file).await.expect(201);
        let id = stored.body["id"].as_i64().expect("id");
        // GM sees neither SN's import nor its file; the secretariat sees both.
        app.get_as(&gm, &format!("/v1/operations/{OP}/imports/{id}")).await.expect_problem(404);
        app.get_as(&gm, &format!("/v1/operations/{OP}/imports/{id}/file")).await.expect_problem(404);
        let listed = app.get_as(&gm, &format!("/v1/operations/{OP}/imports")).await.expect(200);
        assert_eq!(listed.body["items"], json!([]));
        app.get_as(&gm, &format!("/v1/operations/{OP}/imports?country=SN")).await.expect_problem(403);
        app.get(&format!("/v1/operations/{OP}/imports/{id}")).await.expect(200);
        app.get_as(&sn, &format!("/v1/operations/{OP}/imports/{id}/file")).await.expect(200);
        app.get(&format!("/v1/operations/{OP}/imports/999")).await.expect_problem(404);
    }
);

db_test!(
    async fn formats_limits_and_hostile_files(db) {
        let app = TestApp::start_with(db, |s| {
            s.import_max_bytes = 200_000;
            s.import_max_rows = 50;
            s.import_max_unpacked_bytes = 2_000_000;
        })
        .await;
        app.operation(OP).await;
        let sn = desk(&app, "SN");
        // `;`-separated Windows-1252 with decimal commas, as Excel saves it in much of Europe.
        let mut latin = b"external_ref;kind;occurred_at;place;lat\n".to_vec();
        latin.extend_from_slice(b"R-1;premises;2025-09-12 10:00;S\xE9gou;14,42\n");
        let read = upload(&app, &sn, "country=SN", "text/csv", latin).await.expect(201);
        assert_eq!(read.body["encoding"], "windows-1252");
        let record = app.get(&format!("/v1/operations/{OP}/interceptions/SN/R-1")).await.expect(200);
        assert_eq!(record.body["location"], json!({"place": "Ségou", "lat": 14.42}));
        // Multipart, with the file's name taken from the part.
        let boundary = "XyZ";
        let mut form = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"day 12.csv\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .into_bytes();
        form.extend(csv_of(&[departure_row("M-1", 5)]));
        form.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
        let multipart = upload(&app, &sn, "country=SN", &format!("multipart/form-data; boundary={boundary}"), form)
            .await
            .expect(201);
        assert_eq!(multipart.body["file_name"], "day 12.csv");
        // ODS, with a repeated empty row and a formula's stored value.
        let ods = ods_file(
            "<table:table-row><table:table-cell office:value-type=\"string\"><text:p>external_ref</text:p></table:table-cell>\
             <table:table-cell><text:p>kind</text:p></table:table-cell><table:table-cell><text:p>occurred_at</text:p></table:table-cell>\
             <table:table-cell><text:p>arrests</text:p></table:table-cell></table:table-row>\
             <table:table-row table:number-rows-repeated=\"1000000\"><table:table-cell table:number-columns-repeated=\"16384\"/></table:table-row>\
             <table:table-row><table:table-cell><text:p>O-1</text:p></table:table-cell><table:table-cell><text:p>online</text:p></table:table-cell>\
             <table:table-cell office:value-type=\"date\" office:date-value=\"2025-09-15T09:30:00\"><text:p>15/09/2025</text:p></table:table-cell>\
             <table:table-cell table:formula=\"of:=1+3\" office:value-type=\"float\" office:value=\"4\"><text:p>4</text:p></table:table-cell></table:table-row>",
        );
        let ods_report = upload(&app, &sn, "country=SN", "application/vnd.oasis.opendocument.spreadsheet", ods)
            .await
            .expect(201);
        assert_eq!(ods_report.body["summary"]["created"], 1, "{}", ods_report.body);
        let online = app.get(&format!("/v1/operations/{OP}/interceptions/SN/O-1")).await.expect(200);
        assert_eq!((online.body["arrests"].clone(), online.body["occurred_at"].clone()), (json!(4), json!("2025-09-15T09:30:00Z")));
        // A repeated row of values stops at the row limit.
        let repeated = ods_file(
            "<table:table-row><table:table-cell><text:p>external_ref</text:p></table:table-cell>\
             <table:table-cell><text:p>kind</text:p></table:table-cell><table:table-cell><text:p>occurred_at</text:p></table:table-cell></table:table-row>\
             <table:table-row table:number-rows-repeated=\"1000000\"><table:table-cell><text:p>A</text:p></table:table-cell></table:table-row>",
        );
        let stopped = upload(&app, &sn, "country=SN", "application/octet-stream", repeated).await.expect_problem(422);
        assert!(stopped.body["detail"].as_str().unwrap_or_default().contains("more than 50 rows"), "{}", stopped.body);
        // Too large (413), too many rows (422), not what its type says (415), not a spreadsheet.
        upload(&app, &sn, "country=SN", "text/csv", vec![b'a'; 300_000]).await.expect_problem(413);
        let many: Vec<String> = (0..60).map(|i| departure_row(&format!("N-{i}"), 5)).collect();
        upload(&app, &sn, "country=SN", "text/csv", csv_of(&many)).await.expect_problem(422);
        let workbook = template::xlsx(&about()).expect("template");
        upload(&app, &sn, "country=SN", "text/csv", workbook).await.expect_problem(415);
        upload(&app, &sn, "country=SN", XLSX, b"external_ref\nA\n".to_vec()).await.expect_problem(415);
        upload(&app, &sn, "country=SN", "application/json", b"{}".to_vec()).await.expect_problem(415);
        upload(&app, &sn, "country=SN", "application/octet-stream", b"%PDF-1.4".to_vec()).await.expect_problem(415);
        // A zip bomb: a few kilobytes that expand past the bound; refused before it is read.
        let bomb = zip_of(&[("[Content_Types].xml", vec![b' '; 10]), ("xl/workbook.xml", vec![b' '; 10]), ("xl/worksheets/sheet1.xml", vec![0u8; 50_000_000])]);
        assert!(bomb.len() < 200_000, "{}", bomb.len());
        let refused = upload(&app, &sn, "country=SN", XLSX, bomb).await.expect_problem(422);
        assert!(refused.body["detail"].as_str().unwrap_or_default().contains("expand"), "{}", refused.body);
        // A header the template does not know is named, never ignored.
        let typo = upload(&app, &sn, "country=SN", "text/csv", b"external_ref,kind,occurred_at,chidren\nA,premises,2025-09-12,1\n".to_vec())
            .await
            .expect_problem(422);
        assert!(typo.body["detail"].as_str().unwrap_or_default().contains("chidren"), "{}", typo.body);
    }
);

fn zip_of(parts: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut writer = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in parts {
            writer.start_file(*name, options).expect("part");
            writer.write_all(content).expect("write");
        }
        writer.finish().expect("finish");
    }
    out.into_inner()
}

fn ods_file(rows: &str) -> Vec<u8> {
    let content = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" \
         xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\">\
         <office:body><office:spreadsheet><table:table table:name=\"interceptions\">{rows}</table:table></office:spreadsheet></office:body>\
         </office:document-content>"
    );
    zip_of(&[
        ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet".to_vec()),
        ("content.xml", content.into_bytes()),
    ])
}

db_test!(
    async fn a_file_larger_than_a_batch_goes_in_batches(db) {
        let app = TestApp::start(db).await;
        app.operation(OP).await;
        let sn = desk(&app, "SN");
        let rows: Vec<String> = (0..2345).map(|i| departure_row(&format!("B-{i:05}"), 5 + (i % 7) as i64)).collect();
        let file = csv_of(&rows);
        let report = upload(&app, &sn, "country=SN", "text/csv", file.clone()).await.expect(201);
        assert_eq!(report.body["summary"]["created"], 2345, "{}", report.body["summary"]);
        let again = upload(&app, &sn, "country=SN", "text/csv", file).await.expect(201);
        assert_eq!(again.body["summary"]["unchanged"], 2345);
        // An atomic file with one bad row past the first batch stores none of the batches.
        let mut bad: Vec<String> = (0..1500).map(|i| departure_row(&format!("C-{i:05}"), 5)).collect();
        bad[1400] = departure_row("C-01400", 5).replace("sea_departure", "raft");
        let refused = upload(&app, &sn, "country=SN", "text/csv", csv_of(&bad)).await.expect_problem(422);
        assert!(refused.pointers().contains(&"/rows/1402/kind".to_string()), "{:?}", refused.pointers());
        let digest = app.get(&format!("/v1/operations/{OP}/sync/digest?country=SN")).await.expect(200);
        assert_eq!(digest.body["count"], 2345, "nothing of the refused file was stored");
    }
);
