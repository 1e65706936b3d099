//! Zipped spreadsheets (XLSX and ODS are ZIP archives of XML parts): what kind a ZIP archive
//! is, and the guard that refuses one whose parts expand beyond a bound (a "zip bomb") before
//! any spreadsheet reader opens it.

use std::io::{Cursor, Read};

use super::{file_problem, FileFormat, ReadLimits, ODS_MEDIA_TYPE};
use crate::error::Error;

/// Most parts an archive may hold: a workbook has a few dozen.
pub const MAX_ENTRIES: usize = 10_000;

fn archive(bytes: &[u8]) -> Result<zip::ZipArchive<Cursor<&[u8]>>, Error> {
    zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        file_problem(
            "/file",
            format!("the file starts like an XLSX or ODS workbook but is not a readable ZIP archive ({e})"),
        )
    })
}

/// Whether a ZIP archive is an XLSX workbook or an ODS spreadsheet (415 for any other archive,
/// such as a Word document).
pub fn kind(bytes: &[u8]) -> Result<FileFormat, Error> {
    let mut archive = archive(bytes)?;
    if archive.index_for_name("xl/workbook.xml").is_some() {
        return Ok(FileFormat::Xlsx);
    }
    if let Ok(mut entry) = archive.by_name("mimetype") {
        let mut mimetype = String::new();
        let _ = (&mut entry).take(200).read_to_string(&mut mimetype);
        if mimetype.trim() == ODS_MEDIA_TYPE {
            return Ok(FileFormat::Ods);
        }
    }
    let what = if archive.index_for_name("word/document.xml").is_some() {
        "a Word document"
    } else {
        "a ZIP archive"
    };
    Err(Error::UnsupportedMediaType(format!(
        "the file is {what}, not a spreadsheet; send CSV, XLSX or ODS"
    )))
}

/// Refuses an archive whose parts would expand past `limits.max_unpacked_bytes` all together,
/// or that has more than [`MAX_ENTRIES`] parts. The sizes the archive declares in its central
/// directory are checked first (nothing is expanded); then each part is expanded into a
/// counter, a buffer at a time, and the expansion stops as soon as the real total passes the
/// bound — a part that lies about its size is caught without ever being held in memory.
pub fn guard(bytes: &[u8], limits: ReadLimits) -> Result<(), Error> {
    let bound = limits.max_unpacked_bytes;
    let too_large = || {
        file_problem(
            "/file",
            format!(
                "the workbook's parts expand to more than {} MB; it is not a plain spreadsheet (or it is too large: split it)",
                bound / 1_000_000
            ),
        )
    };
    let mut archive = archive(bytes)?;
    if archive.len() > MAX_ENTRIES {
        return Err(file_problem(
            "/file",
            format!("the workbook holds more than {MAX_ENTRIES} parts"),
        ));
    }
    let mut declared: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| unreadable(&e))?;
        declared = declared.saturating_add(entry.size());
        if declared > bound {
            return Err(too_large());
        }
    }
    let mut total: u64 = 0;
    let mut buffer = vec![0u8; 64 * 1024];
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| unreadable(&e))?;
        loop {
            let n = entry.read(&mut buffer).map_err(|e| unreadable(&e))?;
            if n == 0 {
                break;
            }
            total = total.saturating_add(n as u64);
            if total > bound {
                return Err(too_large());
            }
        }
    }
    Ok(())
}

fn unreadable(e: &dyn std::fmt::Display) -> Error {
    file_problem("/file", format!("a part of the workbook cannot be read ({e})"))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_of(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        {
            let mut writer = zip::ZipWriter::new(&mut out);
            let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
            for (name, content) in parts {
                let _ = writer.start_file(*name, options);
                let _ = writer.write_all(content);
            }
            let _ = writer.finish();
        }
        out.into_inner()
    }

    #[test]
    fn a_bomb_is_refused_and_a_small_archive_passes() {
        let limits = ReadLimits {
            max_rows: 10,
            max_unpacked_bytes: 1_000_000,
        };
        let zeros = vec![0u8; 5_000_000];
        let bomb = zip_of(&[("xl/workbook.xml", b"<x/>"), ("xl/worksheets/sheet1.xml", &zeros)]);
        assert!(bomb.len() < 100_000, "compressed to {}", bomb.len());
        assert!(guard(&bomb, limits).is_err());
        let fine = zip_of(&[("xl/workbook.xml", b"<x/>")]);
        assert!(guard(&fine, limits).is_ok());
        assert_eq!(kind(&fine).ok(), Some(FileFormat::Xlsx));
        let ods = zip_of(&[("mimetype", ODS_MEDIA_TYPE.as_bytes())]);
        assert_eq!(kind(&ods).ok(), Some(FileFormat::Ods));
        assert!(kind(&zip_of(&[("word/document.xml", b"<x/>")])).is_err());
        assert!(kind(b"PK\x03\x04garbage").is_err());
    }
}
