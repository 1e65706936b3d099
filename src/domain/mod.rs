//! Types and rules of the domain, with no HTTP and no SQL in them.

pub mod audit;
pub mod change;
pub mod country;
pub mod dates;
pub mod disclosure;
pub mod import;
pub mod interception;
pub mod metric;
pub mod operation;
pub mod page;
pub mod reporting;
pub mod stated;
pub mod tally;
pub mod text;
pub mod totals;
pub mod unit;
pub mod version;
