//! What is kept of an import: the file, who sent it, and what became of its rows.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{FileFormat, RowError};

/// Most row problems kept and answered for one import; the count says how many there were.
pub const MAX_KEPT_ERRORS: usize = 10_000;

/// How many rows did what.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ImportCounts {
    /// Stored for the first time (in a dry run: would be).
    pub created: usize,
    /// Stored as a new version (in a dry run: would be).
    pub updated: usize,
    /// Already stored with the same content.
    pub unchanged: usize,
    /// Refused: see `errors`.
    pub rejected: usize,
}

/// One import as kept in the history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportRecord {
    /// The import's id.
    pub id: i64,
    /// The operation.
    pub operation_id: String,
    /// The country the file reported for.
    pub country: String,
    /// When it was received.
    pub created_at: DateTime<Utc>,
    /// `sub` of the token that sent it.
    pub created_by: String,
    /// The file's name as sent.
    pub file_name: String,
    /// What the file was.
    pub format: FileFormat,
    /// The text encoding of a CSV file when it was not UTF-8 (`windows-1252`).
    pub encoding: Option<String>,
    /// The file's size in bytes.
    pub size_bytes: i64,
    /// SHA-256 (hex) of the file.
    pub sha256: String,
    /// Whether it was all or nothing.
    pub atomic: bool,
    /// Whether anything of it was stored (`false`: an atomic import with a bad row).
    pub stored: bool,
    /// Rows read under the header, the example row left out.
    pub rows: usize,
    /// How many rows did what.
    pub summary: ImportCounts,
    /// Rows left out because they were the template's example.
    pub skipped: usize,
    /// How many row problems were found (at most 10,000 are listed).
    pub error_count: usize,
    /// Every problem of every row (absent in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<RowError>>,
}
