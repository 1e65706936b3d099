//! CSV as desks save it: UTF-8 with or without a byte-order mark, or Windows-1252 (what Excel
//! writes as "CSV" on Windows in Western Europe); `,`, `;` (Excel's choice where the decimal
//! mark is a comma) or tab between cells, found from the header line. And CSV as the service
//! writes it, with formula-like cells neutralised.

use super::{file_problem, Cell, ReadLimits, RowSink, Sheet, SheetBuilder, SheetInfo};
use crate::error::Error;

/// Bytes that Windows-1252 leaves undefined: a file holding one is not Windows-1252.
const UNDEFINED_IN_1252: [u8; 5] = [0x81, 0x8D, 0x8F, 0x90, 0x9D];

/// The file's text and the encoding it was read from when not UTF-8.
fn decode(bytes: &[u8]) -> Result<(std::borrow::Cow<'_, str>, Option<&'static str>), Error> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(file_problem(
            "/file",
            "the file is UTF-16 text (Excel's \"Unicode Text\"); save it as \"CSV UTF-8 (Comma delimited)\" and send it again",
        ));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    if bytes.contains(&0) {
        return Err(file_problem(
            "/file",
            "the file holds NUL bytes: it is not CSV text; send CSV, XLSX or ODS",
        ));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((std::borrow::Cow::Borrowed(text), None)),
        Err(_) if !bytes.iter().any(|b| UNDEFINED_IN_1252.contains(b)) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            Ok((text, Some("windows-1252")))
        }
        Err(e) => Err(file_problem(
            "/file",
            format!(
                "the file is neither UTF-8 nor Windows-1252 text (byte {} cannot be read); save it as \"CSV UTF-8\" and send it again",
                e.valid_up_to() + 1
            ),
        )),
    }
}

/// The separator of a CSV file: whichever of `;`, `,` and tab appears most often in its first
/// line outside quotes (`,` when none does).
pub fn separator(text: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        [b',', b';', b'\t'][best]
    }
}

/// Reads a CSV file into a sheet (see [`read_into`]).
pub fn read(bytes: &[u8], limits: ReadLimits) -> Result<Sheet, Error> {
    let mut sheet = Sheet::default();
    read_into(bytes, limits, &mut sheet)?;
    Ok(sheet)
}

/// Reads a CSV file into `sink` a row at a time. Every cell is text; a leading `'` before `=`,
/// `+`, `-` or `@` (how this service neutralises such cells in the CSV it writes) is taken off
/// again.
pub fn read_into(bytes: &[u8], limits: ReadLimits, sink: &mut dyn RowSink) -> Result<(), Error> {
    let (text, encoding) = decode(bytes)?;
    let delimiter = separator(&text);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let info = SheetInfo {
        decimal_comma: delimiter == b';',
        encoding,
    };
    let mut builder = SheetBuilder::new(sink, limits, info);
    let mut record = ::csv::StringRecord::new();
    let mut number: u32 = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(file_problem(
                    "/file",
                    format!("the CSV cannot be read after row {number}: {e}"),
                ))
            }
        }
        number = number.saturating_add(1);
        let cells = record
            .iter()
            .enumerate()
            .filter_map(|(col, field)| {
                let field = field.trim();
                (!field.is_empty()).then(|| (col, Cell::Text(unneutralise(field).to_string())))
            })
            .collect();
        builder.row(number, cells)?;
    }
    builder.finish()
}

fn unneutralise(field: &str) -> &str {
    match field.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => field,
    }
}

/// A cell that a spreadsheet program would take for a formula (it starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return) gets a leading `'`, so opening the CSV runs nothing
/// (OWASP's advice on CSV injection). A plain number such as `-16.96` is left as it is.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.trim().parse::<f64>().map(f64::is_finite) != Ok(true) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Writes rows as CSV (`,`-separated, UTF-8 with a byte-order mark so Excel reads accents
/// right), every cell neutralised.
pub fn write(rows: &[Vec<String>]) -> Result<Vec<u8>, Error> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut writer = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .from_writer(&mut out);
        for row in rows {
            writer
                .write_record(row.iter().map(|cell| neutralise(cell).into_owned()))
                .map_err(|e| Error::internal(format!("cannot write CSV: {e}")))?;
        }
        writer
            .flush()
            .map_err(|e| Error::internal(format!("cannot write CSV: {e}")))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ReadLimits = ReadLimits {
        max_rows: 10,
        max_unpacked_bytes: 1 << 20,
    };

    fn texts(sheet: &Sheet) -> Vec<Vec<String>> {
        sheet
            .rows
            .iter()
            .map(|r| r.cells.iter().map(|(_, c)| c.shown()).collect())
            .collect()
    }

    #[test]
    fn reads_utf8_with_and_without_bom_and_either_separator() {
        for (bytes, comma) in [
            (&b"a,b\n1,2\n"[..], false),
            (&b"\xEF\xBB\xBFa;b\r\n1;2\r\n"[..], true),
            (&b"a\tb\n1\t2\n"[..], false),
        ] {
            let sheet = read(bytes, LIMITS).unwrap_or_default();
            assert_eq!(sheet.header, vec!["a", "b"]);
            assert_eq!(texts(&sheet), vec![vec!["1", "2"]]);
            assert_eq!(sheet.decimal_comma, comma);
            assert_eq!(sheet.rows[0].number, 2);
        }
    }

    #[test]
    fn windows_1252_is_recognised_and_utf16_refused() {
        let sheet = read(b"place\nS\xE9gou\n", LIMITS).unwrap_or_default();
        assert_eq!(texts(&sheet), vec![vec!["Ségou"]]);
        assert_eq!(sheet.encoding, Some("windows-1252"));
        assert!(matches!(read(b"\xFF\xFEa\0", LIMITS), Err(Error::Validation(_))));
        assert!(matches!(read(b"a\n\x81\x8D\n", LIMITS), Err(Error::Validation(_))));
    }

    #[test]
    fn quoted_newlines_keep_row_numbers_and_limits_hold() {
        let sheet = read(b"a,b\n\"x\ny\",2\n,\n3,4\n", LIMITS).unwrap_or_default();
        assert_eq!(sheet.rows.iter().map(|r| r.number).collect::<Vec<_>>(), vec![2, 4]);
        let many = format!("a\n{}", "1\n".repeat(11));
        assert!(read(many.as_bytes(), LIMITS).is_err());
        assert!(read(b"a\n1,2\n", LIMITS).is_err(), "a value without a heading");
        assert!(read(b"", LIMITS).is_err());
    }

    #[test]
    fn neutralises_formulas_but_not_numbers() {
        assert_eq!(neutralise("=1+2"), "'=1+2");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("+33 1"), "'+33 1");
        assert_eq!(neutralise("-16.96"), "-16.96");
        assert_eq!(neutralise("Mbour"), "Mbour");
        assert_eq!(unneutralise("'=1+2"), "=1+2");
        assert_eq!(unneutralise("'abc"), "'abc");
        let written = write(&[vec!["=cmd".into(), "-3".into()]]).unwrap_or_default();
        assert_eq!(&written[3..], b"'=cmd,-3\r\n");
    }
}
